import Foundation
import MuseEngine

/// A content-safety head over all-MiniLM-L6-v2 sentence features, trained by
/// Scripts/guard/train_moderation_head.py and bundled as Resources/guard/moderation-head.json:
/// one logistic-regression head per OpenAI moderation category, each with its own threshold, and
/// extra heads: the `gate` (the shipped head's `harm`, any harm at all), whose probability scales
/// the categories' (each category scores the geometric mean of its head's and the gate's) and,
/// with `gate_flags`, flags a text on its own at a strict threshold, and
/// any that only feed the overall decision (`--request-head` trains one; the shipped head has
/// none).
public struct ModerationHead: Decodable, Sendable {
  public struct EmbeddingModelIdentity: Decodable, Sendable {
    public var name: String
    /// SHA-256 of the model.safetensors the head was trained on.
    public var sha256: String
  }

  public struct Head: Decodable, Sendable {
    public var name: String
    public var weights: [Double]
    public var bias: Double
    /// Flag when the score (a probability) is at least this.
    public var threshold: Double
  }

  public struct Window: Decodable, Sendable {
    /// Tokens one window holds, [CLS] and [SEP] included (the model's maximum).
    public var maxTokens: Int
    /// Content tokens between the starts of two windows.
    public var stride: Int

    enum CodingKeys: String, CodingKey {
      case maxTokens = "max_tokens"
      case stride
    }
  }

  /// The OpenAI categories, in order (`sexual`, `hate`, …).
  public var categories: [String]
  /// One per category, then any extra heads.
  public var heads: [Head]
  /// What the weights multiply, concatenated: `mean` (the mean-pooled, L2-normalised sentence
  /// embedding), `cls` (the [CLS] hidden state, L2-normalised), `max` (the token-wise max,
  /// L2-normalised), each of the last layer's states, or of layer N's with `@N` (`mean@3`; 0 is
  /// the embeddings); `offensive` (one value: `OffensiveLanguageModel`'s scaled logit).
  public var features: [String]
  public var window: Window
  public var embeddingModel: EmbeddingModelIdentity
  /// The head whose probability gates the categories' (nil: none): a category's score is
  /// √(its head's probability × the gate's), per window.
  public var gate: String?
  /// Whether the gate also flags on its own, at its threshold (a strict one: the training script
  /// caps it at 2 % of the harmless texts); a text it flags where no category reaches its own
  /// threshold has its highest-scoring category flagged, so every flag names a category. Absent:
  /// the gate only scales the categories.
  public var gateFlags: Bool?

  enum CodingKeys: String, CodingKey {
    case categories, heads, features, window, gate
    case embeddingModel = "embedding_model"
    case gateFlags = "gate_flags"
  }

  /// The head bundled with the server (Resources/guard/moderation-head.json).
  public static func bundled() throws -> ModerationHead {
    guard
      let url = Bundle.module.url(
        forResource: "moderation-head", withExtension: "json", subdirectory: "Resources/guard")
    else { throw ModerationClassifierError.missingResource("Resources/guard/moderation-head.json") }
    return try decode(Data(contentsOf: url))
  }

  /// Decodes and checks a head: every category has a head and every head the right width.
  public static func decode(_ data: Data) throws -> ModerationHead {
    let head = try JSONDecoder().decode(ModerationHead.self, from: data)
    let names = head.heads.map(\.name)
    if let missing = head.categories.first(where: { !names.contains($0) }) {
      throw ModerationClassifierError.badHead("no head for category \(missing)")
    }
    if head.features.isEmpty || head.features.contains(where: { Feature($0) == nil }) {
      throw ModerationClassifierError.badHead(
        "features \(head.features): expected some of mean, cls, max, each optionally @layer, or offensive")
    }
    if let gate = head.gate, !names.contains(gate) || head.categories.contains(gate) {
      throw ModerationClassifierError.badHead("gate \(gate): expected an extra head (not a category)")
    }
    if head.window.maxTokens < 3 || head.window.stride < 1 {
      throw ModerationClassifierError.badHead("window \(head.window.maxTokens)/\(head.window.stride)")
    }
    return head
  }
}

