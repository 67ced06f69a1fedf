import Foundation
import MuseEngine
import MuseTestSupport
import Testing

@testable import MuseServer

/// The bundled moderation head on all-MiniLM-L6-v2 (Scripts/fixtures/fetch-minilm.sh) against the
/// scores Scripts/guard/train_moderation_head.py computed for the same texts with its own NumPy
/// MiniLM (Tests/Fixtures/guard/moderation-golden.json).
@Suite(.serialized)
struct ModerationClassifierTests {
  struct Golden: Decodable {
    struct Item: Decodable {
      let text: String
      let windows: Int
      let tokens: Int
      let window_probabilities: [[String: Double]]
      let scores: [String: Double]
      let any_flagged: Bool
      let flagged_categories: [String]
    }
    let embedding_sha256: String
    let items: [Item]
  }

  static let model: EmbeddingModel? = try? EmbeddingModel(
    path: TestPaths.cacheDirectory + "/models/all-MiniLM-L6-v2", threads: 2)

  func model() throws -> EmbeddingModel {
    _ = try TestPaths.cachedModel("all-MiniLM-L6-v2")
    guard let model = Self.model else { throw TestPaths.MissingModel(path: "all-MiniLM-L6-v2") }
    return model
  }

  static let classifier: ModerationClassifier? = model.flatMap {
    try? ModerationClassifier(model: $0, head: ModerationHead.bundled())
  }

  func classifier() throws -> ModerationClassifier {
    if let classifier = Self.classifier { return classifier }
    return try ModerationClassifier(model: model(), head: ModerationHead.bundled())
  }

