/// Llama 2/3 and Mistral (dense), and Mixtral-style MoE, which GGUF stores as arch `llama`
/// with `expert_count` and merged expert tensors. Mixtral renormalises its top-k weights.
enum Llama: ArchitectureDefinition {
  static let names = ["llama", "mistral"]

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
