/// OLMoE (Muennighoff et al., 2024): RMSNorm over the whole query and key projections
/// (before splitting into heads), NeoX RoPE, and top-k weights used as the softmax over all
/// experts gave them (`norm_topk_prob = false`).
enum OLMoE: ArchitectureDefinition {
  static let names = ["olmoe"]
  static let huggingFace: [any HuggingFaceArchitecture.Type] = [HFOLMoE.self]

  static func config(from file: any WeightSource, architecture: String, options: ModelOptions) throws
    -> TransformerConfig
  {
    let h = Hyperparameters(file: file, architecture: architecture)
    var c = try h.baseConfig(ropeStyle: .halves, options: options)
    c.qkNorm = .wholeProjection
    return try h.withExperts(
      c, expertLength: try h.int("expert_feed_forward_length", default: c.feedForwardLength),
      normalizeTopK: false, options: options)
  }
}

/// OLMoE: whole-projection Q/K norms, NeoX RoPE; experts are `intermediate_size` wide.
enum HFOLMoE: HuggingFaceArchitecture {
  static let classNames = ["OlmoeForCausalLM"]
  static let ggufArchitecture = "olmoe"
  static let layerTensors =
    HFTensorNames.attention + HFTensorNames.queryKeyNorms + HFTensorNames.feedForwardNorm
    + HFTensorNames.router
  static let expertTensors: HuggingFaceExpertTensors? = HFTensorNames.experts
  static func extraMetadata(_ c: HuggingFaceConfig) -> [(String, GGUFValue)] {
    [("olmoe.expert_feed_forward_length", .uint32(UInt32(c.intermediateSize ?? 0)))]
  }
}
