/// Qwen1.5/Qwen2-MoE: biased Q/K/V projections, NeoX RoPE, unnormalised top-k routing, and a
/// shared expert that every token passes through, gated by sigmoid(w · x).
enum Qwen2MoE: ArchitectureDefinition {
  static let names = ["qwen2moe"]

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
