/// Everything a tokenizer needs, read from a GGUF file's `tokenizer.ggml.*` keys (names as in
/// llama.cpp `llama-arch.cpp` `LLM_KV_TOKENIZER_*`). Plain data: which pipeline to build from it
/// is `Tokenizer`'s business.
public struct TokenizerVocabulary: Sendable {
  /// The file the vocabulary came from, for error messages.
  public let file: String
  /// `tokenizer.ggml.model`: "llama" (SentencePiece), "gpt2" (byte-level BPE), "bert" (WordPiece)…
  public let model: String
  /// `tokenizer.ggml.pre`: the pre-tokenizer of a BPE vocabulary ("llama-bpe", "qwen2"…), if named.
  public let pre: String?
  public let tokens: [String]
  /// SentencePiece piece scores (empty when the file has none).
  public let scores: [Float]
  public let tokenTypes: [TokenType]
  /// BPE merges as (left, right) token strings, highest priority first.
  public let merges: [(String, String)]
  public let bosToken: Int?
  public let eosToken: Int?
  public let unknownToken: Int?
  public let paddingToken: Int?
  public let separatorToken: Int?
  public let clsToken: Int?
  public let maskToken: Int?
  public let endOfTurnToken: Int?
  public let endOfMessageToken: Int?
  /// `tokenizer.ggml.add_bos_token` / `add_eos_token`, nil when the file does not say.
  public let addBOS: Bool?
  public let addEOS: Bool?
  /// `tokenizer.ggml.add_space_prefix`, nil when the file does not say.
  public let addSpacePrefix: Bool?
  public let removeExtraWhitespaces: Bool?

  public init(gguf: GGUFFile) throws {
    let file = gguf.path
    let meta = gguf.metadata
    self.file = file

    func string(_ key: String) throws -> String? {
      guard let value = meta[key] else { return nil }
      guard let s = value.string else {
        throw TokenizerError.wrongKeyType(file: file, key: key, expected: "a string")
      }
      return s
    }
    func bool(_ key: String) throws -> Bool? {
      guard let value = meta[key] else { return nil }
      guard let b = value.bool else {
        throw TokenizerError.wrongKeyType(file: file, key: key, expected: "a bool")
      }
      return b
    }
    func array(_ key: String) -> GGUFArray? { meta[key]?.array }

    let modelKey = "tokenizer.ggml.model"
    guard let model = try string(modelKey) else { throw TokenizerError.missingKey(file: file, key: modelKey) }
    self.model = model
    self.pre = try string("tokenizer.ggml.pre")

    let tokensKey = "tokenizer.ggml.tokens"
    guard let tokenArray = meta[tokensKey] else {
      throw TokenizerError.missingKey(file: file, key: tokensKey)
    }
    guard case .array(.strings(let tokens)) = tokenArray else {
      throw TokenizerError.wrongKeyType(file: file, key: tokensKey, expected: "an array of strings")
    }
    guard !tokens.isEmpty else { throw TokenizerError.emptyVocabulary(file: file) }
    self.tokens = tokens
    let n = tokens.count

    let scoresKey = "tokenizer.ggml.scores"
    switch array(scoresKey) {
    case nil: scores = []
    case .floats(let values)?:
      guard values.count == n else {
        throw TokenizerError.lengthMismatch(file: file, key: scoresKey, count: values.count, tokenCount: n)
      }
      scores = values.map { Float($0) }
    default: throw TokenizerError.wrongKeyType(file: file, key: scoresKey, expected: "an array of floats")
    }

    let typesKey = "tokenizer.ggml.token_type"
    switch array(typesKey) {
    case nil: tokenTypes = Array(repeating: .normal, count: n)
    case .integers(let values)?:
      guard values.count == n else {
        throw TokenizerError.lengthMismatch(file: file, key: typesKey, count: values.count, tokenCount: n)
      }
      tokenTypes = values.map(TokenType.init(gguf:))
    default: throw TokenizerError.wrongKeyType(file: file, key: typesKey, expected: "an array of integers")
    }

    let mergesKey = "tokenizer.ggml.merges"
    switch array(mergesKey) {
    case nil: merges = []
    case .strings(let lines)?:
      var pairs: [(String, String)] = []
      pairs.reserveCapacity(lines.count)
      for (i, line) in lines.enumerated() {
        // Split at the first space: BPE tokens never contain a raw space (it is mapped to "Ġ").
        guard let space = line.firstIndex(of: " "), space != line.startIndex else {
          throw TokenizerError.badMerge(file: file, index: i, merge: line)
        }
        pairs.append((String(line[..<space]), String(line[line.index(after: space)...])))
      }
      merges = pairs
    default: throw TokenizerError.wrongKeyType(file: file, key: mergesKey, expected: "an array of strings")
    }

    // Ids outside the vocabulary are ignored, as llama.cpp does ("bad special token").
    func id(_ keys: String...) -> Int? {
      for key in keys {
        if let v = meta["tokenizer.ggml.\(key)"]?.int, v >= 0, v < n { return v }
      }
      return nil
    }
    bosToken = id("bos_token_id")
    eosToken = id("eos_token_id")
    unknownToken = id("unknown_token_id")
    paddingToken = id("padding_token_id")
    // "seperator" is how llama.cpp and gguf-py spell the key.
    separatorToken = id("seperator_token_id", "separator_token_id")
    clsToken = id("cls_token_id")
    maskToken = id("mask_token_id")
    endOfTurnToken = id("eot_token_id")
    endOfMessageToken = id("eom_token_id")
    addBOS = try bool("tokenizer.ggml.add_bos_token")
    addEOS = try bool("tokenizer.ggml.add_eos_token")
    addSpacePrefix = try bool("tokenizer.ggml.add_space_prefix")
    removeExtraWhitespaces = try bool("tokenizer.ggml.remove_extra_whitespaces")
  }
}
