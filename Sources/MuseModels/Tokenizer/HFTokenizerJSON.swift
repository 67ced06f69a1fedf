import Foundation

/// A Hugging Face `tokenizer.json` (+ `tokenizer_config.json`) read into Muse's `Tokenizer`:
/// the file's normalizer, pre-tokenizer, model, post-processor and decoder, each built from its
/// own description (HF `tokenizers` serialization format), and its added tokens split out before
/// the model runs. Also keeps what a GGUF writer needs (`tokenizer.ggml.*`).
public struct HuggingFaceTokenizerFile: Sendable {
  public let path: String
  public let vocabulary: TokenizerVocabulary
  /// `tokenizer_config.json`, when the folder has one.
  public let config: HuggingFaceTokenizerConfig?
  let tokenIDs: [String: Int]
  let pipeline: HFTokenizationPipeline
  let decoder: HFTokenDecoder
  let postProcessor: HFPostProcessor?

  /// Reads `tokenizer.json` at `path`, and `tokenizer_config.json` beside it if present.
  public init(path: String) throws {
    self.path = path
    let folder = (path as NSString).deletingLastPathComponent
    let configPath = (folder.isEmpty ? "." : folder) + "/tokenizer_config.json"
    config =
      FileManager.default.fileExists(atPath: configPath)
      ? try HuggingFaceTokenizerConfig(path: configPath) : nil
    guard let data = FileManager.default.contents(atPath: path) else {
      throw TokenizerError.unsupportedComponent(
        file: path, component: "tokenizer.json", reason: "cannot be read")
    }
    guard let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
      throw TokenizerError.unsupportedComponent(
        file: path, component: "tokenizer.json", reason: "not a JSON object")
    }
    guard let model = json["model"] as? [String: Any] else {
      throw TokenizerError.missingKey(file: path, key: "model")
    }
    let modelType = model["type"] as? String ?? (model["merges"] != nil ? "BPE" : "WordPiece")

    // Vocabulary: the model's, then the added tokens (which may extend it).
    guard let vocab = model["vocab"] as? [String: Any] else {
      throw TokenizerError.unsupportedComponent(
        file: path, component: "model \(modelType)",
        reason: "no vocab object (only BPE and WordPiece are supported)")
    }
    var byID: [Int: String] = [:]
    for (token, value) in vocab { if let id = value as? Int { byID[id] = token } }
    let added = (json["added_tokens"] as? [[String: Any]]) ?? []
    var addedTypes: [Int: TokenType] = [:]
    for t in added {
      guard let id = t["id"] as? Int, let content = t["content"] as? String else { continue }
      byID[id] = content
      addedTypes[id] = (t["special"] as? Bool ?? false) ? .control : .userDefined
    }
    let count = (byID.keys.max() ?? -1) + 1
    guard count > 0 else { throw TokenizerError.emptyVocabulary(file: path) }
    var tokens = [String](repeating: "", count: count)
    for (id, token) in byID where id >= 0 { tokens[id] = token }
    var ids: [String: Int] = [:]
    for (id, token) in tokens.enumerated() where !token.isEmpty && ids[token] == nil { ids[token] = id }
    let unknownToken = (model["unk_token"] as? String).flatMap { ids[$0] }
    let byteFallback = model["byte_fallback"] as? Bool ?? false
    var types = [TokenType](repeating: .normal, count: count)
    for (id, token) in tokens.enumerated() {
      if byteFallback, SentencePieceDecoder.byteValue(token) != nil {
        types[id] = .byte
      } else if let t = addedTypes[id] {
        types[id] = t
      } else if id == unknownToken {
        types[id] = .unknown
      } else if token.isEmpty {
        types[id] = .unused
      }
    }
    if let unknownToken { types[unknownToken] = .unknown }

    // Merges: "a b" strings (tokenizers < 0.20) or [a, b] pairs.
    var merges: [(String, String)] = []
    for (i, m) in ((model["merges"] as? [Any]) ?? []).enumerated() {
      if let pair = m as? [String], pair.count == 2 {
        merges.append((pair[0], pair[1]))
      } else if let line = m as? String, let space = line.firstIndex(of: " "), space != line.startIndex {
        merges.append((String(line[..<space]), String(line[line.index(after: space)...])))
      } else {
        throw TokenizerError.badMerge(file: path, index: i, merge: "\(m)")
      }
    }

