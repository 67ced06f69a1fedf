import Foundation

/// Arithmetic, concatenation and comparison with Python's rules and Python's error messages
/// (templates are tested against jinja2, so a failing `"a" + 1` must fail the same way).
enum JinjaOperators {
  static func binary(_ op: String, _ l: JinjaValue, _ r: JinjaValue) throws -> JinjaValue {
    if op == "~" { return .string(l.stringValue + r.stringValue) }
    if case .undefined(let m) = l { throw JinjaError(.undefined, m) }
    if case .undefined(let m) = r { throw JinjaError(.undefined, m) }
    switch (op, l, r) {
    // Markup + str escapes the str (markupsafe's __add__/__radd__).
    case ("+", .markup(let a), .string(let b)): return .markup(a + JinjaFilters.escape(b))
    case ("+", .string(let a), .markup(let b)): return .markup(JinjaFilters.escape(a) + b)
    case ("+", .markup(let a), .markup(let b)): return .markup(a + b)
    case ("+", .string(let a), .string(let b)): return .string(a + b)
    case ("+", .array(let a), .array(let b)): return .array(a + b)
    case ("+", .tuple(let a), .tuple(let b)): return .tuple(a + b)
    case ("+", .string, _):
      throw JinjaError(.type, "can only concatenate str (not \"\(r.pythonTypeName)\") to str")
    case ("+", .array, _):
      throw JinjaError(.type, "can only concatenate list (not \"\(r.pythonTypeName)\") to list")
    case ("*", .string(let s), _) where r.integer != nil:
      return .string(String(repeating: s, count: max(0, r.integer!)))
    case ("*", _, .string(let s)) where l.integer != nil:
      return .string(String(repeating: s, count: max(0, l.integer!)))
    case ("*", .array(let a), _) where r.integer != nil:
      return .array(Array((0..<max(0, r.integer!)).map { _ in a }.joined()))
    case ("%", .string(let format), _): return .string(try percentFormat(format, r))
    default: break
    }
    guard let a = l.numeric, let b = r.numeric else {
      throw JinjaError(
        .type, "unsupported operand type(s) for \(op): '\(l.pythonTypeName)' and '\(r.pythonTypeName)'")
    }
    if let x = l.integer, let y = r.integer {
      switch op {
      case "+": return .int(x &+ y)
      case "-": return .int(x &- y)
      case "*": return .int(x &* y)
      case "/":
        guard y != 0 else { throw JinjaError(.value, "division by zero") }
        return .float(Double(x) / Double(y))
      case "//", "%":
        guard y != 0 else { throw JinjaError(.value, "integer division or modulo by zero") }
        var q = x / y
        if (x % y != 0) && ((x < 0) != (y < 0)) { q -= 1 }
        return .int(op == "//" ? q : x - q * y)
      case "**":
        if y >= 0 {
          var result = 1
          for _ in 0..<y { result = result &* x }
          return .int(result)
        }
        return .float(pow(Double(x), Double(y)))
      default: break
      }
    }
    switch op {
    case "+": return .float(a + b)
    case "-": return .float(a - b)
    case "*": return .float(a * b)
    case "/":
      guard b != 0 else { throw JinjaError(.value, "float division by zero") }
      return .float(a / b)
    case "//":
      guard b != 0 else { throw JinjaError(.value, "float floor division by zero") }
      return .float((a / b).rounded(.down))
    case "%":
      guard b != 0 else { throw JinjaError(.value, "float modulo") }
      let m = fmod(a, b)
      return .float(m != 0 && (m < 0) != (b < 0) ? m + b : m)
    case "**": return .float(pow(a, b))
    default: throw JinjaError(.syntax, "unknown operator \(op)")
    }
  }

  static func compare(_ op: String, _ l: JinjaValue, _ r: JinjaValue) throws -> Bool {
    switch op {
    case "==": return l.pythonEquals(r)
    case "!=": return !l.pythonEquals(r)
    case "in": return try contains(r, l)
    case "not in": return try !contains(r, l)
    default: break
    }
    if case .undefined(let m) = l { throw JinjaError(.undefined, m) }
    if case .undefined(let m) = r { throw JinjaError(.undefined, m) }
    let order = try ordering(l, r, op)
    switch op {
    case "<": return order < 0
    case ">": return order > 0
    case "<=": return order <= 0
    default: return order >= 0
    }
  }

  /// -1, 0 or 1 for values Python can order; a TypeError otherwise.
  static func ordering(_ l: JinjaValue, _ r: JinjaValue, _ op: String = "<") throws -> Int {
    if let a = l.numeric, let b = r.numeric { return a < b ? -1 : a > b ? 1 : 0 }
    switch (l.plain, r.plain) {
    case (.string(let a), .string(let b)):
      return PythonString.less(a, b) ? -1 : PythonString.less(b, a) ? 1 : 0
    case (.array(let a), .array(let b)), (.tuple(let a), .tuple(let b)):
      for (x, y) in zip(a, b) where !x.pythonEquals(y) { return try ordering(x, y, op) }
      return a.count < b.count ? -1 : a.count > b.count ? 1 : 0
    default:
      throw JinjaError(
        .type,
        "'\(op)' not supported between instances of '\(l.pythonTypeName)' and '\(r.pythonTypeName)'")
    }
  }

  /// Python's `item in container`.
  static func contains(_ container: JinjaValue, _ item: JinjaValue) throws -> Bool {
    switch container.plain {
    case .string(let s):
      guard case .string(let sub) = item.plain else {
        throw JinjaError(.type, "'in <string>' requires string as left operand, not \(item.pythonTypeName)")
      }
      return sub.isEmpty || PythonString.find(s, sub) >= 0
    case .array(let a), .tuple(let a), .generator(let a): return a.contains { $0.pythonEquals(item) }
    case .dict(let d):
      return d[item] != nil
    case .undefined: return false
    default: throw JinjaError(.type, "argument of type '\(container.pythonTypeName)' is not iterable")
    }
  }

  /// printf-style `"%s" % x` (old-style formatting), for the few templates that use it.
  static func percentFormat(_ format: String, _ argument: JinjaValue) throws -> String {
    var values: [JinjaValue]
    if case .tuple(let t) = argument { values = t } else { values = [argument] }
    var out = ""
    var chars = Array(format)[...]
    while let c = chars.popFirst() {
      guard c == "%", let spec = chars.popFirst() else {
        out.append(c)
        continue
      }
      if spec == "%" {
        out += "%"
        continue
      }
      guard !values.isEmpty else { throw JinjaError(.type, "not enough arguments for format string") }
      let v = values.removeFirst()
      switch spec {
      case "d", "i": out += String(v.integer ?? Int(v.numeric ?? 0))
      case "r": out += v.repr
      default: out += v.stringValue
      }
    }
    return out
  }
}
