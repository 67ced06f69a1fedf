/// Token id → the bytes it stands for (HF `decoders`, llama.cpp `token_to_piece`). Special
/// tokens (control, user-defined, unknown) stand for their text as written.
protocol TokenDecoder: Sendable {
  func bytes(of token: String, type: TokenType) -> [UInt8]
  /// Whether `decode` drops one leading space from the first token after BOS: the space the
  /// normalizer put in front of the text.
  var stripsPrefixSpace: Bool { get }
}

/// Byte-level BPE: every character of the token is one byte in GPT-2's alphabet.
struct ByteLevelDecoder: TokenDecoder {
  var stripsPrefixSpace: Bool { false }

  func bytes(of token: String, type: TokenType) -> [UInt8] {
    type.isSpecial ? Array(token.utf8) : ByteLevelAlphabet.decode(token)
  }
}

/// SentencePiece: "▁" is a space, `<0xXX>` byte tokens are that byte.
struct SentencePieceDecoder: TokenDecoder {
  let stripsPrefixSpace: Bool

  func bytes(of token: String, type: TokenType) -> [UInt8] {
    if type == .byte, let byte = Self.byteValue(token) { return [byte] }
    if type.isSpecial { return Array(token.utf8) }
    return Array(token.replacingSpaceMarks().utf8)
  }

  /// The value of "<0xXX>".
  static func byteValue(_ token: String) -> UInt8? {
    let u = Array(token.utf8)
    guard u.count == 6, u[0] == UInt8(ascii: "<"), u[1] == UInt8(ascii: "0"), u[2] == UInt8(ascii: "x"),
      u[5] == UInt8(ascii: ">")
    else { return nil }
    return UInt8(String(decoding: u[3..<5], as: UTF8.self), radix: 16)
  }
}

/// WordPiece as converted to GGUF: "▁" starts a word (a space), continuations join directly;
/// HF-style "##" continuations lose their marker and other pieces get a space before them.
struct WordPieceDecoder: TokenDecoder {
  let usesPhantomSpace: Bool
  var stripsPrefixSpace: Bool { true }

  func bytes(of token: String, type: TokenType) -> [UInt8] {
    if type.isSpecial { return Array(token.utf8) }
    if usesPhantomSpace { return Array(token.replacingSpaceMarks().utf8) }
    return token.hasPrefix("##") ? Array(token.utf8.dropFirst(2)) : Array((" " + token).utf8)
  }
}

extension String {
  /// "▁" (U+2581) → " ".
  fileprivate func replacingSpaceMarks() -> String {
    guard unicodeScalars.contains("\u{2581}") else { return self }
    return String(String.UnicodeScalarView(unicodeScalars.map { $0 == "\u{2581}" ? " " : $0 }))
  }
}
