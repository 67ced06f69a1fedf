import Foundation

/// Plain text (no special tokens inside) → token ids: one tokenizer family's normalizer,
/// pre-tokenizer and model, in that order (HF `tokenizers`' pipeline).
protocol TokenizationPipeline: Sendable {
  /// `afterSpecial`: the fragment starts the input or follows a special token (SentencePiece
  /// adds its space prefix there, llama.cpp `is_prev_special`).
  func encode(_ text: String, afterSpecial: Bool, into ids: inout [Int])
  /// `atStart`: the fragment is the very start of the input (HF Metaspace `prepend_scheme:
  /// "first"` prefixes only there).
  func encode(_ text: String, afterSpecial: Bool, atStart: Bool, into ids: inout [Int])
}

extension TokenizationPipeline {
  func encode(_ text: String, afterSpecial: Bool, atStart: Bool, into ids: inout [Int]) {
    encode(text, afterSpecial: afterSpecial, into: &ids)
  }
}

/// `tokenizer.ggml.model == "gpt2"`: regex pre-tokenizer, then byte-level BPE per word.
struct ByteLevelBPEPipeline: TokenizationPipeline {
  let preTokenizer: any PreTokenizer
  let encoder: BytePairEncoder

  func encode(_ text: String, afterSpecial: Bool, into ids: inout [Int]) {
    for word in preTokenizer.words(text) { encoder.encode(word: word, into: &ids) }
  }
}

/// `tokenizer.ggml.model == "llama"`: SentencePiece's whitespace normalizer, no pre-tokenizer,
/// the SentencePiece bigram merges over the whole fragment.
struct SentencePiecePipeline: TokenizationPipeline {
  let normalizer: SentencePieceNormalizer
  let encoder: SentencePieceEncoder

  func encode(_ text: String, afterSpecial: Bool, into ids: inout [Int]) {
    encoder.encode(normalizer.normalize(text, afterSpecial: afterSpecial), into: &ids)
  }
}

/// SentencePiece's normalizer as llama.cpp applies it: a space before the fragment when the
/// vocabulary asks for a prefix (`add_space_prefix`, default on) and the fragment starts the text
/// or follows a special token; every space written as "▁" (U+2581).
struct SentencePieceNormalizer: Sendable {
  let addSpacePrefix: Bool

  func normalize(_ text: String, afterSpecial: Bool) -> String {
    let prefixed = addSpacePrefix && afterSpecial ? " " + text : text
    return prefixed.replacingOccurrences(of: " ", with: "\u{2581}")
  }
}

/// `tokenizer.ggml.model == "bert"`: BERT's normalizer and pre-tokenizer, then WordPiece.
struct WordPiecePipeline: TokenizationPipeline {
  let normalizer: BertNormalizer
  let preTokenizer: BertPreTokenizer
  let encoder: WordPieceEncoder

  func encode(_ text: String, afterSpecial: Bool, into ids: inout [Int]) {
    for word in preTokenizer.words(normalizer.normalize(text)) { encoder.encode(word: word, into: &ids) }
  }
}
