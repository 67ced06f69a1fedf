/// Qwen3-MoE: per-head RMSNorm on queries and keys before RoPE (NeoX layout), head size set
/// apart from the width (`attention.key_length`), and renormalised top-k routing.
enum Qwen3MoE: ArchitectureDefinition {
  static let names = ["qwen3moe", "qwen3"]
  static let huggingFace: [any HuggingFaceArchitecture.Type] = [HFQwen3MoE.self]

  static func config(from file: any WeightSource, architecture: String, options: ModelOptions) throws
    -> TransformerConfig
  {
    let h = Hyperparameters(file: file, architecture: architecture)
    var c = try h.baseConfig(ropeStyle: .halves, options: options)
    c.qkNorm = .perHead
    return try h.withExperts(
      c, expertLength: try h.int("expert_feed_forward_length", default: c.feedForwardLength),
      normalizeTopK: true, options: options)
  }
}

/// Qwen3-MoE: per-head Q/K norms, NeoX RoPE (no permutation), `moe_intermediate_size` experts.
enum HFQwen3MoE: HuggingFaceArchitecture {
  static let classNames = ["Qwen3MoeForCausalLM"]
  static let ggufArchitecture = "qwen3moe"
  static let layerTensors =
    HFTensorNames.attention + HFTensorNames.queryKeyNorms + HFTensorNames.feedForwardNorm
    + HFTensorNames.feedForward + HFTensorNames.router
  static let expertTensors: HuggingFaceExpertTensors? = HFTensorNames.experts
}
