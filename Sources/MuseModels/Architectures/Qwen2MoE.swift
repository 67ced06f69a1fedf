/// Qwen1.5/Qwen2-MoE: biased Q/K/V projections, NeoX RoPE, unnormalised top-k routing, and a
/// shared expert that every token passes through, gated by sigmoid(w · x).
enum Qwen2MoE: ArchitectureDefinition {
  static let names = ["qwen2moe"]
  static let huggingFace: [any HuggingFaceArchitecture.Type] = [HFQwen2MoE.self]

  static func config(from file: any WeightSource, architecture: String, options: ModelOptions) throws
    -> TransformerConfig
  {
    let h = Hyperparameters(file: file, architecture: architecture)
    var c = try h.baseConfig(ropeStyle: .halves, options: options)
    c.attentionBias = true
    c = try h.withExperts(
      c, expertLength: try h.int("expert_feed_forward_length", default: c.feedForwardLength),
      normalizeTopK: false, options: options)
    c.sharedExpertFeedForwardLength = try h.int("expert_shared_feed_forward_length", default: 0)
    return c
  }
}

/// Qwen1.5/2-MoE: Q/K/V biases, a sigmoid-gated shared expert.
enum HFQwen2MoE: HuggingFaceArchitecture {
  static let classNames = ["Qwen2MoeForCausalLM"]
  static let ggufArchitecture = "qwen2moe"
  static let layerTensors =
    HFTensorNames.attention + HFTensorNames.feedForwardNorm + HFTensorNames.feedForward + HFTensorNames.router
    + [
      ("mlp.shared_expert.gate_proj.weight", "ffn_gate_shexp.weight"),
      ("mlp.shared_expert.up_proj.weight", "ffn_up_shexp.weight"),
      ("mlp.shared_expert.down_proj.weight", "ffn_down_shexp.weight"),
    ]
  static let flattenedLayerTensors = [("mlp.shared_expert_gate.weight", "ffn_gate_inp_shexp.weight")]
  static let expertTensors: HuggingFaceExpertTensors? = HFTensorNames.experts
  static func extraMetadata(_ c: HuggingFaceConfig) -> [(String, GGUFValue)] {
    c.sharedExpertIntermediateSize.map {
      [("qwen2moe.expert_shared_feed_forward_length", .uint32(UInt32($0)))]
    } ?? []
  }
}
