/// Llama 2/3 and Mistral (dense), and Mixtral-style MoE, which GGUF stores as arch `llama`
/// with `expert_count` and merged expert tensors. Mixtral renormalises its top-k weights.
enum Llama: ArchitectureDefinition {
  static let names = ["llama", "mistral"]
  static let huggingFace: [any HuggingFaceArchitecture.Type] = [HFLlama.self, HFMixtral.self]

  static func config(from file: any WeightSource, architecture: String, options: ModelOptions) throws
    -> TransformerConfig
  {
    let h = Hyperparameters(file: file, architecture: architecture)
    let base = try h.baseConfig(ropeStyle: .adjacentPairs, options: options)
    return try h.withExperts(
      base, expertLength: try h.int("expert_feed_forward_length", default: base.feedForwardLength),
      normalizeTopK: true, options: options)
  }
}

/// Llama 2/3 and Mistral: GGUF arch `llama`, Q/K permuted for ggml's RoPE.
enum HFLlama: HuggingFaceArchitecture {
  static let classNames = ["LlamaForCausalLM", "MistralForCausalLM"]
  static let ggufArchitecture = "llama"
  static var permutesQueryKey: Bool { true }
  static let layerTensors =
    HFTensorNames.attention + HFTensorNames.feedForwardNorm + HFTensorNames.feedForward
}

/// Mixtral: GGUF arch `llama` with experts (`block_sparse_moe.experts.E.w1/w2/w3`), expert
/// width `intermediate_size`.
enum HFMixtral: HuggingFaceArchitecture {
  static let classNames = ["MixtralForCausalLM"]
  static let ggufArchitecture = "llama"
  static var permutesQueryKey: Bool { true }
  static let layerTensors =
    HFTensorNames.attention + HFTensorNames.feedForwardNorm + [
      ("block_sparse_moe.gate.weight", "ffn_gate_inp.weight")
    ]
  static let expertTensors: HuggingFaceExpertTensors? = HuggingFaceExpertTensors(
    prefix: "block_sparse_moe.experts",
    parts: [("w1", "ffn_gate_exps"), ("w3", "ffn_up_exps"), ("w2", "ffn_down_exps")])
  static func extraMetadata(_ c: HuggingFaceConfig) -> [(String, GGUFValue)] {
    [("llama.expert_feed_forward_length", .uint32(UInt32(c.intermediateSize ?? 0)))]
  }
}