    let normalizer = try Self.normalizer(json["normalizer"], file: path)
    let preTokenizer = try Self.preTokenizer(json["pre_tokenizer"], file: path)
    let decoderJSON = json["decoder"] as? [String: Any]
    let decoder = try Self.decoder(decoderJSON, file: path)
    postProcessor = try Self.postProcessor(json["post_processor"] as? [String: Any], ids: ids, file: path)

    let family: String
    let wordModel: HFWordModel
    var vocabularyBuilder = TokenizerVocabulary(
      file: path, model: "", pre: nil, tokens: tokens, tokenTypes: types, merges: merges,
      unknownToken: unknownToken)
    switch modelType {
    case "BPE":
      let byteLevel =
        Self.mentions("ByteLevel", in: json["pre_tokenizer"]) || Self.mentions("ByteLevel", in: decoderJSON)
      family = byteLevel ? "gpt2" : "llama"
      wordModel = .bytePair(
        BytePairEncoder(
          tokenIDs: ids, merges: merges,
          symbols: .characters(
            continuingPrefix: model["continuing_subword_prefix"] as? String ?? "",
            endOfWordSuffix: model["end_of_word_suffix"] as? String ?? "", unknownToken: unknownToken,
            fuseUnknown: model["fuse_unk"] as? Bool ?? false, byteFallback: byteFallback),
          ignoreMerges: model["ignore_merges"] as? Bool ?? false))
    case "WordPiece":
      family = "bert"
      wordModel = .wordPiece(WordPieceEncoder(vocabulary: vocabularyBuilder, tokenIDs: ids))
    default:
      throw TokenizerError.unsupportedComponent(
        file: path, component: "model \(modelType)",
        reason: "Muse reads BPE and WordPiece tokenizer.json models")
    }
    let bos = postProcessor?.prefix.first ?? config?.bosToken.flatMap { ids[$0] }
    let eos = postProcessor?.suffix.first ?? config?.eosToken.flatMap { ids[$0] }
    vocabularyBuilder = TokenizerVocabulary(
      file: path, model: family, pre: Self.recognisedPreTokenizer(json["pre_tokenizer"]), tokens: tokens,
      tokenTypes: types, merges: merges, unknownToken: unknownToken,
      bosToken: bos, eosToken: config?.eosToken.flatMap { ids[$0] } ?? eos,
      addBOS: postProcessor.map { !$0.prefix.isEmpty } ?? config?.addBOS,
      addEOS: postProcessor.map { !$0.suffix.isEmpty } ?? config?.addEOS,
      separatorToken: family == "bert" ? postProcessor?.suffix.first : nil,
      clsToken: family == "bert" ? postProcessor?.prefix.first : nil)
    vocabulary = vocabularyBuilder
    tokenIDs = ids
    pipeline = HFTokenizationPipeline(normalizer: normalizer, preTokenizer: preTokenizer, model: wordModel)
    self.decoder = decoder
  }

  // MARK: - Components

  static func normalizer(_ json: Any?, file: String) throws -> (any TextNormalizer)? {
    guard let j = json as? [String: Any], let type = j["type"] as? String else { return nil }
    switch type {
    case "NFC", "NFD", "NFKC", "NFKD": return UnicodeNormalizer(form: .init(rawValue: type)!)
    case "Lowercase": return LowercaseNormalizer()
    case "StripAccents": return StripAccentsNormalizer()
    case "Strip": return StripNormalizer(left: j["left"] as? Bool ?? true, right: j["right"] as? Bool ?? true)
    case "Prepend": return PrependNormalizer(prepend: j["prepend"] as? String ?? "")
    case "Replace":
      return ReplaceNormalizer(
        pattern: try TextPattern(json: j["pattern"], file: file, what: "normalizer Replace"),
        content: j["content"] as? String ?? "")
    case "BertNormalizer":
      let lowercase = j["lowercase"] as? Bool ?? true
      return HFBertNormalizer(lowercase: lowercase, stripAccents: j["strip_accents"] as? Bool ?? lowercase)
    case "Sequence":
      return NormalizerSequence(
        steps: try ((j["normalizers"] as? [Any]) ?? []).compactMap { try normalizer($0, file: file) })
    default:
      throw TokenizerError.unsupportedComponent(
        file: file, component: "normalizer \(type)", reason: "not implemented in Muse")
    }
  }

  static func preTokenizer(_ json: Any?, file: String) throws -> (any WordSplitter)? {
    guard let j = json as? [String: Any], let type = j["type"] as? String else { return nil }
    switch type {
    case "ByteLevel":
      return try ByteLevelPreTokenizer(
        addPrefixSpace: j["add_prefix_space"] as? Bool ?? true, useRegex: j["use_regex"] as? Bool ?? true)
    case "Split":
      let behavior = (j["behavior"] as? String).flatMap(SplitBehavior.init(rawValue:)) ?? .isolated
      return SplitPreTokenizer(
        pattern: try TextPattern(json: j["pattern"], file: file, what: "pre-tokenizer Split"),
        behavior: behavior,
        invert: j["invert"] as? Bool ?? false)
    case "Metaspace":
      var scheme = j["prepend_scheme"] as? String ?? "always"
      if let legacy = j["add_prefix_space"] as? Bool, j["prepend_scheme"] == nil {
        scheme = legacy ? "always" : "never"
      }
      return MetaspacePreTokenizer(
        replacement: j["replacement"] as? String ?? "\u{2581}", prependScheme: scheme,
        splits: j["split"] as? Bool ?? true)
    case "Digits": return DigitsPreTokenizer(individual: j["individual_digits"] as? Bool ?? false)
    case "Whitespace": return try WhitespacePreTokenizer(splitPunctuation: true)
    case "WhitespaceSplit": return try WhitespacePreTokenizer(splitPunctuation: false)
    case "Punctuation": return PunctuationPreTokenizer()
    case "BertPreTokenizer": return BertWordSplitter()
    case "Sequence":
      return PreTokenizerSequence(
        steps: try ((j["pretokenizers"] as? [Any]) ?? []).compactMap { try preTokenizer($0, file: file) })
    default:
      throw TokenizerError.unsupportedComponent(
        file: file, component: "pre-tokenizer \(type)", reason: "not implemented in Muse")
    }
  }

  static func decoder(_ json: [String: Any]?, file: String) throws -> HFTokenDecoder {
    var steps: [HFTokenDecoder.Step] = []
    var strips = false
    func add(_ j: [String: Any]) throws {
      guard let type = j["type"] as? String else { return }
      switch type {
      case "ByteLevel": steps.append(.byteLevel)
      case "ByteFallback": steps.append(.byteFallback)
      case "Fuse": break
      case "Replace":
        let pattern = (j["pattern"] as? [String: Any])?["String"] as? String ?? ""
        steps.append(
          .replace(pattern: Array(pattern.utf8), content: Array((j["content"] as? String ?? "").utf8)))
      case "Metaspace":
        let replacement = j["replacement"] as? String ?? "\u{2581}"
        steps.append(.replace(pattern: Array(replacement.utf8), content: [0x20]))
        let scheme =
          j["prepend_scheme"] as? String ?? ((j["add_prefix_space"] as? Bool ?? true) ? "always" : "never")
        if scheme != "never" { strips = true }
      case "Strip":
        if (j["start"] as? Int ?? 0) > 0 && (j["content"] as? String ?? " ") == " " { strips = true }
      case "WordPiece":
        steps.append(.wordPiece(prefix: Array((j["prefix"] as? String ?? "##").utf8)))
        strips = true
      case "Sequence":
        for d in (j["decoders"] as? [[String: Any]]) ?? [] { try add(d) }
      default:
        throw TokenizerError.unsupportedComponent(
          file: file, component: "decoder \(type)", reason: "not implemented in Muse")
      }
    }
    if let json { try add(json) }
    return HFTokenDecoder(steps: steps, stripsPrefixSpace: strips)
  }

  static func postProcessor(_ json: [String: Any]?, ids: [String: Int], file: String) throws
    -> HFPostProcessor?
  {
    guard let json, let type = json["type"] as? String else { return nil }
    func id(_ pair: Any?) -> Int? {
      // BertProcessing / RobertaProcessing store ["[CLS]", 101].
      (pair as? [Any])?.last as? Int ?? ((pair as? [Any])?.first as? String).flatMap { ids[$0] }
    }
    switch type {
    case "TemplateProcessing":
      var p = HFPostProcessor()
      var seenSequence = false
      let specials = json["special_tokens"] as? [String: [String: Any]] ?? [:]
      for item in (json["single"] as? [[String: Any]]) ?? [] {
        if item["Sequence"] != nil {
          seenSequence = true
        } else if let s = item["SpecialToken"] as? [String: Any], let name = s["id"] as? String {
          let tokenIDs = (specials[name]?["ids"] as? [Int]) ?? ids[name].map { [$0] } ?? []
          if seenSequence { p.suffix += tokenIDs } else { p.prefix += tokenIDs }
        }
      }
      return p
    case "BertProcessing", "RobertaProcessing":
      let first = type == "BertProcessing" ? "cls" : "cls"
      return HFPostProcessor(
        prefix: id(json[first]).map { [$0] } ?? [], suffix: id(json["sep"]).map { [$0] } ?? [])
    case "ByteLevel": return HFPostProcessor()
    case "Sequence":
      var p = HFPostProcessor()
      for sub in (json["processors"] as? [[String: Any]]) ?? [] {
        if let q = try postProcessor(sub, ids: ids, file: file) {
          p.prefix += q.prefix
          p.suffix += q.suffix
        }
      }
      return p
    default:
      throw TokenizerError.unsupportedComponent(
        file: file, component: "post-processor \(type)", reason: "not implemented in Muse")
    }
  }

  static func mentions(_ type: String, in json: Any?) -> Bool {
    if let j = json as? [String: Any] {
      if j["type"] as? String == type { return true }
      return j.values.contains { mentions(type, in: $0) }
    }
    if let a = json as? [Any] { return a.contains { mentions(type, in: $0) } }
    return false
  }

  /// The llama.cpp `tokenizer.ggml.pre` name of a pre-tokenizer whose regex Muse recognises
  /// (nil: write none, and let readers use their default).
  static func recognisedPreTokenizer(_ json: Any?) -> String? {
    guard let j = json as? [String: Any] else { return nil }
    if j["type"] as? String == "ByteLevel" { return (j["use_regex"] as? Bool ?? true) ? "gpt-2" : nil }
    var patterns: [String] = []
    func collect(_ x: Any?) {
      if let d = x as? [String: Any] {
        if d["type"] as? String == "Split", let r = (d["pattern"] as? [String: Any])?["Regex"] as? String {
          patterns.append(r)
        }
        d.values.forEach(collect)
      } else if let a = x as? [Any] {
        a.forEach(collect)
      }
    }
    collect(j)
    guard let p = patterns.first else { return nil }
    let known: [(String, String)] = [
      ("(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}", "llama-bpe"),
      ("(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}|", "qwen2"),
    ]
    return known.first { p.hasPrefix($0.0) }?.1
  }
}

