/// Detokenizes a stream of ids one at a time, returning only complete UTF-8 text: bytes of a
/// character split across tokens (byte tokens, byte-level BPE pieces of an emoji) are held back
/// until the character is whole. The concatenated output equals `Tokenizer.decode` of all ids.
public struct StreamingDecoder {
  private let tokenizer: Tokenizer
  private var pending: [UInt8] = []
  private var firstContent = true

  public init(tokenizer: Tokenizer) { self.tokenizer = tokenizer }

  public mutating func append(_ id: Int) -> String {
    let piece = tokenizer.tokenBytes(id)
    if firstContent && id == tokenizer.bosToken {
      pending.append(contentsOf: piece)
    } else {
      let strip = tokenizer.stripsPrefixSpace(of: id, isFirstContent: firstContent)
      pending.append(contentsOf: strip ? piece.dropFirst() : piece[...])
      firstContent = false
    }
    let cut = Self.completePrefixLength(pending)
    guard cut > 0 else { return "" }
    let text = String(decoding: pending[..<cut], as: UTF8.self)
    pending.removeFirst(cut)
    return text
  }

  /// Whatever is held back, with an unfinished character as U+FFFD.
  public mutating func flush() -> String {
    defer { pending.removeAll() }
    return String(decoding: pending, as: UTF8.self)
  }

  /// The length of the longest prefix that does not end inside a character that more bytes
  /// could still complete.
  static func completePrefixLength(_ bytes: [UInt8]) -> Int {
    let n = bytes.count
    // A character is at most 4 bytes: look back at most 3 for its lead byte.
    var i = n - 1
    while i >= 0 && i >= n - 4 {
      let b = bytes[i]
      if b & 0xC0 != 0x80 {
        let need: Int
        switch b {
        case 0xC0...0xDF: need = 2
        case 0xE0...0xEF: need = 3
        case 0xF0...0xF7: need = 4
        default: need = 1
        }
        return n - i < need ? i : n
      }
      i -= 1
    }
    return n
  }
}
