import Foundation

/// BERT's normalizer (HF `BertNormalizer`, lowercase + strip accents; llama.cpp `llm_tokenizer_wpm`
/// `preprocess`): canonical decomposition, combining marks (Mn) dropped, control characters and
/// NUL / U+FFFD dropped, every letter lower-cased.
struct BertNormalizer: Sendable {
  func normalize(_ text: String) -> String {
    var out = String.UnicodeScalarView()
    for scalar in text.decomposedStringWithCanonicalMapping.unicodeScalars {
      let category = scalar.properties.generalCategory
      if category == .nonspacingMark || scalar.value == 0 || scalar.value == 0xFFFD { continue }
      if category == .control && !scalar.properties.isWhitespace { continue }
      out.append(contentsOf: scalar.properties.lowercaseMapping.unicodeScalars)
    }
    return String(out)
  }
}

/// BERT's pre-tokenizer (HF `BertPreTokenizer`): split at whitespace; every punctuation
/// character, ASCII symbol and CJK ideograph is a word of its own.
struct BertPreTokenizer: Sendable {
  func words(_ text: String) -> [String] {
    var words: [String] = []
    var current = String.UnicodeScalarView()
    func finish() {
      if !current.isEmpty { words.append(String(current)) }
      current = String.UnicodeScalarView()
    }
    for scalar in text.unicodeScalars {
      if scalar.properties.isWhitespace {
        finish()
      } else if Self.isolates(scalar) {
        finish()
        words.append(String(scalar))
      } else {
        current.append(scalar)
      }
    }
    finish()
    return words
  }

  private static func isolates(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.properties.generalCategory {
    case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation,
      .finalPunctuation, .otherPunctuation:
      return true
    case .mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol:
      if scalar.value < 0x7F { return true }
    default: break
    }
    return isCJK(scalar.value)
  }

  /// The CJK Unified Ideographs blocks BERT isolates (HF `_is_chinese_char`).
  private static func isCJK(_ v: UInt32) -> Bool {
    (0x4E00...0x9FFF).contains(v) || (0x3400...0x4DBF).contains(v) || (0x20000...0x2A6DF).contains(v)
      || (0x2A700...0x2B73F).contains(v) || (0x2B740...0x2B81F).contains(v) || (0x2B920...0x2CEAF).contains(v)
      || (0xF900...0xFAFF).contains(v) || (0x2F800...0x2FA1F).contains(v)
  }
}

/// Greedy longest-match-first WordPiece. GGUF vocabularies written by llama.cpp's converter mark
/// word starts with "▁" and continuations bare; HF vocabularies keep words bare and prefix
/// continuations with "##". Which one applies is read from the vocabulary itself. A word with a
/// part no piece matches becomes the unknown token.
struct WordPieceEncoder: Sendable {
  private let tokenIDs: [String: Int]
  private let unknownToken: Int?
  private let usesPhantomSpace: Bool
  private let maxPieceLength: Int

  init(vocabulary: TokenizerVocabulary, tokenIDs: [String: Int]) {
    self.tokenIDs = tokenIDs
    unknownToken = vocabulary.unknownToken ?? tokenIDs["[UNK]"]
    usesPhantomSpace = !vocabulary.tokens.contains { $0.hasPrefix("##") }
    maxPieceLength = vocabulary.tokens.reduce(0) { max($0, $1.unicodeScalars.count) }
  }

  func encode(word: String, into output: inout [Int]) {
    let scalars = Array((usesPhantomSpace ? "\u{2581}" + word : word).unicodeScalars)
    var pieces: [Int] = []
    var start = 0
    while start < scalars.count {
      var end = min(scalars.count, start + maxPieceLength)
      var found: Int?
      while end > start {
        var piece = String(String.UnicodeScalarView(scalars[start..<end]))
        if start > 0 && !usesPhantomSpace { piece = "##" + piece }
        if let id = tokenIDs[piece] {
          found = id
          break
        }
        end -= 1
      }
      guard let id = found else {
        if let unknownToken { output.append(unknownToken) }
        return
      }
      pieces.append(id)
      start = end
    }
    output.append(contentsOf: pieces)
  }
}
