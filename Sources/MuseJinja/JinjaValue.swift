import Foundation

/// A value as a Jinja template sees it. The cases mirror the Python types chat templates are
/// written against (transformers hands them plain JSON data), so that printing, comparison and
/// truthiness can follow Python exactly: `None` prints "None", `1.0` prints "1.0", `[]` is false.
public enum JinjaValue: Sendable {
  /// jinja2's default `Undefined`; the message is what an operation that needs a real value
  /// raises (e.g. "'dict object' has no attribute 'x'").
  case undefined(String)
  case none
  case bool(Bool)
  case int(Int)
  case float(Double)
  case string(String)
  /// A string marked safe (`|safe`; markupsafe's Markup): adding a plain string to it
  /// HTML-escapes that string, as jinja2 does even with autoescape off. Otherwise a string.
  case markup(String)
  case array([JinjaValue])
  case tuple([JinjaValue])
  case dict(JinjaDict)
  /// The lazy result of `map`/`select`/…: iterable once in Python, so not JSON-serialisable and
  /// without a length. Kept distinct because templates that forget `| list` fail in jinja2 too.
  case generator([JinjaValue])
  case namespace(JinjaNamespace)
  case function(JinjaFunction)

  /// An undefined variable, as jinja2 reports it.
  public static func undefinedName(_ name: String) -> JinjaValue { .undefined("'\(name)' is undefined") }

  public var isUndefined: Bool {
    if case .undefined = self { return true }
    return false
  }

  public var isNone: Bool {
    if case .none = self { return true }
    return false
  }

  /// Python truthiness.
  public var isTruthy: Bool {
    switch self {
    case .undefined, .none: false
    case .bool(let b): b
    case .int(let i): i != 0
    case .float(let d): d != 0
    case .string(let s), .markup(let s): !s.isEmpty
    case .array(let a), .tuple(let a): !a.isEmpty
    case .dict(let d): !d.isEmpty
    case .generator, .namespace, .function: true
    }
  }

  /// Python's `type(x).__name__`, used in the messages of TypeErrors.
  public var pythonTypeName: String {
    switch self {
    case .undefined: "Undefined"
    case .none: "NoneType"
    case .bool: "bool"
    case .int: "int"
    case .float: "float"
    case .string: "str"
    case .markup: "Markup"
    case .array: "list"
    case .tuple: "tuple"
    case .dict: "dict"
    case .generator: "generator"
    case .namespace: "Namespace"
    case .function: "function"
    }
  }

  /// jinja2's `object_type_repr`, used in the messages of undefined attributes.
  var objectTypeRepr: String {
    switch self {
    case .none: "None"
    case .namespace: "jinja2.utils.Namespace object"
    case .markup: "markupsafe.Markup object"
    default: "\(pythonTypeName) object"
    }
  }

  /// The string form (`str(x)` in Python); undefined prints as nothing.
  public var stringValue: String {
    switch self {
    case .undefined: ""
    case .string(let s), .markup(let s): s
    default: repr
    }
  }

  /// Python's `repr(x)`, which is how lists and dicts print (`{'a': 1}`).
  public var repr: String {
    switch self {
    case .undefined: ""
    case .none: "None"
    case .bool(let b): b ? "True" : "False"
    case .int(let i): String(i)
    case .float(let d): PythonFloat.repr(d)
    case .string(let s): PythonString.repr(s)
    case .markup(let s): "Markup(\(PythonString.repr(s)))"
    case .array(let a): "[" + a.map(\.repr).joined(separator: ", ") + "]"
    case .tuple(let a): a.count == 1 ? "(\(a[0].repr),)" : "(" + a.map(\.repr).joined(separator: ", ") + ")"
    case .dict(let d):
      "{" + d.map { $0.key.repr + ": " + $0.value.repr }.joined(separator: ", ") + "}"
    case .generator: "<generator object sync_do_map at 0x0>"
    case .namespace(let ns):
      "<Namespace "
        + ns.attributes.map { "\($0.key.repr): \($0.value.repr)" }
        .joined(separator: ", ") + ">"
    case .function(let f): "<function \(f.name)>"
    }
  }

  /// Python `==`: numbers compare across int/float/bool, containers element by element.
  public func pythonEquals(_ other: JinjaValue) -> Bool {
    switch (self.plain, other.plain) {
    case (.undefined, .undefined), (.none, .none): return true
    case (.string(let a), .string(let b)): return a.unicodeScalars.elementsEqual(b.unicodeScalars)
    case (.array(let a), .array(let b)), (.tuple(let a), .tuple(let b)),
      (.generator(let a), .generator(let b)):
      return a.count == b.count && zip(a, b).allSatisfy { $0.pythonEquals($1) }
    case (.dict(let a), .dict(let b)):
      return a.count == b.count && a.allSatisfy { b[$0.key].map($0.value.pythonEquals) ?? false }
    case (.namespace(let a), .namespace(let b)): return a === b
    default:
      if let x = numeric, let y = other.numeric { return x == y }
      return false
    }
  }

