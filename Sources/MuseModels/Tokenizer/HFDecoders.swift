/// A `tokenizer.json` decoder (HF `tokenizers` `decoders`) as Muse decodes: token by token into
/// bytes, plus whether the first token's leading space is dropped. Each step rewrites one
/// token's bytes; `Fuse` (joining tokens) changes nothing here since tokens are concatenated
/// anyway, and `Strip` of one leading space is the prefix-space rule.
struct HFTokenDecoder: TokenDecoder {
  enum Step: Sendable {
    case byteLevel
    case replace(pattern: [UInt8], content: [UInt8])
    case byteFallback
    /// "##" continuations lose their prefix, other tokens get a space before them.
    case wordPiece(prefix: [UInt8])
  }
  let steps: [Step]
  let stripsPrefixSpace: Bool

  func bytes(of token: String, type: TokenType) -> [UInt8] {
    if type.isSpecial { return Array(token.utf8) }
    var bytes = Array(token.utf8)
    for step in steps {
      switch step {
      case .byteLevel:
        bytes = ByteLevelAlphabet.decode(String(decoding: bytes, as: UTF8.self))
      case .replace(let pattern, let content):
        bytes = Self.replace(pattern, with: content, in: bytes)
      case .byteFallback:
        if let b = SentencePieceDecoder.byteValue(String(decoding: bytes, as: UTF8.self)) { bytes = [b] }
      case .wordPiece(let prefix):
        if bytes.starts(with: prefix) { bytes.removeFirst(prefix.count) } else { bytes.insert(0x20, at: 0) }
      }
    }
    return bytes
  }

  private static func replace(_ pattern: [UInt8], with content: [UInt8], in bytes: [UInt8]) -> [UInt8] {
    guard !pattern.isEmpty, bytes.count >= pattern.count else { return bytes }
    var out: [UInt8] = []
    var i = 0
    while i < bytes.count {
      if i + pattern.count <= bytes.count && bytes[i..<(i + pattern.count)].elementsEqual(pattern) {
        out.append(contentsOf: content)
        i += pattern.count
      } else {
        out.append(bytes[i])
        i += 1
      }
    }
    return out
  }
}

/// The special tokens a post-processor puts around a single sequence (`TemplateProcessing`'s
/// `single`, `BertProcessing`'s cls/sep, `RobertaProcessing`'s bos/eos); `ByteLevel` adds none.
struct HFPostProcessor: Sendable {
  var prefix: [Int] = []
  var suffix: [Int] = []
}
