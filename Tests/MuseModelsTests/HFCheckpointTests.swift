import Foundation
import MuseKernels
import MuseTestSupport
import Testing

@testable import MuseModels

/// A plain key/value store for model tests (the engine's `KVCache` lives in MuseEngine).
final class TestKeyValueStore: ContiguousKeyValueStore {
  let capacity: Int
  let elementType = KVCacheType.f32
  private let keyStorage: [UnsafeMutablePointer<Float>]
  private let valueStorage: [UnsafeMutablePointer<Float>]

  init(config: TransformerConfig, capacity: Int) {
    self.capacity = capacity
    let stored = Self.positionsStored(capacity: capacity)
    keyStorage = (0..<config.layerCount).map { _ in
      let p = UnsafeMutablePointer<Float>.allocate(capacity: stored * config.keyWidth)
      p.initialize(repeating: 0, count: stored * config.keyWidth)
      return p
    }
    valueStorage = (0..<config.layerCount).map { _ in
      let p = UnsafeMutablePointer<Float>.allocate(capacity: stored * config.valueWidth)
      p.initialize(repeating: 0, count: stored * config.valueWidth)
      return p
    }
  }
  deinit { (keyStorage + valueStorage).forEach { $0.deallocate() } }
  func keys(layer: Int) -> UnsafeMutableRawPointer { UnsafeMutableRawPointer(keyStorage[layer]) }
  func values(layer: Int) -> UnsafeMutableRawPointer { UnsafeMutableRawPointer(valueStorage[layer]) }
}

/// Golden outputs of a fixture folder, computed by transformers (Scripts/fixtures/hf_fixtures.py).
struct HFGolden: Decodable {
  let prompt: String
  // swiftlint:disable identifier_name
  let prompt_ids: [Int]
  let logits: [[Float]]
  let greedy: [Int]
  let greedy_margins: [Float]

  /// The greedy tokens a model whose logits are off by up to `error` must reproduce: those
  /// before the first step where the reference's best two logits are closer than that
  /// (random fixture weights leave some near-ties, which quantization may break either way).
  func greedyPrefix(tolerating error: Float) -> [Int] {
    let cut = greedy_margins.firstIndex { $0 < error } ?? greedy.count
    return Array(greedy.prefix(cut))
  }

  static func load(_ name: String) throws -> HFGolden {
    try TestPaths.golden("hf/\(name)/golden.json", as: HFGolden.self)
  }
}

enum HFModelRun {
  /// Logits of every prompt position, then a greedy continuation decoded one token at a time
  /// against the cache.
  static func run(_ model: TransformerModel, prompt: [Int], steps: Int) throws -> (
    logits: [Float], greedy: [Int]
  ) {
    let pool = ThreadPool(threads: 2)
    let cache = TestKeyValueStore(config: model.config, capacity: prompt.count + steps + 1)
    let logits = try model.forward(prompt, start: 0, cache: cache, pool: pool, allLogits: true)
    let v = model.config.vocabularySize
    var last = Array(logits[(prompt.count - 1) * v..<prompt.count * v])
    var generated: [Int] = []
    for i in 0..<steps {
      let next = last.indices.max { last[$0] < last[$1] }!
      generated.append(next)
      if i + 1 < steps {
        last = try model.forward([next], start: prompt.count + i, cache: cache, pool: pool)
      }
    }
    return (logits, generated)
  }

  /// The largest |muse − reference| over all positions, and the reference's largest |logit|.
  static func error(_ logits: [Float], _ golden: HFGolden) -> (worst: Float, scale: Float) {
    let reference = golden.logits.flatMap { $0 }
    let scale = reference.map(abs).max()!
    let worst = zip(logits, reference).map { abs($0 - $1) }.max()!
    return (worst, scale)
  }
}

struct HFCheckpointTests {
  static let folders = [
    "llama-f32", "llama-bf16-sharded", "mixtral-f32", "qwen3moe-f16", "olmoe-f32", "qwen2moe-f32",
  ]

