/// Spelling GBNF: literals and character classes, for the grammar generators (JSON Schema, regular expressions) that write GBNF and let the one parser
/// compile it.
public enum GBNFText {
  /// A GBNF string literal matching exactly `text`.
  public static func literal(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      default:
        if scalar.value < 0x20 || scalar.value == 0x7F {
          out += hexEscape(scalar.value)
        } else {
          out.unicodeScalars.append(scalar)
        }
      }
    }
    return out + "\""
  }

  /// A GBNF character class for `ranges` (none: a class nothing matches is refused earlier).
  static func characterClass(_ ranges: [ClosedRange<UInt32>]) -> String {
    var out = "["
    for r in ranges {
      out += classCharacter(r.lowerBound)
      if r.upperBound > r.lowerBound {
        if r.upperBound > r.lowerBound + 1 { out += "-" }
        out += classCharacter(r.upperBound)
      }
    }
    return out + "]"
  }

  private static func classCharacter(_ c: UInt32) -> String {
    switch c {
    case 0x5C: return "\\\\"
    case 0x5D: return "\\]"
    case 0x5B: return "\\["
    case 0x2D: return "\\-"
    case 0x5E: return "\\^"
    case 0x0A: return "\\n"
    case 0x09: return "\\t"
    case 0x0D: return "\\r"
    default:
      if c < 0x20 || c == 0x7F || (0xD800...0xDFFF).contains(c) { return hexEscape(c) }
      guard let scalar = Unicode.Scalar(c) else { return hexEscape(c) }
      return String(Character(scalar))
    }
  }

  private static func hexEscape(_ c: UInt32) -> String {
    let hex = String(c, radix: 16, uppercase: true)
    if c <= 0xFF { return "\\x" + String(repeating: "0", count: 2 - hex.count) + hex }
    if c <= 0xFFFF { return "\\u" + String(repeating: "0", count: 4 - hex.count) + hex }
    return "\\U" + String(repeating: "0", count: 8 - hex.count) + hex
  }
}
