/// gpt-oss (OpenAI, 2025; transformers' `modeling_gpt_oss.py`, llama.cpp `LLM_ARCH_OPENAI_MOE`):
/// * biased q/k/v/o projections, NeoX RoPE with YaRN scaling (`rope.scaling.*`; the ramp ends
///   are not rounded, as the published config's `truncate: false`), and a learned sink logit
///   per head in every softmax (`attn_sinks.weight`);
/// * sliding-window attention (`attention.sliding_window`) on even layers, full on odd
///   (`attention.sliding_window_pattern`, default period 2, as llama.cpp);
/// * the FFN pre-norm is `post_attention_norm` (transformers' `post_attention_layernorm`);
/// * MoE: biased router, top-k logits then a softmax over those k; experts with biases and
///   the clamped SwiGLU (alpha 1.702, limit 7), stored as MXFP4 in released files.
enum GPTOSS: ArchitectureDefinition {
  static let names = ["gpt-oss"]

  static func config(from file: any WeightSource, architecture: String, options: ModelOptions) throws
    -> TransformerConfig
  {
    let h = Hyperparameters(file: file, architecture: architecture)
    var c = try h.baseConfig(ropeStyle: .halves, options: options, yarnTruncates: false)
    c.attentionBias = true
    c.attentionSinks = true
    c.slidingWindow = try h.positive("attention.sliding_window")
    c.slidingWindowLayers = try h.slidingWindowLayers(layerCount: c.layerCount, defaultPeriod: 2)
    c.feedForwardNormTensor = "post_attention_norm"
    c = try h.withExperts(
      c, expertLength: try h.positive("expert_feed_forward_length"), normalizeTopK: false, options: options)
    c.routerScoring = .topKThenSoftmax
    c.expertBias = true
    c.activation = .clampedSwiGLU(alpha: 1.702, limit: 7)
    return c
  }
}