  /// Every fixture folder, loaded straight from safetensors, against transformers' own logits
  /// (float32 over the same dtype-rounded weights): within 1e-4 × max|logit| and the same greedy
  /// continuation.
  @Test(arguments: folders)
  func matchesTransformers(_ name: String) throws {
    let golden = try HFGolden.load(name)
    let source = try HuggingFaceCheckpoint(folder: TestPaths.fixture("hf/" + name))
    let model = try TransformerModel(file: source)
    let (logits, greedy) = try HFModelRun.run(model, prompt: golden.prompt_ids, steps: golden.greedy.count)
    let (worst, scale) = HFModelRun.error(logits, golden)
    #expect(worst <= 1e-4 * scale, "\(name): max error \(worst) at scale \(scale)")
    #expect(greedy == golden.greedy, "\(name)")
  }

  @Test func mapsConfigToGGUFMetadata() throws {
    let source = try HuggingFaceCheckpoint(folder: TestPaths.fixture("hf/qwen3moe-f16"))
    #expect(source.architecture == "qwen3moe")
    #expect(try source.int("qwen3moe.embedding_length") == 32)
    #expect(try source.int("qwen3moe.expert_count") == 4)
    #expect(try source.int("qwen3moe.expert_feed_forward_length") == 16)
    #expect(try source.double("qwen3moe.rope.freq_base") == 1e6)
    #expect(source.metadata["qwen3moe.expert_weights_norm"] == .bool(true))
    let experts = try #require(source.tensorInfo("blk.1.ffn_down_exps.weight"))
    #expect(experts.shape == [16, 32, 4] && experts.type == .f16)
    #expect(source.tensorInfo("blk.0.attn_q_norm.weight")?.shape == [8])
  }

  @Test func readsShardedCheckpoints() throws {
    let folder = TestPaths.fixture("hf/llama-bf16-sharded")
    let checkpoint = try SafeTensorsCheckpoint(folder: folder)
    #expect(checkpoint.files.count == 2)
    #expect(checkpoint.info("model.embed_tokens.weight")?.type == .bf16)
    #expect(checkpoint.info("model.embed_tokens.weight")?.ggmlShape == [32, 320])
  }

  /// Q/K rows of one head [a0 a1 a2 a3 | b0 b1 b2 b3] (rotate-half pairs (ai, bi)) become
  /// [a0 b0 a1 b1 a2 b2 a3 b3] (adjacent pairs), as llama.cpp's converter writes them.
  @Test func permutesQueryKeyRowsIntoAdjacentPairs() {
    let src: [Float] = [0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23, 30, 31, 32, 33]
    var dst = [Float](repeating: -1, count: 16)
    src.withUnsafeBytes { s in
      dst.withUnsafeMutableBytes { d in
        HuggingFaceCheckpoint.permuteRows(
          from: s.baseAddress!, to: d.baseAddress!, rows: 16, rowBytes: 4, heads: 2)
      }
    }
    #expect(dst == [0, 10, 1, 11, 2, 12, 3, 13, 20, 30, 21, 31, 22, 32, 23, 33])
  }

  @Test func reportsWhatIsWrongWithAFolder() throws {
    let dir = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    #expect(throws: SafeTensorsError.self) { try HuggingFaceCheckpoint(folder: dir.path) }
    let config =
      #"{"architectures": ["GPTBigCodeForCausalLM"], "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 1}"#
    try config.write(to: dir.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
    #expect(throws: SafeTensorsError.self) { try HuggingFaceCheckpoint(folder: dir.path) }
    // A header promising more data than the file has.
    var bytes = withUnsafeBytes(of: UInt64(60).littleEndian) { Array($0) }
    bytes += Array(#"{"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}"#.utf8.prefix(60))
    let file = dir.appendingPathComponent("bad.safetensors")
    try Data(bytes).write(to: file)
    #expect(throws: SafeTensorsError.self) { try SafeTensorsFile(path: file.path) }
  }
}
