import Foundation

/// Python's `repr(float)`: the shortest digits that round-trip (as Swift's `description`), but
/// laid out the way Python does, fixed notation for 1e-4 <= |x| < 1e16 and exponent otherwise.
enum PythonFloat {
  static func repr(_ d: Double) -> String {
    if d.isNaN { return "nan" }
    if d.isInfinite { return d < 0 ? "-inf" : "inf" }
    if d == 0 { return d.sign == .minus ? "-0.0" : "0.0" }
    // Swift gives shortest round-trip digits; split them into sign, digits and exponent.
    var text = d.magnitude.description
    var exponent = 0
    if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
      exponent = Int(text[text.index(after: e)...])!
      text = String(text[..<e])
    }
    let parts = text.split(separator: ".", omittingEmptySubsequences: false)
    let whole = String(parts[0])
    let fraction = parts.count > 1 ? String(parts[1]) : ""
    var digits = whole + fraction
    exponent += whole.count - 1
    let leadingZeros = digits.prefix { $0 == "0" }.count
    digits.removeFirst(leadingZeros)
    exponent -= leadingZeros
    while digits.count > 1 && digits.hasSuffix("0") { digits.removeLast() }
    let sign = d < 0 ? "-" : ""
    if exponent < -4 || exponent >= 16 {
      let mantissa = digits.count == 1 ? digits : digits.prefix(1) + "." + digits.dropFirst()
      let exp = exponent < 0 ? "-" + pad2(-exponent) : "+" + pad2(exponent)
      return sign + mantissa + "e" + exp
    }
    if exponent < 0 {
      return sign + "0." + String(repeating: "0", count: -exponent - 1) + digits
    }
    if digits.count <= exponent + 1 {
      return sign + digits + String(repeating: "0", count: exponent + 1 - digits.count) + ".0"
    }
    return sign + digits.prefix(exponent + 1) + "." + digits.dropFirst(exponent + 1)
  }

  private static func pad2(_ n: Int) -> String { n < 10 ? "0\(n)" : String(n) }
}

/// Python string semantics that differ from Swift's: indices count code points, `strip()`
/// strips Unicode whitespace, `repr` picks its quote.
enum PythonString {
  static func repr(_ s: String) -> String {
    let quote: Character = s.contains("'") && !s.contains("\"") ? "\"" : "'"
    var out = String(quote)
    for scalar in s.unicodeScalars {
      switch scalar {
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      default:
        if Character(scalar) == quote {
          out += "\\" + String(quote)
        } else if scalar.value < 0x20 || scalar.value == 0x7f {
          out += String(format: "\\x%02x", scalar.value)
        } else {
          out.unicodeScalars.append(scalar)
        }
      }
    }
    out.append(quote)
    return out
  }

  /// Python's `str.isspace` for one code point.
  static func isSpace(_ c: Unicode.Scalar) -> Bool {
    switch c.value {
    case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0: return true
    default: return c.value > 0x7f && c.properties.isWhitespace
    }
  }

  static func strip(_ s: String, _ chars: String?, leading: Bool, trailing: Bool) -> String {
    let set = chars.map { Set($0.unicodeScalars) }
    let strips: (Unicode.Scalar) -> Bool = { set?.contains($0) ?? isSpace($0) }
    var scalars = Substring(s).unicodeScalars[...]
    if leading { while let f = scalars.first, strips(f) { scalars.removeFirst() } }
    if trailing { while let l = scalars.last, strips(l) { scalars.removeLast() } }
    return String(String.UnicodeScalarView(scalars))
  }

  /// `str.split(sep, maxsplit)`; without a separator, runs of whitespace split and ends are dropped.
  static func split(_ s: String, _ sep: String?, maxSplit: Int) -> [String] {
    guard let sep else {
      var parts: [String] = []
      var current = String.UnicodeScalarView()
      var scalars = Array(s.unicodeScalars)[...]
      while let c = scalars.first {
        if isSpace(c) {
          if !current.isEmpty {
            parts.append(String(current))
            current = String.UnicodeScalarView()
            if maxSplit >= 0 && parts.count == maxSplit {
              while let f = scalars.first, isSpace(f) { scalars.removeFirst() }
              if !scalars.isEmpty { parts.append(String(String.UnicodeScalarView(scalars))) }
              return parts
            }
          }
        } else {
          current.append(c)
        }
        scalars.removeFirst()
      }
      if !current.isEmpty { parts.append(String(current)) }
      return parts
    }
    return splitScalars(Array(s.unicodeScalars), Array(sep.unicodeScalars), maxSplit: maxSplit)
  }

