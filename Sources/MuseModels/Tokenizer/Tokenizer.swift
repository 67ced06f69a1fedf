/// Text ↔ token ids for a GGUF model, built from the file's own `tokenizer.ggml.*` metadata:
/// special tokens are split out first, the rest goes through the pipeline of the family
/// `tokenizer.ggml.model` names (SentencePiece, byte-level BPE with the pre-tokenizer
/// `tokenizer.ggml.pre` names, or WordPiece), and ids decode back to bytes per token.
public final class Tokenizer: @unchecked Sendable {
  public let vocabulary: TokenizerVocabulary
  public var vocabularySize: Int { vocabulary.tokens.count }
  public let bosToken: Int?
  public let eosToken: Int?
  public let addsBOS: Bool
  public let addsEOS: Bool

  private let pipeline: any TokenizationPipeline
  private let decoder: any TokenDecoder
  private let specials: SpecialTokenSplitter
  private let tokenIDs: [String: Int]
  private let tokenBytesTable: [[UInt8]]
  private let endOfGeneration: Set<Int>

  /// Token texts llama.cpp treats as ending generation whatever the file's ids say.
  private static let endOfGenerationTexts: Set<String> = [
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<end_of_turn>", "<|endoftext|>",
    "<|eom_id|>", "<EOT>", "_<EOT>", "<|end_of_text|>", "<end_of_utterance>",
  ]

  public convenience init(gguf: GGUFFile) throws {
    try self.init(vocabulary: TokenizerVocabulary(gguf: gguf))
  }

  public convenience init(vocabulary v: TokenizerVocabulary) throws {
    let ids = Self.tokenIDs(v)
    var bos = v.bosToken
    var eos = v.eosToken
    let pipeline: any TokenizationPipeline
    let decoder: any TokenDecoder
    let addsBOS: Bool
    let addsEOS: Bool
    switch v.model {
    case "llama":
      let prefix = v.addSpacePrefix ?? true
      pipeline = SentencePiecePipeline(
        normalizer: SentencePieceNormalizer(addSpacePrefix: prefix),
        encoder: SentencePieceEncoder(vocabulary: v, tokenIDs: ids))
      decoder = SentencePieceDecoder(stripsPrefixSpace: prefix)
      addsBOS = v.addBOS ?? true
      addsEOS = v.addEOS ?? false
    case "gpt2":
      guard let rules = PreTokenizerRules.named(v.pre) else {
        throw TokenizerError.unknownPreTokenizer(file: v.file, pre: v.pre ?? "")
      }
      guard !v.merges.isEmpty else {
        throw TokenizerError.missingKey(file: v.file, key: "tokenizer.ggml.merges")
      }
      pipeline = ByteLevelBPEPipeline(
        preTokenizer: try RegexSplitPreTokenizer(patterns: rules.patterns),
        encoder: BytePairEncoder(
          tokenIDs: ids, merges: v.merges, symbols: .bytes, ignoreMerges: rules.ignoreMerges))
      decoder = ByteLevelDecoder()
      addsBOS = v.addBOS ?? rules.addsBOSByDefault
      addsEOS = v.addEOS ?? false
    case "bert":
      let encoder = WordPieceEncoder(vocabulary: v, tokenIDs: ids)
      pipeline = WordPiecePipeline(
        normalizer: BertNormalizer(), preTokenizer: BertPreTokenizer(), encoder: encoder)
      decoder = WordPieceDecoder(usesPhantomSpace: !v.tokens.contains { $0.hasPrefix("##") })
      // BERT wraps the text in [CLS] … [SEP].
      bos = v.clsToken ?? v.bosToken
      eos = v.separatorToken ?? v.eosToken
      addsBOS = v.addBOS ?? true
      addsEOS = v.addEOS ?? true
    default:
      throw TokenizerError.unknownModel(file: v.file, model: v.model)
    }
    self.init(
      vocabulary: v, tokenIDs: ids, pipeline: pipeline, decoder: decoder, bosToken: bos, eosToken: eos,
      addsBOS: addsBOS, addsEOS: addsEOS)
  }

  /// Token text → id; later duplicates win, as in llama.cpp's token_to_id.
  static func tokenIDs(_ v: TokenizerVocabulary) -> [String: Int] {
    var ids: [String: Int] = [:]
    ids.reserveCapacity(v.tokens.count)
    for (id, token) in v.tokens.enumerated() where !token.isEmpty { ids[token] = id }
    return ids
  }

