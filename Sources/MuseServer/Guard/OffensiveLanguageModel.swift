import Foundation

/// alt-profanity-check 1.9.1's offensive-language model (MIT; a TF-IDF vector of a text's words
/// and five calibrated linear SVMs trained on ~200k labelled offensive and clean texts) as one
/// linear function: the mean of the five SVMs' calibrated logits. Bundled as
/// Resources/guard/offensive-language.json, written by Scripts/guard/offensive_language.py from
/// the fitted scikit-learn model; the moderation head reads `logit × featureScale` as its
/// `offensive` feature (BENCHMARKS.md: +0.02 AUPRC next to MiniLM's layer means).
///
/// The words are scikit-learn's: the text lower-cased (as Python does it), then every maximal run of two or more word
/// characters (Python's `\w`: a letter, a number or `_`, per Unicode scalar); words outside the
/// vocabulary are dropped, the counts times each word's idf are L2-normalised.
public struct OffensiveLanguageModel: Sendable {
  struct Resource: Decodable {
    var format: String
    var lowercase: Bool
    var tokenPattern: String
    var norm: String
    var featureScale: Double
    var bias: Double
    var words: [String]
    var idf: [Double]
    var weights: [Double]

    enum CodingKeys: String, CodingKey {
      case format, lowercase, norm, bias, words, idf, weights
      case tokenPattern = "token_pattern"
      case featureScale = "feature_scale"
    }
  }

  /// Each vocabulary word's column, keyed by its UTF-8 bytes (code point for code point, as
  /// Python compares strings; Swift's `String` equality would join canonically equivalent ones).
  let columns: [[UInt8]: Int]
  let idf: [Double]
  let weights: [Double]
  let bias: Double
  /// What the moderation head's `offensive` feature multiplies the logit by.
  public let featureScale: Double

  /// Decodes and checks a resource: the vectorizer settings this type implements, and one idf
  /// and one weight per word.
  public init(data: Data) throws {
    let r = try JSONDecoder().decode(Resource.self, from: data)
    func bad(_ why: String) -> ModerationClassifierError { .badHead("offensive-language model: \(why)") }
    guard r.format == "muse-offensive-language/1" else { throw bad("format \(r.format)") }
    guard r.lowercase, r.tokenPattern == #"(?u)\b\w\w+\b"#, r.norm == "l2" else {
      throw bad("vectorizer settings \(r.lowercase) \(r.tokenPattern) \(r.norm)")
    }
    guard r.idf.count == r.words.count, r.weights.count == r.words.count else {
      throw bad("\(r.words.count) words, \(r.idf.count) idf, \(r.weights.count) weights")
    }
    guard (r.idf + r.weights + [r.bias, r.featureScale]).allSatisfy(\.isFinite) else {
      throw bad("a value is not finite")
    }
    var columns: [[UInt8]: Int] = [:]
    for (i, word) in r.words.enumerated() { columns[Array(word.utf8)] = i }
    guard columns.count == r.words.count else { throw bad("a word appears twice") }
    self.columns = columns
    idf = r.idf
    weights = r.weights
    bias = r.bias
    featureScale = r.featureScale
  }

  /// The model bundled with the server, decoded once.
  public static func bundled() throws -> OffensiveLanguageModel { try bundledResult.get() }

  private static let bundledResult = Result<OffensiveLanguageModel, Error> {
    guard
      let url = Bundle.module.url(
        forResource: "offensive-language", withExtension: "json", subdirectory: "Resources/guard")
    else { throw ModerationClassifierError.missingResource("Resources/guard/offensive-language.json") }
    return try OffensiveLanguageModel(data: Data(contentsOf: url))
  }

  /// Python's `\w` for str patterns: `str.isalnum()` (letters Lu Ll Lt Lm Lo, and every scalar
  /// with a numeric type) or `_`.
  static func isWordScalar(_ s: Unicode.Scalar) -> Bool {
    if s == "_" { return true }
    switch s.properties.generalCategory {
    case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return true
    default: return s.properties.numericType != nil
    }
  }

  /// `text` lower-cased as Python's `str.lower()` does it: each scalar's full lowercase mapping
  /// (İ → i̇), and Σ → ς at the end of a word (Unicode's Final_Sigma context: a cased letter
  /// before it and none after it, case-ignorable scalars skipped), which Swift's `lowercased()`
  /// leaves out.
  static func pythonLowercased(_ text: String) -> [Unicode.Scalar] {
    let scalars = Array(text.unicodeScalars)
    var out: [Unicode.Scalar] = []
    out.reserveCapacity(scalars.count)
    func cased(from start: Int, by step: Int) -> Bool {
      var j = start
      while scalars.indices.contains(j) {
        let p = scalars[j].properties
        if !p.isCaseIgnorable { return p.isCased }
        j += step
      }
      return false
    }
    for (i, scalar) in scalars.enumerated() {
      if scalar == "\u{03A3}" {
        out.append(cased(from: i - 1, by: -1) && !cased(from: i + 1, by: 1) ? "\u{03C2}" : "\u{03C3}")
      } else {
        out += scalar.properties.lowercaseMapping.unicodeScalars
      }
    }
    return out
  }

  /// The vocabulary columns of `text`'s words, with their counts.
  func counts(_ text: String) -> [Int: Int] {
    var counts: [Int: Int] = [:]
    var word: [UInt8] = []
    var length = 0
    func flush() {
      if length >= 2, let column = columns[word] { counts[column, default: 0] += 1 }
      word.removeAll(keepingCapacity: true)
      length = 0
    }
    for scalar in Self.pythonLowercased(text) {
      if Self.isWordScalar(scalar) {
        UTF8.encode(scalar) { word.append($0) }
        length += 1
      } else {
        flush()
      }
    }
    flush()
    return counts
  }

  /// The mean calibrated logit that `text` is offensive (the bias alone for a text with no
  /// vocabulary word).
  public func logit(_ text: String) -> Double {
    var dot = 0.0
    var squares = 0.0
    // Columns in order: the same bits in every process (a dictionary's order is per process).
    for (column, count) in counts(text).sorted(by: { $0.key < $1.key }) {
      let v = Double(count) * idf[column]
      dot += v * weights[column]
      squares += v * v
    }
    return squares > 0 ? dot / squares.squareRoot() + bias : bias
  }
}
