import MuseJinja

/// Python's literal syntax for the values `str(dict)` and `str(list)` print: dicts, lists,
/// tuples, quoted strings, numbers, `True`, `False`, `None`.
enum PythonLiteral {
  static func parse(_ text: String) -> JinjaValue? {
    var scalars = Array(text.unicodeScalars)[...]
    guard let value = value(&scalars) else { return nil }
    skipSpace(&scalars)
    return scalars.isEmpty ? value : nil
  }

  static func skipSpace(_ s: inout ArraySlice<Unicode.Scalar>) {
    while let c = s.first, c == " " || c == "\n" || c == "\t" { s.removeFirst() }
  }

  static func value(_ s: inout ArraySlice<Unicode.Scalar>, depth: Int = 0) -> JinjaValue? {
    skipSpace(&s)
    guard depth < 64, let c = s.first else { return nil }
    switch c {
    case "{":
      s.removeFirst()
      var dict = JinjaDict()
      while true {
        skipSpace(&s)
        if s.first == "}" {
          s.removeFirst()
          return .dict(dict)
        }
        guard case .string(let key)? = value(&s, depth: depth + 1) else { return nil }
        skipSpace(&s)
        guard s.popFirst() == ":", let v = value(&s, depth: depth + 1) else { return nil }
        dict[key] = v
        skipSpace(&s)
        if s.first == "," { s.removeFirst() } else if s.first != "}" { return nil }
      }
    case "[", "(":
      let close: Unicode.Scalar = c == "[" ? "]" : ")"
      s.removeFirst()
      var items: [JinjaValue] = []
      while true {
        skipSpace(&s)
        if s.first == close {
          s.removeFirst()
          return .array(items)
        }
        guard let v = value(&s, depth: depth + 1) else { return nil }
        items.append(v)
        skipSpace(&s)
        if s.first == "," { s.removeFirst() } else if s.first != close { return nil }
      }
    case "'", "\"":
      s.removeFirst()
      var out = ""
      while let d = s.popFirst() {
        if d == c { return .string(out) }
        if d == "\\" {
          guard let e = s.popFirst() else { return nil }
          switch e {
          case "n": out += "\n"
          case "t": out += "\t"
          case "r": out += "\r"
          default: out.unicodeScalars.append(e)
          }
        } else {
          out.unicodeScalars.append(d)
        }
      }
      return nil
    default:
      var word = ""
      while let d = s.first,
        d.properties.isAlphabetic || ("0"..."9").contains(d) || "+-.".unicodeScalars.contains(d)
      {
        word.unicodeScalars.append(d)
        s.removeFirst()
      }
      switch word {
      case "True", "true": return .bool(true)
      case "False", "false": return .bool(false)
      case "None", "null": return JinjaValue.none
      default:
        if let i = Int(word) { return .int(i) }
        if let d = Double(word), d.isFinite { return .float(d) }
        return nil
      }
    }
  }
}