  /// A tokenizer from its parts: the GGUF family switch above, or a `tokenizer.json` description
  /// (`Tokenizer(huggingFace:)`).
  init(
    vocabulary v: TokenizerVocabulary, tokenIDs ids: [String: Int], pipeline: any TokenizationPipeline,
    decoder: any TokenDecoder, bosToken bos: Int?, eosToken eos: Int?, addsBOS: Bool, addsEOS: Bool
  ) {
    vocabulary = v
    tokenIDs = ids
    self.pipeline = pipeline
    self.decoder = decoder
    bosToken = bos
    eosToken = eos
    self.addsBOS = addsBOS
    self.addsEOS = addsEOS
    specials = SpecialTokenSplitter(tokens: v.tokens, types: v.tokenTypes)
    tokenBytesTable = zip(v.tokens, v.tokenTypes).map { decoder.bytes(of: $0, type: $1) }

    var eog = Set([v.eosToken, v.endOfTurnToken, v.endOfMessageToken].compactMap { $0 })
    for text in Self.endOfGenerationTexts {
      if let id = ids[text] { eog.insert(id) }
    }
    if v.model == "bert", let eos { eog.insert(eos) }
    endOfGeneration = eog
  }

  /// Token ids of `text`. `addSpecial` adds BOS/EOS as the vocabulary says; `parseSpecial`
  /// matches control tokens written in the text (e.g. "<|im_start|>") as single tokens
  /// (user-defined tokens are always matched).
  public func encode(_ text: String, addSpecial: Bool = false, parseSpecial: Bool = true) -> [Int] {
    var ids: [Int] = []
    ids.reserveCapacity(text.utf8.count / 3 + 2)
    if addSpecial, addsBOS, let bosToken { ids.append(bosToken) }
    var afterSpecial = true
    var atStart = true
    for fragment in specials.split(text, parseSpecial: parseSpecial) {
      defer { atStart = false }
      switch fragment {
      case .text(let s):
        pipeline.encode(s, afterSpecial: afterSpecial, atStart: atStart, into: &ids)
        afterSpecial = false
      case .token(let id):
        ids.append(id)
        afterSpecial = true
      }
    }
    if addSpecial, addsEOS, let eosToken { ids.append(eosToken) }
    return ids
  }

  /// The bytes one token stands for: byte tokens are their byte, byte-level BPE characters their
  /// bytes, "▁" a space; control tokens their text. Empty for an id outside the vocabulary.
  public func tokenBytes(_ id: Int) -> [UInt8] {
    id >= 0 && id < tokenBytesTable.count ? tokenBytesTable[id] : []
  }

  /// Whether decoding drops the leading space of `id`: SentencePiece's prefix space, on the first
  /// token after any BOS.
  func stripsPrefixSpace(of id: Int, isFirstContent: Bool) -> Bool {
    isFirstContent && decoder.stripsPrefixSpace && tokenBytes(id).first == UInt8(ascii: " ")
  }

  /// The text of `ids`: their bytes concatenated and read as UTF-8 (invalid sequences become
  /// U+FFFD). SentencePiece's prefix space before the first token (after BOS) is dropped, as
  /// llama.cpp and HF do, so `decode(encode(text)) == text`.
  public func decode(_ ids: [Int]) -> String {
    var bytes: [UInt8] = []
    var firstContent = true
    for id in ids {
      if firstContent && id == bosToken {
        bytes.append(contentsOf: tokenBytes(id))
        continue
      }
      let piece = tokenBytes(id)
      bytes.append(
        contentsOf: stripsPrefixSpace(of: id, isFirstContent: firstContent) ? piece.dropFirst() : piece[...])
      firstContent = false
    }
    return String(decoding: bytes, as: UTF8.self)
  }

  /// Where each token's text starts in `decode(ids)`, in Unicode scalars (Python's string
  /// indices): the length of what the tokens before it decode to, counted in one pass (a
  /// scalar per UTF-8 byte that does not continue a character), as `echo`'s `text_offset`.
  public func scalarOffsets(_ ids: [Int]) -> [Int] {
    var offsets: [Int] = []
    offsets.reserveCapacity(ids.count)
    var scalars = 0
    var firstContent = true
    for id in ids {
      offsets.append(scalars)
      var piece = tokenBytes(id)[...]
      if firstContent && id == bosToken {
        // As `decode`: BOS's own bytes, and the prefix space still to drop after it.
      } else {
        if stripsPrefixSpace(of: id, isFirstContent: firstContent) { piece = piece.dropFirst() }
        firstContent = false
      }
      for byte in piece where byte & 0xC0 != 0x80 { scalars += 1 }
    }
    return offsets
  }

  /// The token as the vocabulary spells it (e.g. "Ġworld", "▁world", "<0x0A>").
  public func piece(_ id: Int) -> String {
    id >= 0 && id < vocabulary.tokens.count ? vocabulary.tokens[id] : ""
  }

  /// EOS, EOT, EOM and the control tokens that end a turn (<|im_end|>, <|eot_id|>, …).
  public func isEndOfGeneration(_ id: Int) -> Bool { endOfGeneration.contains(id) }

  public func id(of token: String) -> Int? { tokenIDs[token] }
}
