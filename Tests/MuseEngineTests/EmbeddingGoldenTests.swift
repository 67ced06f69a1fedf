import Foundation
import MuseModels
import MuseTestSupport
import Testing

@testable import MuseEngine

/// all-MiniLM-L6-v2 (fetched by Scripts/fixtures/fetch-minilm.sh) against sentence-transformers'
/// embeddings of 20 sentences (Scripts/golden/embedding_golden.py).
@Suite(.serialized)
struct EmbeddingGoldenTests {
  struct Golden: Decodable {
    let maxSeqLength: Int
    let dimensions: Int
    let sentences: [String]
    let tokenCounts: [Int]
    let untruncatedTokenCounts: [Int]
    let vectors: [[Float]]
  }

  struct MissingMiniLM: Error, CustomStringConvertible {
    let path: String
    var description: String {
      "\(path) is missing: run Scripts/fixtures/fetch-minilm.sh (CI runs it before the tests)"
    }
  }

  static let folder = TestPaths.cacheDirectory + "/models/all-MiniLM-L6-v2"
  static let model: EmbeddingModel? = try? EmbeddingModel(path: folder, threads: 2)
  static let golden = try? TestPaths.golden("embeddings/minilm-golden.json", as: Golden.self)

  /// Fails (never skips) when the setup step did not fetch the model.
  func loaded() throws -> EmbeddingModel {
    guard FileManager.default.fileExists(atPath: Self.folder + "/model.safetensors") else {
      throw MissingMiniLM(path: Self.folder)
    }
    if let model = Self.model { return model }
    return try EmbeddingModel(path: Self.folder, threads: 2)  // throws the real reason
  }

  func golden() throws -> Golden {
    try Self.golden ?? TestPaths.golden("embeddings/minilm-golden.json", as: Golden.self)
  }

  static func cosine(_ a: [Float], _ b: [Float]) -> Float {
    zip(a, b).map(*).reduce(0, +)
  }

  @Test func shape() throws {
    let model = try loaded()
    let golden = try golden()
    #expect(model.dimensions == 384)
    #expect(model.dimensions == golden.dimensions)
    #expect(model.maxTokens == 256)
    #expect(model.maxTokens == golden.maxSeqLength)
  }

  @Test func tokenCountsMatchSentenceTransformers() throws {
    let model = try loaded()
    let golden = try golden()
    for (i, sentence) in golden.sentences.enumerated() {
      #expect(model.tokens(sentence).count == golden.tokenCounts[i], "sentence \(i): \(sentence.prefix(40))")
      #expect(
        model.tokenizer.encode(sentence, addSpecial: true).count == golden.untruncatedTokenCounts[i],
        "sentence \(i) before truncation")
    }
  }

  /// Every component within 1e-4 of sentence-transformers (F32 torch on CPU).
  @Test func vectorsMatchSentenceTransformers() throws {
    let model = try loaded()
    let golden = try golden()
    let (vectors, tokens) = try model.embed(golden.sentences)
    #expect(tokens == golden.tokenCounts.reduce(0, +))
    #expect(vectors.count == golden.sentences.count)
    var worst: Float = 0
    for (i, (got, want)) in zip(vectors, golden.vectors).enumerated() {
      try #require(got.count == want.count)
      let error = zip(got, want).map { abs($0 - $1) }.max() ?? 0
      worst = max(worst, error)
      #expect(error < 1e-4, "sentence \(i) (\(golden.sentences[i].prefix(40))): max abs diff \(error)")
      let norm = got.map { $0 * $0 }.reduce(0, +).squareRoot()
      #expect(abs(norm - 1) < 1e-5)
    }
    print("all-MiniLM-L6-v2: max abs diff from sentence-transformers over 20 sentences: \(worst)")
  }

  /// The long input is cut to [CLS] + 254 tokens + [SEP]; the reported count is what was encoded.
  @Test func truncatesLikeSentenceTransformers() throws {
    let model = try loaded()
    let golden = try golden()
    let long = try #require(golden.sentences.last)
    let ids = model.tokens(long)
    #expect(ids.count == 256)
    #expect(ids.first == model.tokenizer.id(of: "[CLS]"))
    #expect(ids.last == model.tokenizer.id(of: "[SEP]"))
    #expect(model.tokenizer.encode(long, addSpecial: true).count > 256)
    let (_, tokens) = try model.embed([long, "x"])
    #expect(tokens == 256 + 3)
  }

  @Test func paraphrasesAreCloserThanUnrelatedSentences() throws {
    let model = try loaded()
    let (v, _) = try model.embed([
      "A man is playing a guitar.", "Someone is strumming a guitar.",
      "The stock market fell sharply on Tuesday.", "Shares dropped steeply at the start of the week.",
      "How do I reset my password?", "What are the steps to change my login credentials?",
    ])
    let cos = Self.cosine
    for pair in stride(from: 0, to: 6, by: 2) {
      let same = cos(v[pair], v[pair + 1])
      for other in 0..<6 where other / 2 != pair / 2 {
        #expect(same > cos(v[pair], v[other]) + 0.1, "pair \(pair) vs sentence \(other)")
      }
    }
    #expect(cos(v[0], v[1]) > 0.6)
  }

  /// A batch gives the same vectors as the texts one by one, and an empty batch nothing.
  @Test func batchesAreIndependent() throws {
    let model = try loaded()
    let texts = ["Café au lait", "東京は日本の首都です。", ""]
    let (together, total) = try model.embed(texts)
    var sum = 0
    for (i, text) in texts.enumerated() {
      let (alone, n) = try model.embed([text])
      #expect(alone == [together[i]])
      sum += n
    }
    #expect(total == sum)
    #expect(try model.embed([]).tokens == 0)
  }

  /// Several layers' states from one pass: the last is `hiddenStates`, each is finite and of
  /// the right size, and a layer outside 0...6 is refused. (Their values against the NumPy
  /// reference: ModerationClassifierTests, whose head reads inner layers.)
  @Test func layerStatesIncludeTheLastLayer() throws {
    let encoder = try loaded().encoder
    let ids = try loaded().tokens("The quiet river flows past the old mill.")
    let states = try encoder.layerStates(ids, layers: [0, 3, 6])
    #expect(states.count == 3)
    #expect(states[2] == (try encoder.hiddenStates(ids)))
    for layer in states {
      #expect(layer.count == ids.count * 384)
      #expect(layer.allSatisfy { $0.isFinite })
    }
    #expect(states[0] != states[1] && states[1] != states[2])
    #expect(throws: BertEncoderError.self) { try encoder.layerStates(ids, layers: [7]) }
    #expect(throws: BertEncoderError.self) { try encoder.layerStates(ids, layers: [-1]) }
  }
}
