import Foundation
import MuseKernels
import MuseModels
import MuseTestSupport
import Testing

@testable import MuseEngine

/// Every fixture model against the independent numpy reference (Scripts/golden/reference.py, run by
/// Scripts/golden/make_golden.py on the same GGUF files with gguf-py's dequantization).
struct FixtureGoldenTests {
  struct Golden: Decodable {
    struct Case: Decodable {
      let tokens: [Int]
      let logits: [Float]
      let greedy: [Int]
      // swiftlint:disable:next identifier_name
      let min_margin: Float
    }
    let model: String
    let cases: [Case]
  }

  static let names: [String] = {
    let dir = TestPaths.fixtures.appendingPathComponent("golden").path
    let files = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
    return files.filter {
      $0.hasSuffix(".json")
        && FileManager.default.fileExists(
          atPath: TestPaths.fixture("models/" + $0.replacingOccurrences(of: ".json", with: ".gguf")))
    }.sorted()
  }()

  @Test func everyArchitectureAndFormatHasAFixture() {
    for arch in ["llama", "mixtral", "qwen3moe", "olmoe", "qwen2moe"] {
      for format in ["f32", "f16", "bf16", "q8_0", "q4_0", "q4_1"] {
        #expect(Self.names.contains("\(arch)-\(format).json"), "\(arch)-\(format)")
      }
    }
    #expect(Self.names.contains("llama-q4_k_m.json") && Self.names.contains("qwen3moe-q4_k_m.json"))
  }

  /// Logits within 1e-4 of the reference, relative to the largest reference logit: Muse and
  /// the reference use identical dequantized weights, so only float32-vs-float64 rounding
  /// separates them. Greedy continuations must match token for token.
  @Test(arguments: names)
  func matchesReference(_ name: String) throws {
    let golden = try TestPaths.golden("golden/" + name, as: Golden.self)
    let file = try GGUFFile(path: TestPaths.fixture("models/" + golden.model))
    let model = try TransformerModel(file: file)
    let pool = ThreadPool(threads: 2)
    for c in golden.cases {
      let cache = KVCache(config: model.config, capacity: c.tokens.count + c.greedy.count)
      var logits = try model.forward(c.tokens, start: 0, cache: cache, pool: pool)
      let scale = c.logits.map(abs).max()!
      let worst = zip(logits, c.logits).map { abs($0 - $1) }.max()!
      #expect(
        worst <= 1e-4 * scale, "\(name) prompt of \(c.tokens.count): max error \(worst) at scale \(scale)")
      var generated: [Int] = []
      for i in 0..<c.greedy.count {
        let next = Sampler.argmax(logits)
        generated.append(next)
        logits = try model.forward([next], start: c.tokens.count + i, cache: cache, pool: pool)
      }
      #expect(generated == c.greedy, "\(name) prompt of \(c.tokens.count) (min margin \(c.min_margin))")
    }
  }
}
