/// A token's kind as `tokenizer.ggml.token_type` stores it (llama.cpp `llama_token_type`).
public enum TokenType: Int, Sendable {
  case undefined = 0
  case normal = 1
  case unknown = 2
  /// BOS, EOS, `<|im_start|>`…: never produced from plain text, matched as written only when
  /// special tokens are parsed.
  case control = 3
  /// Added tokens matched as written in any text.
  case userDefined = 4
  case unused = 5
  /// SentencePiece byte-fallback tokens `<0x00>`…`<0xFF>`.
  case byte = 6

  init(gguf value: Int) { self = TokenType(rawValue: value) ?? .undefined }

  /// Tokens split out of the text before the model runs (llama.cpp `cache_special_tokens`).
  var isSpecial: Bool { self == .control || self == .userDefined || self == .unknown }
}