/// One entry of `ModerationHead.features`.
enum Feature: Equatable {
  enum Pooling: String { case mean, cls, max }
  /// `mean`, `cls` or `max`, optionally `@layer`: a pooling of one layer's hidden states (nil:
  /// the last), L2-normalised, `model.dimensions` values.
  case pooled(Pooling, layer: Int?)
  /// `offensive`: `OffensiveLanguageModel`'s logit of the whole text times its feature scale, one
  /// value, the same in every window.
  case offensive

  init?(_ name: String) {
    if name == "offensive" {
      self = .offensive
      return
    }
    let parts = name.split(separator: "@", omittingEmptySubsequences: false)
    guard let pooling = Pooling(rawValue: String(parts[0])), parts.count <= 2 else { return nil }
    guard parts.count == 2 else {
      self = .pooled(pooling, layer: nil)
      return
    }
    guard let layer = Int(parts[1]), layer >= 0 else { return nil }
    self = .pooled(pooling, layer: layer)
  }

  /// How many values the feature adds to a window's features.
  func width(dimensions: Int) -> Int {
    if case .pooled = self { return dimensions }
    return 1
  }

  /// The layer a pooled feature reads (nil for `offensive`).
  var layer: Int? {
    if case .pooled(_, let layer) = self { return layer }
    return nil
  }
}

public enum ModerationClassifierError: Error, CustomStringConvertible {
  case missingResource(String)
  case badHead(String)
  case wrongEmbeddingModel(path: String, expected: String, expectedSHA256: String, found: String)

  public var description: String {
    switch self {
    case .missingResource(let path): return "the moderation head is missing from the bundle: \(path)"
    case .badHead(let reason): return "invalid moderation head: \(reason)"
    case .wrongEmbeddingModel(let path, let expected, let sha, let found):
      return
        "the moderation head was trained on \(expected) (model.safetensors SHA-256 \(sha)), but "
        + "\(path)/model.safetensors has SHA-256 \(found): serve the model the head was trained on "
        + "or retrain the head (Scripts/guard/train_moderation_head.py)"
    }
  }
}

/// What the classifier says about one text.
public struct ModerationScores: Sendable, Equatable {
  /// Each category's probability in 0…1 (the max over the text's windows).
  public var scores: [String: Double]
  /// Whether each category's score reaches its threshold.
  public var flagged: [String: Bool]
  /// Whether any head — a category's or an extra one such as `request`, not the gate — reaches its
  /// threshold.
  public var anyFlagged: Bool
  /// Tokens encoded, all windows together, [CLS] and [SEP] included.
  public var tokens: Int
}

/// Classifies texts with a `ModerationHead` on an `EmbeddingModel`'s last hidden states.
///
/// Long texts: the head reads windows of `maxTokens` (128; MiniLM takes 256) tokens. A text with
/// more is cut, by tokens, into windows of `maxTokens − 2` content tokens (each wrapped in
/// [CLS] … [SEP]) starting every `stride` (64) tokens, the last window ending at the text's end,
/// so every token is seen and neighbours overlap; each head's score is the max over the windows
/// (harm anywhere flags the text; a mean over longer windows diluted it).
public final class ModerationClassifier: Sendable {
  public let model: EmbeddingModel
  public let head: ModerationHead
  /// SHA-256 of the model's model.safetensors (computed once, at init).
  public let weightsDigest: String
  /// `head.features`, each pooled one with its layer (never nil here: the last layer's number
  /// filled in).
  let features: [Feature]
  /// The offensive-language model where `features` has `offensive`.
  let offensiveLanguage: OffensiveLanguageModel?
  /// The layers `features` read, ascending: what one encoder pass hands back per window.
  let featureLayers: [Int]
  /// Where every classification runs (`classifyOffLoop`).
  let queue = DispatchQueue(label: "muse.guard.moderation")

