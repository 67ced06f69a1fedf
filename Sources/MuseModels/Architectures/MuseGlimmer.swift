/// Muse Glimmer (transformers' `MuseGlimmerTextModel`), a dense decoder:
/// * the token embeddings are RMS-normalised before layer 0 (`token_embd_norm.weight`, or no
///   weight — transformers' `MuseGlimmerTextNormedEmbedding` has none);
/// * sliding-window layers use RoPE (NeoX halves: GGUF keeps transformers' row order), the
///   full-attention layers none (NoPE) — `attention.sliding_window` and
///   `attention.sliding_window_pattern` (a bool per layer, true = sliding; or llama.cpp's
///   period n: every n-th layer is global);
/// * per-head QK RMSNorm, scale-less unless the file has `attn_q_norm`/`attn_k_norm`, and a
///   q·k scale `attention.scale` (transformers: `qk_scale_factor / sqrt(head_dim)`);
/// * attention output *= sigmoid(`attn_gate` · x) before `attn_output`;
/// * Gemma-2-style norms around both sub-layers (`attn_norm`, `post_attention_norm`,
///   `ffn_norm`, `post_ffw_norm`), stored as the weight itself (transformers keeps
///   weight − 1); post-norm epsilon `attention.post_norm_rms_epsilon`;
/// * SwiGLU FFN; logits = softcap · tanh(logit_scale · logits / softcap) (`logit_scale`,
///   `final_logit_softcapping`; transformers: `output_multiplier`, `final_logit_softcapping`).
enum MuseGlimmer: ArchitectureDefinition {
  static let names = ["muse-glimmer"]

  static func config(from file: any WeightSource, architecture: String, options: ModelOptions) throws
    -> TransformerConfig
  {
    let h = Hyperparameters(file: file, architecture: architecture)
    var c = try h.baseConfig(ropeStyle: .halves, options: options)
    c.qkNorm = file.hasTensor("blk.0.attn_q_norm.weight") ? .perHead : .perHeadUnweighted
    c.slidingWindow = try h.int("attention.sliding_window", default: 0)
    c.slidingWindowLayers = try h.slidingWindowLayers(layerCount: c.layerCount, defaultPeriod: 4)
    c.ropeOnFullAttentionLayers = false
    if file.metadata["\(architecture).attention.scale"] != nil {
      c.attentionScale = Float(try h.double("attention.scale", default: 0))
    }
    c.attentionOutputGate = true
    c.postNorms = true
    c.postNormEpsilon = Float(try h.double("attention.post_norm_rms_epsilon", default: Double(c.rmsEpsilon)))
    c.embeddingNorm = true
    c.logitScale = Float(try h.double("logit_scale", default: 1))
    c.finalLogitSoftcap = Float(try h.double("final_logit_softcapping", default: 0))
    return c
  }
}