  /// Markup as the plain string it is (Markup subclasses str in Python).
  var plain: JinjaValue {
    if case .markup(let s) = self { return .string(s) }
    return self
  }

  /// The number behind int, float and bool (Python's bool is an int).
  var numeric: Double? {
    switch self {
    case .bool(let b): b ? 1 : 0
    case .int(let i): Double(i)
    case .float(let d): d
    default: nil
    }
  }

  var integer: Int? {
    switch self {
    case .bool(let b): b ? 1 : 0
    case .int(let i): i
    default: nil
    }
  }
}

extension JinjaValue: Equatable {
  public static func == (lhs: JinjaValue, rhs: JinjaValue) -> Bool { lhs.pythonEquals(rhs) }
}

extension JinjaValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
  ExpressibleByFloatLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral,
  ExpressibleByNilLiteral
{
  public init(stringLiteral value: String) { self = .string(value) }
  public init(integerLiteral value: Int) { self = .int(value) }
  public init(booleanLiteral value: Bool) { self = .bool(value) }
  public init(floatLiteral value: Double) { self = .float(value) }
  public init(arrayLiteral elements: JinjaValue...) { self = .array(elements) }
  public init(nilLiteral: ()) { self = .none }
  public init(dictionaryLiteral elements: (String, JinjaValue)...) {
    var d = JinjaDict()
    for (k, v) in elements { d[k] = v }
    self = .dict(d)
  }
}

/// A Python dict: keys keep their insertion order, which `tojson`, `items()` and printing show.
/// Keys are usually strings, but templates also build dicts with int keys (`{0: 'a'}`).
public struct JinjaDict: Sendable, Sequence {
  public private(set) var keys: [JinjaValue] = []
  private var storage: [Key: JinjaValue] = [:]

  /// Python's hashing identifies 1, 1.0 and True; so does this key.
  private struct Key: Hashable {
    let text: String
    init(_ v: JinjaValue) {
      switch v {
      case .string(let s), .markup(let s): text = "s" + s
      case .float(let d) where d == d.rounded() && abs(d) < 1e18: text = "n" + String(Int(d))
      default: text = v.integer.map { "n" + String($0) } ?? "r" + v.repr
      }
    }
  }

  public init() {}

  public var count: Int { keys.count }
  public var isEmpty: Bool { keys.isEmpty }
  /// The keys as strings, for the common all-string dict.
  public var stringKeys: [String] { keys.map(\.stringValue) }

  public subscript(key: String) -> JinjaValue? {
    get { storage[Key(.string(key))] }
    set { self[.string(key)] = newValue }
  }

  public subscript(key: JinjaValue) -> JinjaValue? {
    get { storage[Key(key)] }
    set {
      let k = Key(key)
      if let newValue {
        if storage.updateValue(newValue, forKey: k) == nil { keys.append(key) }
      } else if storage.removeValue(forKey: k) != nil {
        keys.removeAll { Key($0) == k }
      }
    }
  }

  public func makeIterator() -> AnyIterator<(key: JinjaValue, value: JinjaValue)> {
    var i = 0
    return AnyIterator {
      guard i < keys.count else { return nil }
      defer { i += 1 }
      return (keys[i], storage[Key(keys[i])]!)
    }
  }
}

/// The object `namespace()` returns: the one mutable thing in a sandboxed template, so that a
/// value set inside a loop survives it (`{% set ns.found = true %}`).
public final class JinjaNamespace: @unchecked Sendable {
  public var attributes: JinjaDict
  public init(_ attributes: JinjaDict = JinjaDict()) { self.attributes = attributes }
}

/// A callable: a global (`range`, `raise_exception`), a bound method (`s.split`) or a macro.
public struct JinjaFunction: @unchecked Sendable {
  public let name: String
  let body: (JinjaArguments) throws -> JinjaValue

  public init(name: String, body: @escaping (JinjaArguments) throws -> JinjaValue) {
    self.name = name
    self.body = body
  }
}

/// Arguments of a call, as Python sees them: positional, then keyword in the order written.
public struct JinjaArguments {
  public var positional: [JinjaValue]
  public var keyword: [(String, JinjaValue)]

  public init(_ positional: [JinjaValue] = [], keyword: [(String, JinjaValue)] = []) {
    self.positional = positional
    self.keyword = keyword
  }

  /// The argument bound to a parameter, by position or by name, the way Python binds it.
  public func value(_ index: Int, _ name: String) -> JinjaValue? {
    if index >= 0 && index < positional.count { return positional[index] }
    return keyword.first { $0.0 == name }?.1
  }
}