  public var categories: [String] { head.categories }

  /// `offensiveLanguage`: the model behind an `offensive` feature (nil: the bundled one, loaded
  /// only where the head has that feature).
  public init(model: EmbeddingModel, head: ModerationHead, offensiveLanguage: OffensiveLanguageModel? = nil)
    throws
  {
    let digest = try EmbeddingRunner.sha256(path: model.path + "/model.safetensors")
    guard digest == head.embeddingModel.sha256.lowercased() else {
      throw ModerationClassifierError.wrongEmbeddingModel(
        path: model.path, expected: head.embeddingModel.name, expectedSHA256: head.embeddingModel.sha256,
        found: digest)
    }
    let layers = model.encoder.config.layers
    let features = head.features.compactMap(Feature.init)
    let width = features.reduce(0) { $0 + $1.width(dimensions: model.dimensions) }
    if let bad = head.heads.first(where: { $0.weights.count != width }) {
      throw ModerationClassifierError.badHead(
        "head \(bad.name) has \(bad.weights.count) weights, features \(head.features) of \(model.dimensions) need \(width)"
      )
    }
    if let deep = features.compactMap(\.layer).first(where: { $0 > layers }) {
      throw ModerationClassifierError.badHead("a feature of layer \(deep), the model has \(layers)")
    }
    if head.window.maxTokens > model.maxTokens {
      throw ModerationClassifierError.badHead(
        "windows of \(head.window.maxTokens) tokens, the model takes \(model.maxTokens)")
    }
    self.model = model
    self.head = head
    self.features = features.map {
      if case .pooled(let pooling, nil) = $0 { return .pooled(pooling, layer: layers) }
      return $0
    }
    featureLayers = Array(Set(self.features.compactMap(\.layer))).sorted()
    self.offensiveLanguage = features.contains(.offensive) ? try offensiveLanguage ?? .bundled() : nil
    weightsDigest = digest
  }

  /// The threshold of a head (a category or an extra head), nil for an unknown name.
  public func threshold(for name: String) -> Double? {
    head.heads.first { $0.name == name }?.threshold
  }

  /// The most windows one text is classified on (the shipped head's 128-token windows every 64
  /// tokens: ~2,100 tokens seen whole, 4,096 encoded); a longer text is read in that many evenly
  /// spaced windows, so no request can make a rail or the endpoint encode without bound.
  public static let maxWindows = 32

  /// The token windows `text` is classified on, each with [CLS]/[SEP].
  public func windows(_ text: String) -> [[Int]] {
    let tokenizer = model.tokenizer
    var ids = tokenizer.encode(text, addSpecial: true)
    var prefix: [Int] = []
    var suffix: [Int] = []
    if tokenizer.addsBOS, let first = ids.first, first == tokenizer.bosToken {
      prefix = [first]
      ids.removeFirst()
    }
    if tokenizer.addsEOS, let last = ids.last, last == tokenizer.eosToken {
      suffix = [last]
      ids.removeLast()
    }
    let width = head.window.maxTokens - prefix.count - suffix.count
    guard ids.count > width else { return [prefix + ids + suffix] }
    var starts = Array(stride(from: 0, to: ids.count - width, by: head.window.stride))
    starts.append(ids.count - width)
    if starts.count > Self.maxWindows {
      // A bound on the work one text can ask for: evenly spaced windows, first and last kept.
      let last = starts.count - 1
      starts = (0..<Self.maxWindows).map { starts[$0 * last / (Self.maxWindows - 1)] }
    }
    return starts.map { prefix + ids[$0..<($0 + width)] + suffix }
  }

