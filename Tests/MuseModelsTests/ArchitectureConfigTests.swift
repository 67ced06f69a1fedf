import Foundation
import MuseTestSupport
import Testing

@testable import MuseModels

/// How the muse-glimmer and gpt-oss files' metadata becomes a `TransformerConfig`; their
/// outputs are checked against the numpy reference in FixtureGoldenTests.
struct ArchitectureConfigTests {
  static func model(_ name: String) throws -> TransformerModel {
    try TransformerModel(file: try GGUFFile(path: TestPaths.fixture("models/\(name).gguf")))
  }

  @Test func museGlimmer() throws {
    let c = try Self.model("muse-glimmer-f32").config
    #expect(c.slidingWindow == 6 && c.slidingWindowLayers == [true, true, false])
    #expect((0..<3).map { c.usesRoPE(layer: $0) } == [true, true, false], "full-attention layers are NoPE")
    #expect(c.qkNorm == .perHeadUnweighted && c.attentionScale == 0.5 && c.attentionOutputGate)
    #expect(c.postNorms && c.postNormEpsilon == 1e-6 && c.embeddingNorm)
    #expect(c.logitScale == 2 && c.finalLogitSoftcap == 10 && c.activation == .swiGLU)
    #expect(c.rope.style == .halves && c.rope.scaling == .none)
  }

  @Test func museGlimmerEndsTurnsWithEOT() throws {
    let file = try GGUFFile(path: TestPaths.fixture("models/muse-glimmer-f32.gguf"))
    let tokenizer = try Tokenizer(gguf: file)
    let eot = try #require(tokenizer.id(of: "<|eot|>"))
    #expect(tokenizer.eosToken == eot && tokenizer.isEndOfGeneration(eot))
    let template = try String(
      contentsOfFile: TestPaths.fixture("templates/muse-glimmer.jinja"), encoding: .utf8)
    #expect(file.metadata["tokenizer.chat_template"]?.string == template)
  }

  @Test func gptOSS() throws {
    let c = try Self.model("gpt-oss-mxfp4").config
    #expect(c.slidingWindow == 4 && c.slidingWindowLayers == [true, false, true], "even layers slide")
    #expect((0..<3).allSatisfy { c.usesRoPE(layer: $0) })
    #expect(
      c.rope.scaling == .yarn(factor: 32, originalContext: 4096, betaFast: 32, betaSlow: 1, truncate: false))
    #expect(c.attentionBias && c.attentionSinks && !c.attentionOutputGate && c.attentionScale == nil)
    #expect(c.expertCount == 4 && c.expertsPerToken == 2 && c.expertBias)
    #expect(c.routerScoring == .topKThenSoftmax && c.activation == .clampedSwiGLU(alpha: 1.702, limit: 7))
    #expect(c.feedForwardNormTensor == "post_attention_norm")
    let file = try GGUFFile(path: TestPaths.fixture("models/gpt-oss-mxfp4.gguf"))
    #expect(file.tensors["blk.0.ffn_gate_exps.weight"]?.type == .mxfp4)
    let tokenizer = try Tokenizer(gguf: file)
    #expect(tokenizer.eosToken == tokenizer.id(of: "<|return|>"))
    #expect(
      ["<|end|>", "<|return|>", "<|call|>"].allSatisfy {
        tokenizer.id(of: $0).map(tokenizer.isEndOfGeneration) == true
      })
  }

  /// gpt-oss's router: the k largest logits, then a softmax over just those k.
  @Test func topKThenSoftmaxRouting() {
    var logits: [Float] = [1, 3, 2, 0]
    let chosen = logits.withUnsafeMutableBufferPointer {
      ExpertRouter(expertCount: 4, expertsPerToken: 2, normalizeTopK: false, scoring: .topKThenSoftmax)
        .route($0.baseAddress!)
    }
    let e = Float(M_E)
    #expect(chosen.map(\.expert) == [1, 2])
    #expect(abs(chosen[0].weight - e / (e + 1)) < 1e-6 && abs(chosen[1].weight - 1 / (e + 1)) < 1e-6)
  }

  // MARK: metadata edge cases, on minimal files

  static func hyperparameters(_ metadata: [(String, GGUFTestWriter.Value)]) throws -> Hyperparameters {
    var w = GGUFTestWriter()
    w.metadata = [("general.architecture", .string("muse-glimmer"))] + metadata
    let url = try TestPaths.temporaryDirectory().appendingPathComponent("m.gguf")
    try Data(w.bytes()).write(to: url)
    return Hyperparameters(file: try GGUFFile(path: url.path), architecture: "muse-glimmer")
  }

  /// An integer pattern n reads as llama.cpp's `set_swa_pattern`: every n-th layer is global.
  @Test func slidingWindowPatternPeriod() throws {
    let four = try Self.hyperparameters([("muse-glimmer.attention.sliding_window_pattern", .uint32(4))])
    #expect(
      try four.slidingWindowLayers(layerCount: 8, defaultPeriod: nil) == [
        true, true, true, false, true, true, true, false,
      ])
    let zero = try Self.hyperparameters([("muse-glimmer.attention.sliding_window_pattern", .uint32(0))])
    #expect(try zero.slidingWindowLayers(layerCount: 3, defaultPeriod: nil) == [true, true, true])
    let none = try Self.hyperparameters([])
    #expect(try none.slidingWindowLayers(layerCount: 4, defaultPeriod: 2) == [true, false, true, false])
    #expect(try none.slidingWindowLayers(layerCount: 4, defaultPeriod: nil) == [])
  }

  @Test func unsupportedRoPEScalingIsRefused() throws {
    let h = try Self.hyperparameters([("muse-glimmer.rope.scaling.type", .string("longrope"))])
    #expect(throws: ModelError.self) { try h.ropeScaling(yarnTruncates: true) }
    let linear = try Self.hyperparameters([
      ("muse-glimmer.rope.scaling.type", .string("linear")),
      ("muse-glimmer.rope.scaling.factor", .float32(4)),
    ])
    #expect(try linear.ropeScaling(yarnTruncates: true) == .linear(factor: 4))
  }
}