  @Test func bundledHeadDecodes() throws {
    let head = try ModerationHead.bundled()
    #expect(
      head.categories == [
        "sexual", "hate", "violence", "harassment", "self-harm", "sexual/minors", "hate/threatening",
        "violence/graphic",
      ])
    #expect(head.embeddingModel.sha256 == "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db")
    #expect(head.window.maxTokens == 128 && head.window.stride == 64)
    #expect(head.gate == "harm" && head.heads.map(\.name) == head.categories + ["harm"])
    #expect(head.features.last == "offensive" && head.gateFlags == true)
    for h in head.heads {
      #expect(h.weights.count == 384 * (head.features.count - 1) + 1, "\(h.name)")
      #expect(h.threshold > 0 && h.threshold < 1, "\(h.name)")
    }
  }

  /// Per-head tolerance: a feature differs from the NumPy reference by at most ε (MiniLM in Swift
  /// vs sentence-transformers is within 1e-5 per component, EmbeddingGoldenTests; 1e-4 is taken
  /// for margin), so the logit differs by at most ‖w‖₁·ε and the probability by a quarter of that
  /// (the sigmoid's slope is at most ¼), plus the golden file's rounding. Every window's
  /// probability is checked so; the text's scores are then the gated max of those (exactly), and
  /// the golden file's scores the same function of its own probabilities.
  @Test func scoresMatchNumPyGolden() throws {
    let golden = try TestPaths.golden("guard/moderation-golden.json", as: Golden.self)
    let classifier = try classifier()
    #expect(golden.embedding_sha256 == classifier.weightsDigest)
    let heads = classifier.head.heads
    let gate = try #require(heads.firstIndex { $0.name == classifier.head.gate })
    func gatedMax(_ windows: [[Double]]) -> [Double] {
      heads.indices.map { k in
        windows.map { p in
          classifier.categories.contains(heads[k].name) ? (p[k] * p[gate]).squareRoot() : p[k]
        }
        .max()!
      }
    }
    let results = try classifier.classify(golden.items.map(\.text))
    for (item, result) in zip(golden.items, results) {
      let label = String(item.text.prefix(30))
      #expect(classifier.windows(item.text).count == item.windows, "\(label)")
      #expect(result.tokens == item.tokens, "\(label)")
      let (windows, _) = try classifier.windowProbabilities(item.text)
      #expect(windows.count == item.window_probabilities.count, "\(label)")
      for (ours, theirs) in zip(windows, item.window_probabilities) {
        for (h, value) in zip(heads, ours) {
          let expected = try #require(theirs[h.name])
          let tolerance = 0.25 * h.weights.reduce(0) { $0 + abs($1) } * 1e-4 + 1e-6
          #expect(abs(value - expected) <= tolerance, "\(h.name) of \(label): \(value) vs \(expected)")
        }
      }
      let expectedScores = gatedMax(item.window_probabilities.map { p in heads.map { p[$0.name]! } })
      for (h, value) in zip(heads, expectedScores) {
        #expect(abs(value - item.scores[h.name]!) <= 1e-12, "the golden file's own \(h.name) of \(label)")
      }
      let (all, _) = try classifier.headScores(item.text)
      #expect(all == gatedMax(windows), "\(label)")
      for (h, value) in zip(heads, all) where classifier.categories.contains(h.name) {
        #expect(result.scores[h.name] == value)
      }
      #expect(result.anyFlagged == item.any_flagged, "\(label)")
      #expect(Set(result.flagged.filter(\.value).map(\.key)) == Set(item.flagged_categories), "\(label)")
    }
  }

  /// Feature names: a pooling, optionally `@layer`, or `offensive`; anything else is refused when
  /// the head is decoded, and a layer the encoder does not have when the classifier is built.
  @Test func featureNamesNameAPoolingAndALayer() throws {
    #expect(Feature("mean") == .pooled(.mean, layer: nil))
    #expect(Feature("max@0") == .pooled(.max, layer: 0))
    #expect(Feature("cls@6") == .pooled(.cls, layer: 6))
    #expect(Feature("offensive") == .offensive)
    for bad in ["", "sum", "mean@", "mean@-1", "mean@x", "mean@1@2", "Mean", "offensive@1", "Offensive"] {
      #expect(Feature(bad) == nil, "\(bad)")
    }
    func head(features: String) -> Data {
      Data(
        """
        {"categories": ["sexual"], "heads": [{"name": "sexual", "weights": [0], "bias": 0, "threshold": 0.5}],
         "features": [\(features)], "window": {"max_tokens": 256, "stride": 128},
         "embedding_model": {"name": "m", "sha256": "0"}}
        """.utf8)
    }
    #expect(try ModerationHead.decode(head(features: #""mean@3", "max""#)).features == ["mean@3", "max"])
    #expect(throws: ModerationClassifierError.self) {
      try ModerationHead.decode(head(features: #""mean@x""#))
    }
    #expect(throws: ModerationClassifierError.self) { try ModerationHead.decode(head(features: "")) }
    var head = try ModerationHead.bundled()
    head.features = head.features.map { $0 == "offensive" ? $0 : "mean@7" }
    #expect(throws: ModerationClassifierError.self) { try ModerationClassifier(model: model(), head: head) }
  }

  /// The gate names an extra head, never a category or a head that is not there; it flags on its
  /// own only where the head says `gate_flags`, and then names the text's top category.
  @Test func gateMustNameAnExtraHead() throws {
    func head(gate: String) -> Data {
      Data(
        """
        {"categories": ["sexual"], "heads": [{"name": "sexual", "weights": [0], "bias": 0, "threshold": 0.5},
          {"name": "harm", "weights": [0], "bias": 0, "threshold": 0.5}], "gate": "\(gate)",
         "features": ["mean"], "window": {"max_tokens": 128, "stride": 64},
         "embedding_model": {"name": "m", "sha256": "0"}}
        """.utf8)
    }
    #expect(try ModerationHead.decode(head(gate: "harm")).gate == "harm")
    for bad in ["sexual", "nope", ""] {
      #expect(throws: ModerationClassifierError.self, "\(bad)") { try ModerationHead.decode(head(gate: bad)) }
    }
    // A text the gate alone would flag (its threshold set to 0) is not flagged for it without
    // `gate_flags`; with it, it is, under its highest-scoring category and that one only.
    let classifier = try classifier()
    var gateOnly = classifier.head
    for k in gateOnly.heads.indices {
      gateOnly.heads[k].threshold = gateOnly.heads[k].name == "harm" ? 0 : 2
    }
    gateOnly.gateFlags = nil
    let relaxed = try ModerationClassifier(model: classifier.model, head: gateOnly)
    let morning = "What a lovely morning."
    #expect(try relaxed.classify([morning])[0].anyFlagged == false)
    gateOnly.gateFlags = true
    let flagging = try ModerationClassifier(model: classifier.model, head: gateOnly)
    let result = try flagging.classify([morning])[0]
    let top = try #require(result.scores.max { $0.value < $1.value }?.key)
    #expect(result.anyFlagged && result.flagged.filter(\.value).map(\.key) == [top])
  }

  @Test func wrongEmbeddingModelIsRefused() throws {
    var head = try ModerationHead.bundled()
    head.embeddingModel.sha256 = String(repeating: "0", count: 64)
    let model = try model()
    do {
      _ = try ModerationClassifier(model: model, head: head)
      Issue.record("a head trained on another model was accepted")
    } catch let error as ModerationClassifierError {
      let message = "\(error)"
      #expect(message.contains(String(repeating: "0", count: 64)))
      #expect(message.contains("53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"))
      #expect(message.contains("retrain the head"))
    }
  }

  /// A text longer than one window (the head's 128 tokens) is classified on overlapping windows
  /// that cover every token, and the score is the max over them: self-harm talk at the end, cut
  /// off by plain truncation, counts.
  @Test func longTextIsWindowed() throws {
    let classifier = try classifier()
    let calm = (1...40).map {
      "Sentence \($0): the quiet river flows past the old mill and the green fields."
    }
    let harm = Array(repeating: "I've been cutting myself again and I don't want to stop.", count: 8)
    let text = (calm + harm).joined(separator: " ")
    let windows = classifier.windows(text)
    #expect(windows.count > 1)
    let content = classifier.model.tokenizer.encode(text, addSpecial: true).dropFirst().dropLast()
    let size = classifier.head.window.maxTokens
    let stride = classifier.head.window.stride
    #expect(windows.allSatisfy { $0.count == size && $0.first == 101 && $0.last == 102 })
    #expect(Array(windows[0][1..<(size - 1)]) == Array(content.prefix(size - 2)))
    #expect(Array(windows.last![1..<(size - 1)]) == Array(content.suffix(size - 2)))
    for i in 0..<(windows.count - 2) {  // the last window is aligned on the text's end instead
      #expect(
        Array(windows[i][(1 + stride)..<(size - 1)]) == Array(windows[i + 1][1..<(size - 1 - stride)]),
        "windows overlap by \(size - 2 - stride) tokens")
    }
    let whole = try classifier.headScores(text).scores
    let truncated = try classifier.model.embed([text])  // the first window only, as embeddings see it
    #expect(truncated.tokens == 256, "embeddings see sentence-transformers' 256 tokens")
    let selfHarm = try #require(classifier.head.heads.firstIndex { $0.name == "self-harm" })
    let first = try classifier.headScores(calm.joined(separator: " ")).scores
    #expect(whole[selfHarm] > first[selfHarm] + 0.2, "\(whole[selfHarm]) vs \(first[selfHarm])")
    #expect(try classifier.classify([text])[0].flagged["self-harm"] == true)
    #expect(try classifier.classify([text])[0].tokens == windows.count * size)
  }

  /// The rail reports every category with the classifier's score and exposes the head's thresholds.
  @Test func railReportsEveryCategory() async throws {
    let classifier = try classifier()
    let rail = ModerationRail(classifier: classifier)
    #expect(rail.name == "moderation" && !rail.canRedact)
    let text = "People of that religion are vermin and should be wiped out."
    let findings = try await rail.inspect(text)
    #expect(findings.map(\.category) == classifier.categories)
    let direct = try classifier.classify([text])[0]
    for finding in findings {
      #expect(finding.score == direct.scores[finding.category])
      #expect(rail.threshold(for: finding.category) == classifier.threshold(for: finding.category))
    }
    #expect(try await rail.classify(text).flagged["hate"] == true)
  }

  /// A category the gate flags below its own threshold counts for a moderation rule that keeps
  /// the head's thresholds, and not for one that sets its own.
  @Test func aRuleWithoutAThresholdKeepsTheGatesFlags() async throws {
    let classifier = try classifier()
    var gateOnly = classifier.head
    for k in gateOnly.heads.indices where gateOnly.heads[k].name != "harm" { gateOnly.heads[k].threshold = 2 }
    gateOnly.heads[try #require(gateOnly.heads.firstIndex { $0.name == "harm" })].threshold = 0
    gateOnly.gateFlags = true
    let rail = ModerationRail(classifier: try ModerationClassifier(model: classifier.model, head: gateOnly))
    let text = "What a lovely morning."
    let findings = try await rail.inspect(text)
    #expect(findings.filter { $0.flagged == true }.count == 1)
    func rule(railDecides: Bool) -> BoundRule {
      BoundRule(
        rail: rail, stage: .input, action: .block, categories: nil, threshold: { rail.threshold(for: $0) },
        timeout: .seconds(5), railDecides: railDecides)
    }
    #expect(rule(railDecides: true).counted(findings, in: text, allow: []).count == 1)
    #expect(rule(railDecides: false).counted(findings, in: text, allow: []).isEmpty)
  }
}
