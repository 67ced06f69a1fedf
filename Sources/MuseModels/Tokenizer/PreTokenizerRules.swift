/// The split rules a BPE vocabulary's `tokenizer.ggml.pre` names, transcribed from llama.cpp
/// (`src/llama-vocab.cpp`, `llm_tokenizer_bpe`; MIT), which took them from each model's
/// `tokenizer.json`. Each rule is a list of regexes applied one after another: every regex splits
/// each current piece into its matches and the text between them (`unicode_regex_split`).
/// llama.cpp spells `(?i:'s|…)` out as `'[sS]|…`, which is what HF's case-insensitive group does.
struct PreTokenizerRules: Sendable {
  let patterns: [String]
  /// Take a whole word as one token when the vocabulary has it, before any merge (HF BPE
  /// `ignore_merges`, set by the Llama 3 and Tekken tokenizers).
  let ignoreMerges: Bool
  /// Whether BOS is added when the file has no `tokenizer.ggml.add_bos_token` (llama.cpp's
  /// per-pre-tokenizer default).
  let addsBOSByDefault: Bool

  private static let contractions = #"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])"#
  static let gpt2 = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)"#
  static let llama3 =
    contractions + #"|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
  static let qwen2 =
    contractions + #"|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
  /// Qwen 3.5: qwen2's rule with combining marks (\p{M}) kept inside words.
  static let qwen35 =
    contractions
    + #"|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
  static let tekkenWords =
    #"[^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))*((?=[\p{L}])([^A-Z]))+"#
    + #"|[^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))+((?=[\p{L}])([^A-Z]))*"#
  static let tekken = tekkenWords + #"|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
  static let gpt4o =
    #"[^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))*((?=[\p{L}])([^A-Z]))+"# + contractions
    + #"?|[^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))+((?=[\p{L}])([^A-Z]))*"# + contractions
    + #"?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
  static let bloom = #" ?[^(\s|.,!?…。，、।۔،)]+"#
  /// DeepSeek LLM's letter class (cased letters of many scripts, spelled out in its tokenizer.json).
  static let deepseekLetters =
    #"\s?[A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-ՖႠ-ჅᎠ-Ᏽᏸ-ᏽᲐ-ᲺᲽ-Ჿᴀ-ᴫᵫ-ᵷᵹ-ᶚḀ-ἕἘ-Ἕἠ-ὅὈ-Ὅὐ-ὗὙὛὝὟ-ώᾀ-ᾴᾶ-ᾼιῂ-ῄῆ-ῌῐ-ΐῖ-Ίῠ-Ῥῲ-ῴῶ-ῼℂℇℊ-ℓℕℙ-ℝℤΩℨK-ℭℯ-ℴℹℼ-ℿⅅ-ⅉⅎↃↄⰀ-ⱻⱾ-ⳤⳫ-ⳮⳲⳳꙀ-ꙭꚀ-ꚛꜢ-ꝯꝱ-ꞇꞋ-ꞎꭰ-ꮿﬀ-ﬆﬓ-ﬗＡ-Ｚａ-ｚ𐐀-𐑏𐒰-𐓓𐓘-𐓻𐲀-𐲲𐳀-𐳲𑢠-𑣟𞤀-𞥃]+"#

  /// The rules for `tokenizer.ggml.pre` (nil or "default": llama.cpp's default); nil when the
  /// name is unknown.
  static func named(_ pre: String?) -> PreTokenizerRules? {
    switch pre ?? "default" {
    case "default":
      return .init([#"[\p{P}\$\+<=>\^~\|]+"#, gpt2, #"\p{N}+"#, "[0-9][0-9][0-9]"])
    case "llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2":
      return .init([llama3], ignoreMerges: true, addsBOSByDefault: true)
    case "dbrx", "smaug-bpe", "glm4", "chatglm-bpe":
      return .init([llama3])
    case "deepseek-llm":
      return .init([
        "[\r\n]", deepseekLetters, #"\s?[!-/:-~！-／：-～‘-‟　-。]+"#, #"\s+$"#, "[一-龥ࠀ-一가-퟿]+", #"\p{N}+"#,
      ])
    case "deepseek-coder":
      return .init(["[\r\n]", #"\s?\p{L}+"#, #"\s?\p{P}+"#, "[一-龥ࠀ-一가-퟿]+", #"\p{N}"#])
    case "deepseek-v3", "hunyuan-dense":
      return .init([
        #"\p{N}{1,3}"#, "[一-龥぀-ゟ゠-ヿ]+",
        ##"[!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+"##
          + #"| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#,
      ])
    case "falcon":
      return .init([#"[\p{P}\$\+<=>\^~\|`]+"#, gpt2, "[0-9][0-9][0-9]"])
    case "starcoder", "refact", "command-r", "smollm", "codeshell", "exaone", "minerva-7b":
      return .init([#"\p{N}"#, gpt2])
    case "gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es", "jina-v2-de", "a.x-4.0", "mellum",
      "jina-v1-en", "jina-v2-code", "roberta-bpe", "mpt", "olmo", "jais", "trillion", "exaone4":
      return .init([gpt2])
    case "qwen2", "deepseek-r1-qwen", "stablelm2", "hunyuan", "megrez":
      return .init([qwen2])
    case "qwen35":
      return .init([qwen35])
    case "poro-chat", "bloom", "gpt3-finnish":
      return .init([bloom])
    case "viking":
      return .init([bloom, #"\p{N}"#])
    case "tekken":
      return .init([tekken], ignoreMerges: true, addsBOSByDefault: true)
    case "gpt-4o", "llama4":
      return .init([gpt4o])
    case "seed-coder":
      return .init([
        contractions
          + #"|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1}| ?[^\s\p{L}\p{N}\r\n]+|\s*[\r\n]+|\s+(?!\S)|\s+"#
      ])
    case "bailingmoe":
      return .init([
        #"'(?:[sSdDmMtT]|[lL][lL]|[vV][eE]|[rR][eE])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}"#
          + #"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+"#
      ])
    default:
      return nil
    }
  }

  init(_ patterns: [String], ignoreMerges: Bool = false, addsBOSByDefault: Bool = false) {
    self.patterns = patterns
    self.ignoreMerges = ignoreMerges
    self.addsBOSByDefault = addsBOSByDefault
  }
}