  static func rsplit(_ s: String, _ sep: String?, maxSplit: Int) -> [String] {
    if maxSplit < 0 { return split(s, sep, maxSplit: -1) }
    let reversed = String(String.UnicodeScalarView(s.unicodeScalars.reversed()))
    let reversedSep = sep.map { String(String.UnicodeScalarView($0.unicodeScalars.reversed())) }
    return split(reversed, reversedSep, maxSplit: maxSplit).reversed().map {
      String(String.UnicodeScalarView($0.unicodeScalars.reversed()))
    }
  }

  private static func splitScalars(_ s: [Unicode.Scalar], _ sep: [Unicode.Scalar], maxSplit: Int) -> [String]
  {
    var parts: [String] = []
    var start = 0
    var i = 0
    while i + sep.count <= s.count && (maxSplit < 0 || parts.count < maxSplit) {
      if Array(s[i..<i + sep.count]) == sep {
        parts.append(String(String.UnicodeScalarView(s[start..<i])))
        i += sep.count
        start = i
      } else {
        i += 1
      }
    }
    parts.append(String(String.UnicodeScalarView(s[start...])))
    return parts
  }

  /// `str.find`: the code-point offset of the first occurrence, or -1.
  static func find(_ s: String, _ sub: String, reverse: Bool = false) -> Int {
    let h = Array(s.unicodeScalars)
    let n = Array(sub.unicodeScalars)
    guard n.count <= h.count else { return -1 }
    let starts = Array(0...(h.count - n.count))
    for i in reverse ? starts.reversed() : starts where Array(h[i..<i + n.count]) == n { return i }
    return -1
  }

  static func count(_ s: String, _ sub: String) -> Int {
    if sub.isEmpty { return s.unicodeScalars.count + 1 }
    return splitScalars(Array(s.unicodeScalars), Array(sub.unicodeScalars), maxSplit: -1).count - 1
  }

  static func replace(_ s: String, _ old: String, _ new: String, count: Int) -> String {
    if old.isEmpty {
      var out = new
      var n = 1
      for c in s.unicodeScalars {
        out.unicodeScalars.append(c)
        if count < 0 || n < count {
          out += new
          n += 1
        }
      }
      return out
    }
    return splitScalars(Array(s.unicodeScalars), Array(old.unicodeScalars), maxSplit: count)
      .joined(separator: new)
  }

  static func capitalize(_ s: String) -> String {
    guard let first = s.unicodeScalars.first else { return s }
    return String(first).uppercased()
      + String(String.UnicodeScalarView(s.unicodeScalars.dropFirst())).lowercased()
  }

  /// Python's `str.title`: a letter after a non-letter starts a word.
  static func title(_ s: String) -> String {
    var out = ""
    var previousCased = false
    for c in s.unicodeScalars {
      let letter = c.properties.isAlphabetic
      out += previousCased ? String(c).lowercased() : String(c).uppercased()
      previousCased = letter
    }
    return out
  }

  /// `str.splitlines()` (without keepends).
  static func splitLines(_ s: String) -> [String] {
    var lines: [String] = []
    var current = String.UnicodeScalarView()
    var scalars = Array(s.unicodeScalars)[...]
    while let c = scalars.popFirst() {
      switch c.value {
      case 0x0A, 0x0B, 0x0C, 0x1C, 0x1D, 0x1E, 0x85, 0x2028, 0x2029:
        lines.append(String(current))
        current = String.UnicodeScalarView()
      case 0x0D:
        lines.append(String(current))
        current = String.UnicodeScalarView()
        if scalars.first == "\n" { scalars.removeFirst() }
      default:
        current.append(c)
      }
    }
    if !current.isEmpty { lines.append(String(current)) }
    return lines
  }

  static func scalars(_ s: String) -> [JinjaValue] { s.unicodeScalars.map { .string(String($0)) } }

  /// Python's `<` on strings: code point order.
  static func less(_ a: String, _ b: String) -> Bool {
    a.unicodeScalars.lexicographicallyPrecedes(b.unicodeScalars)
  }
}