  /// The features of one window: `head.features` concatenated, in Double; `offensive` is the
  /// text's value, computed once for all its windows.
  func windowFeatures(_ window: [Int], offensive: Double?) throws -> [Double] {
    let states = try model.encoder.layerStates(window, layers: featureLayers)
    let h = model.dimensions
    let t = window.count
    var out: [Double] = []
    out.reserveCapacity(features.count * h)
    for feature in features {
      guard case .pooled(let pooling, let layer) = feature else {
        out.append(offensive ?? 0)
        continue
      }
      let x = states[featureLayers.firstIndex(of: layer ?? 0) ?? 0]
      var v = [Double](repeating: pooling == .max ? -.infinity : 0, count: h)
      switch pooling {
      case .cls: for j in 0..<h { v[j] = Double(x[j]) }
      case .max:
        for i in 0..<t { for j in 0..<h { v[j] = max(v[j], Double(x[i * h + j])) } }
      case .mean:
        for i in 0..<t { for j in 0..<h { v[j] += Double(x[i * h + j]) } }
      }
      let norm = max(v.reduce(0) { $0 + $1 * $1 }.squareRoot(), 1e-12)
      out += v.map { $0 / norm }
    }
    return out
  }

  /// Every head's probability on each window of one text (windows in order, heads in
  /// `head.heads` order), and the tokens encoded.
  public func windowProbabilities(_ text: String) throws -> (windows: [[Double]], tokens: Int) {
    var out: [[Double]] = []
    var tokens = 0
    let offensive = offensiveLanguage.map { $0.logit(text) * $0.featureScale }
    for window in windows(text) {
      let x = try windowFeatures(window, offensive: offensive)
      tokens += window.count
      out.append(
        head.heads.map { h in
          var z = h.bias
          for (w, v) in zip(h.weights, x) { z += w * v }
          return 1 / (1 + exp(-z))
        })
    }
    return (out, tokens)
  }

  /// Every head's score for one text, in `head.heads` order: per window its probability, a
  /// category's gated (√(p × the gate's p)) when the head has a gate; then the max over windows.
  public func headScores(_ text: String) throws -> (scores: [Double], tokens: Int) {
    let (probabilities, tokens) = try windowProbabilities(text)
    let gate = head.gate.flatMap { name in head.heads.firstIndex { $0.name == name } }
    let gated = head.heads.map { gate != nil && head.categories.contains($0.name) }
    var best = [Double](repeating: 0, count: head.heads.count)
    for p in probabilities {
      for k in best.indices {
        best[k] = max(best[k], gated[k] ? (p[k] * p[gate!]).squareRoot() : p[k])
      }
    }
    return (best, tokens)
  }

  public func classify(_ texts: [String]) throws -> [ModerationScores] {
    try texts.map { text in
      let (values, tokens) = try headScores(text)
      var scores: [String: Double] = [:]
      var flagged: [String: Bool] = [:]
      var any = false
      var gateHit = false
      var top: (name: String, score: Double)?
      for (h, value) in zip(head.heads, values) {
        let hit = value >= h.threshold
        if h.name == head.gate {
          gateHit = hit && head.gateFlags == true
        } else {
          any = any || hit
        }
        if head.categories.contains(h.name) {
          scores[h.name] = value
          flagged[h.name] = hit
          if value > top?.score ?? -.infinity { top = (h.name, value) }
        }
      }
      if gateHit {
        // The gate flags alone: the text's highest-scoring category names why.
        any = true
        if let top, !flagged.values.contains(true) { flagged[top.name] = true }
      }
      return ModerationScores(scores: scores, flagged: flagged, anyFlagged: any, tokens: tokens)
    }
  }
}

extension ModerationClassifier {
  /// How many tokens `text` is, before windowing (for admission and the request cap).
  public func tokenCount(_ text: String) -> Int { model.tokenizer.encode(text, addSpecial: true).count }

  /// `classify` on the classifier's own serial queue, off the async executors: the encoder's
  /// buffers are not shared between threads, so every caller (the moderation endpoint, each
  /// model's moderation rails) takes this one queue.
  public func classifyOffLoop(_ texts: [String]) async throws -> [ModerationScores] {
    try await withCheckedThrowingContinuation { continuation in
      queue.async { [self] in continuation.resume(with: Result { try classify(texts) }) }
    }
  }
}