extension Tokenizer {
  /// A tokenizer from a Hugging Face `tokenizer.json` (and the `tokenizer_config.json` beside it).
  public convenience init(huggingFace path: String) throws {
    try self.init(huggingFace: HuggingFaceTokenizerFile(path: path))
  }

  public convenience init(huggingFace file: HuggingFaceTokenizerFile) throws {
    let v = file.vocabulary
    self.init(
      vocabulary: v, tokenIDs: file.tokenIDs, pipeline: file.pipeline, decoder: file.decoder,
      bosToken: v.bosToken, eosToken: v.eosToken, addsBOS: v.addBOS ?? false, addsEOS: v.addEOS ?? false)
  }
}

extension TokenizerVocabulary {
  /// A vocabulary from parts (a `tokenizer.json`, or tests).
  init(
    file: String, model: String, pre: String?, tokens: [String], scores: [Float] = [],
    tokenTypes: [TokenType],
    merges: [(String, String)], unknownToken: Int? = nil, bosToken: Int? = nil, eosToken: Int? = nil,
    addBOS: Bool? = nil, addEOS: Bool? = nil, separatorToken: Int? = nil, clsToken: Int? = nil
  ) {
    self.file = file
    self.model = model
    self.pre = pre
    self.tokens = tokens
    self.scores = scores
    self.tokenTypes = tokenTypes
    self.merges = merges
    self.bosToken = bosToken
    self.eosToken = eosToken
    self.unknownToken = unknownToken
    paddingToken = nil
    self.separatorToken = separatorToken
    self.clsToken = clsToken
    maskToken = nil
    endOfTurnToken = nil
    endOfMessageToken = nil
    self.addBOS = addBOS
    self.addEOS = addEOS
    addSpacePrefix = nil
    removeExtraWhitespaces = nil
  }
}
