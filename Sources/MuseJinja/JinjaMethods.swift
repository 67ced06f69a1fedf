import Foundation

/// Python methods templates call on values (`content.strip()`, `message.get('x')`). Mutating
/// list and dict methods exist but are refused, as transformers' ImmutableSandboxedEnvironment
/// refuses them: looking one up gives an undefined that raises jinja2's SecurityError if called.
enum JinjaMethods {
  typealias Method = (JinjaArguments) throws -> JinjaValue

  private static let unsafeList: Set = [
    "append", "clear", "pop", "reverse", "insert", "sort", "extend", "remove",
  ]
  private static let unsafeDict: Set = ["clear", "pop", "popitem", "setdefault", "update"]

  static func method(_ object: JinjaValue, _ name: String) throws -> JinjaValue? {
    let found: Method?
    switch object.plain {
    case .string(let s): found = stringMethod(s, name)
    case .array(let a):
      if unsafeList.contains(name) { return unsafe(name, object) }
      found = listMethod(a, name)
    case .dict(let d):
      if unsafeDict.contains(name) { return unsafe(name, object) }
      found = dictMethod(d, name)
    default: found = nil
    }
    return found.map { .function(JinjaFunction(name: name, body: $0)) }
  }

  private static func unsafe(_ name: String, _ object: JinjaValue) -> JinjaValue {
    .undefined("access to attribute '\(name)' of '\(object.pythonTypeName)' object is unsafe.")
  }

  private static func string(_ args: JinjaArguments, _ i: Int, _ name: String) -> String? {
    guard let v = args.value(i, name), !v.isNone else { return nil }
    return v.stringValue
  }

  private static func int(_ args: JinjaArguments, _ i: Int, _ name: String, _ fallback: Int) -> Int {
    args.value(i, name)?.integer ?? fallback
  }

  private static func stringMethod(_ s: String, _ name: String) -> Method? {
    switch name {
    case "strip", "lstrip", "rstrip":
      return { args in
        .string(
          PythonString.strip(
            s, string(args, 0, "chars"), leading: name != "rstrip", trailing: name != "lstrip"))
      }
    case "split", "rsplit":
      return { args in
        let sep = string(args, 0, "sep")
        if sep == "" { throw JinjaError(.value, "empty separator") }
        let maxSplit = int(args, 1, "maxsplit", -1)
        let parts =
          name == "split"
          ? PythonString.split(s, sep, maxSplit: maxSplit) : PythonString.rsplit(s, sep, maxSplit: maxSplit)
        return .array(parts.map { .string($0) })
      }
    case "startswith", "endswith":
      return { args in
        let candidates: [JinjaValue]
        switch args.value(0, "prefix") {
        case .tuple(let t)?: candidates = t
        case .string(let p)?: candidates = [.string(p)]
        case let other?:
          throw JinjaError(
            .type, "\(name) first arg must be str or a tuple of str, not \(other.pythonTypeName)")
        case nil: throw JinjaError(.type, "\(name)() takes at least 1 argument (0 given)")
        }
        let scalars = Array(s.unicodeScalars)
        return .bool(
          candidates.contains { c in
            let p = Array(c.stringValue.unicodeScalars)
            return p.count <= scalars.count
              && (name == "startswith"
                ? Array(scalars.prefix(p.count)) == p : Array(scalars.suffix(p.count)) == p)
          })
      }
    case "upper": return { _ in .string(s.uppercased()) }
    case "lower": return { _ in .string(s.lowercased()) }
    case "title": return { _ in .string(PythonString.title(s)) }
    case "capitalize": return { _ in .string(PythonString.capitalize(s)) }
    case "replace":
      return { args in
        .string(
          PythonString.replace(
            s, string(args, 0, "old") ?? "", string(args, 1, "new") ?? "", count: int(args, 2, "count", -1)))
      }
    case "find", "rfind", "index", "rindex":
      return { args in
        let i = PythonString.find(s, string(args, 0, "sub") ?? "", reverse: name.hasPrefix("r"))
        if i < 0 && name.hasSuffix("index") { throw JinjaError(.value, "substring not found") }
        return .int(i)
      }
    case "count": return { args in .int(PythonString.count(s, string(args, 0, "sub") ?? "")) }
    case "join":
      return { args in
        let items = try args.value(0, "iterable").map(iterateForJoin) ?? []
        return .string(items.joined(separator: s))
      }
    case "splitlines": return { _ in .array(PythonString.splitLines(s).map { .string($0) }) }
    case "format": return { args in .string(try format(s, args)) }
    case "isdigit", "isnumeric", "isdecimal":
      return { _ in .bool(!s.isEmpty && s.unicodeScalars.allSatisfy { $0.properties.numericType != nil }) }
    case "isalpha":
      return { _ in .bool(!s.isEmpty && s.unicodeScalars.allSatisfy { $0.properties.isAlphabetic }) }
    case "isalnum":
      return { _ in
        .bool(
          !s.isEmpty
            && s.unicodeScalars.allSatisfy { $0.properties.isAlphabetic || $0.properties.numericType != nil })
      }
    case "isspace": return { _ in .bool(!s.isEmpty && s.unicodeScalars.allSatisfy(PythonString.isSpace)) }
    case "islower": return { _ in .bool(s.lowercased() == s && s.uppercased() != s) }
    case "isupper": return { _ in .bool(s.uppercased() == s && s.lowercased() != s) }
    default: return nil
    }
  }

