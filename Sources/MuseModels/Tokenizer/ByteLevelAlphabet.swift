/// GPT-2's reversible map from the 256 byte values to printable Unicode characters
/// (openai/gpt-2 `encoder.py` `bytes_to_unicode`): printable Latin-1 bytes ("!"…"~", "¡"…"¬",
/// "®"…"ÿ") stand for themselves; the other 68 (space, controls, …) become U+0100 + n in byte
/// order, so a space is "Ġ" and a newline "Ċ". Byte-level BPE vocabularies are written in it.
enum ByteLevelAlphabet {
  /// `scalar[b]` is the character byte `b` is written as.
  static let scalars: [Unicode.Scalar] = {
    var table = [Unicode.Scalar](repeating: " ", count: 256)
    var shifted: UInt32 = 0
    for b in 0..<256 {
      if (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b) {
        table[b] = Unicode.Scalar(UInt32(b))!
      } else {
        table[b] = Unicode.Scalar(0x100 + shifted)!
        shifted += 1
      }
    }
    return table
  }()

  /// The inverse: scalar value → byte, for scalars below 0x144 (the largest one used).
  static let bytes: [Int16] = {
    var table = [Int16](repeating: -1, count: 0x144)
    for (b, s) in scalars.enumerated() { table[Int(s.value)] = Int16(b) }
    return table
  }()

  /// The byte-level spelling of raw bytes, e.g. [0x20, 0x61] → "Ġa".
  static func encode<C: Collection>(_ raw: C) -> String where C.Element == UInt8 {
    var s = String.UnicodeScalarView()
    for b in raw { s.append(scalars[Int(b)]) }
    return String(s)
  }

  /// The raw bytes of a byte-level token. A character outside the alphabet (a token some
  /// converter wrote as plain text) stands for its own UTF-8 bytes.
  static func decode(_ text: String) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(text.utf8.count)
    for s in text.unicodeScalars {
      if s.value < 0x144, bytes[Int(s.value)] >= 0 {
        out.append(UInt8(bytes[Int(s.value)]))
      } else {
        out.append(contentsOf: String(s).utf8)
      }
    }
    return out
  }
}
