import Foundation

/// normalizer → pre-tokenizer → model, as a `tokenizer.json` describes them.
struct HFTokenizationPipeline: TokenizationPipeline {
  let normalizer: (any TextNormalizer)?
  let preTokenizer: (any WordSplitter)?
  let model: HFWordModel

  func encode(_ text: String, afterSpecial: Bool, into ids: inout [Int]) {
    encode(text, afterSpecial: afterSpecial, atStart: afterSpecial, into: &ids)
  }

  func encode(_ text: String, afterSpecial: Bool, atStart: Bool, into ids: inout [Int]) {
    let normalized = normalizer?.normalize(text) ?? text
    guard !normalized.isEmpty else { return }
    let words = preTokenizer?.split([normalized], atStart: atStart) ?? [normalized]
    for word in words where !word.isEmpty { model.encode(word: word, into: &ids) }
  }
}

/// The model stage: BPE, or WordPiece (Muse's `WordPieceEncoder`).
enum HFWordModel: @unchecked Sendable {
  case bytePair(BytePairEncoder)
  case wordPiece(WordPieceEncoder)

  func encode(word: String, into ids: inout [Int]) {
    switch self {
    case .bytePair(let m): m.encode(word: word, into: &ids)
    case .wordPiece(let m): m.encode(word: word, into: &ids)
    }
  }
}