  private static func iterateForJoin(_ v: JinjaValue) throws -> [String] {
    switch v {
    case .array(let a), .tuple(let a), .generator(let a):
      return try a.map {
        guard case .string(let s) = $0 else {
          throw JinjaError(.type, "sequence item 0: expected str instance, \($0.pythonTypeName) found")
        }
        return s
      }
    case .string(let s): return s.unicodeScalars.map { String($0) }
    case .dict(let d): return d.stringKeys
    default: throw JinjaError(.type, "can only join an iterable")
    }
  }

  /// `str.format` with `{}`, `{0}` and `{name}` fields (no format specs beyond plain `:`).
  private static func format(_ s: String, _ args: JinjaArguments) throws -> String {
    var out = ""
    var auto = 0
    var chars = Array(s)[...]
    while let c = chars.popFirst() {
      if c == "{" && chars.first == "{" || c == "}" && chars.first == "}" {
        chars.removeFirst()
        out.append(c)
        continue
      }
      guard c == "{" else {
        out.append(c)
        continue
      }
      var field = ""
      while let f = chars.popFirst(), f != "}" { field.append(f) }
      let key = field.split(separator: ":", maxSplits: 1).first.map(String.init) ?? ""
      let value: JinjaValue?
      if key.isEmpty {
        value = auto < args.positional.count ? args.positional[auto] : nil
        auto += 1
      } else if let i = Int(key) {
        value = i < args.positional.count ? args.positional[i] : nil
      } else {
        value = args.keyword.first { $0.0 == key }?.1
      }
      guard let value else { throw JinjaError(.value, "Replacement index \(key) out of range") }
      out += value.stringValue
    }
    return out
  }

  private static func listMethod(_ a: [JinjaValue], _ name: String) -> Method? {
    switch name {
    case "index":
      return { args in
        let item = args.value(0, "value") ?? JinjaValue.none
        guard let i = a.firstIndex(where: { $0.pythonEquals(item) }) else {
          throw JinjaError(.value, "\(item.repr) is not in list")
        }
        return .int(i)
      }
    case "count":
      return { args in
        let item = args.value(0, "value") ?? JinjaValue.none
        return .int(a.filter { $0.pythonEquals(item) }.count)
      }
    case "copy": return { _ in .array(a) }
    default: return nil
    }
  }

  private static func dictMethod(_ d: JinjaDict, _ name: String) -> Method? {
    switch name {
    case "get":
      return { args in
        return d[args.value(0, "key") ?? JinjaValue.none] ?? args.value(1, "default") ?? JinjaValue.none
      }
    case "items": return { _ in .array(d.map { .tuple([$0.key, $0.value]) }) }
    case "keys": return { _ in .array(d.keys) }
    case "values": return { _ in .array(d.map { $0.value }) }
    case "copy": return { _ in .dict(d) }
    default: return nil
    }
  }
}
