import MuseKernels

/// Where one GGUF tensor's data comes from in a Hugging Face checkpoint.
enum CheckpointTensor: Sendable {
  /// The checkpoint tensor as it is: a view into the mapped safetensors.
  case direct(String)
  /// Q or K of a Llama-family model, rows permuted per head (below).
  case permutedRows(String, heads: Int)
  /// Per-expert matrices `experts.E.*` stacked into one [in, out, experts] tensor.
  case stackedExperts([String])
  /// A [1, n] tensor read as [n] (Qwen2-MoE's shared-expert gate).
  case flattened(String)

  var sources: [String] {
    switch self {
    case .direct(let n), .permutedRows(let n, _), .flattened(let n): [n]
    case .stackedExperts(let names): names
    }
  }
}

/// What a Hugging Face model family contributes: its `architectures[0]` class names, the GGUF
/// architecture it becomes, its hyperparameters as GGUF metadata, and its tensor names mapped to
/// llama.cpp's (`sanitize`, as mlx-lm names it; llama.cpp `convert_hf_to_gguf.py` and
/// `gguf-py/gguf/tensor_mapping.py` are the reference for both). Each family's mapping sits in
/// its architecture file (`Architectures/<Arch>.swift`), listed by that file's
/// `ArchitectureDefinition.huggingFace`.
protocol HuggingFaceArchitecture {
  static var classNames: [String] { get }
  static var ggufArchitecture: String { get }
  /// `{arch}.*` keys beyond the ones every family shares (`HuggingFaceMetadata.common`).
  static func extraMetadata(_ config: HuggingFaceConfig) -> [(String, GGUFValue)]
  /// Whether Q/K rows are permuted so ggml's adjacent-pair RoPE applies (arch `llama`).
  static var permutesQueryKey: Bool { get }
  /// Each layer's tensors, (name after `model.layers.N.`, llama.cpp name after `blk.N.`), in
  /// the order they are written; those a checkpoint lacks are skipped.
  static var layerTensors: [(String, String)] { get }
  /// Each layer's [1, n] tensors read as [n], named as `layerTensors`.
  static var flattenedLayerTensors: [(String, String)] { get }
  /// The per-expert matrices stacked into merged ones, when the family has experts.
  static var expertTensors: HuggingFaceExpertTensors? { get }
}

extension HuggingFaceArchitecture {
  static func extraMetadata(_ config: HuggingFaceConfig) -> [(String, GGUFValue)] { [] }
  static var permutesQueryKey: Bool { false }
  static var flattenedLayerTensors: [(String, String)] { [] }
  static var expertTensors: HuggingFaceExpertTensors? { nil }
}

/// Per-expert matrices `model.layers.N.{prefix}.E.{suffix}.weight`, stacked into
/// `blk.N.{name}.weight` for each (suffix, name) part.
struct HuggingFaceExpertTensors {
  let prefix: String
  let parts: [(suffix: String, name: String)]
}

/// Layer tensor names most families share, to compose `layerTensors` from.
enum HFTensorNames {
  /// The pre-attention norm and the Q/K/V (with biases where a checkpoint has them) and output
  /// projections.
  static let attention: [(String, String)] = [
    ("input_layernorm.weight", "attn_norm.weight"),
    ("self_attn.q_proj.weight", "attn_q.weight"), ("self_attn.q_proj.bias", "attn_q.bias"),
    ("self_attn.k_proj.weight", "attn_k.weight"), ("self_attn.k_proj.bias", "attn_k.bias"),
    ("self_attn.v_proj.weight", "attn_v.weight"), ("self_attn.v_proj.bias", "attn_v.bias"),
    ("self_attn.o_proj.weight", "attn_output.weight"),
  ]
  /// RMSNorm weights on queries and keys.
  static let queryKeyNorms: [(String, String)] = [
    ("self_attn.q_norm.weight", "attn_q_norm.weight"), ("self_attn.k_norm.weight", "attn_k_norm.weight"),
  ]
  static let feedForwardNorm: [(String, String)] = [("post_attention_layernorm.weight", "ffn_norm.weight")]
  /// A dense SwiGLU FFN.
  static let feedForward: [(String, String)] = [
    ("mlp.gate_proj.weight", "ffn_gate.weight"), ("mlp.up_proj.weight", "ffn_up.weight"),
    ("mlp.down_proj.weight", "ffn_down.weight"),
  ]
  /// The MoE router of the `mlp.experts` families.
  static let router: [(String, String)] = [("mlp.gate.weight", "ffn_gate_inp.weight")]
  /// `mlp.experts.E.{gate,up,down}_proj`.
  static let experts = HuggingFaceExpertTensors(
    prefix: "mlp.experts",
    parts: [("gate_proj", "ffn_gate_exps"), ("up_proj", "ffn_up_exps"), ("down_proj", "ffn_down_exps")])
}

/// The families Muse reads from Hugging Face folders, in `Architectures.all` order.
enum HuggingFaceArchitectures {
  static let all: [any HuggingFaceArchitecture.Type] = Architectures.all.flatMap { $0.huggingFace }
  static var supportedNames: [String] { all.flatMap { $0.classNames } }
  static func definition(for className: String) -> (any HuggingFaceArchitecture.Type)? {
    all.first { $0.classNames.contains(className) }
  }
}

/// Metadata every family shares, under llama.cpp's key names (`gguf-py/gguf/constants.py` `Keys`).
enum HuggingFaceMetadata {
  static func common(_ c: HuggingFaceConfig, architecture a: String, name: String) -> [(String, GGUFValue)] {
    var m: [(String, GGUFValue)] = [
      ("general.architecture", .string(a)),
      ("general.name", .string(name)),
      ("\(a).context_length", .uint32(UInt32(c.maxPositionEmbeddings ?? 2048))),
      ("\(a).embedding_length", .uint32(UInt32(c.hiddenSize))),
      ("\(a).block_count", .uint32(UInt32(c.numHiddenLayers))),
      ("\(a).feed_forward_length", .uint32(UInt32(c.intermediateSize ?? 0))),
      ("\(a).attention.head_count", .uint32(UInt32(c.numAttentionHeads))),
      ("\(a).attention.head_count_kv", .uint32(UInt32(c.kvHeads))),
      ("\(a).attention.layer_norm_rms_epsilon", .float32(Float(c.rmsNormEps ?? 1e-6))),
      ("\(a).rope.freq_base", .float32(Float(c.ropeBase))),
      ("\(a).rope.dimension_count", .uint32(UInt32(c.headSize))),
    ]
    if let hd = c.headDim, hd != c.hiddenSize / c.numAttentionHeads {
      m.append(("\(a).attention.key_length", .uint32(UInt32(hd))))
      m.append(("\(a).attention.value_length", .uint32(UInt32(hd))))
    }
    if let v = c.vocabSize { m.append(("\(a).vocab_size", .uint32(UInt32(v)))) }
    if c.expertCount > 0 {
      m.append(("\(a).expert_count", .uint32(UInt32(c.expertCount))))
      m.append(("\(a).expert_used_count", .uint32(UInt32(c.numExpertsPerTok ?? 2))))
      if let f = c.moeIntermediateSize { m.append(("\(a).expert_feed_forward_length", .uint32(UInt32(f)))) }
      if let n = c.normTopkProb { m.append(("\(a).expert_weights_norm", .bool(n))) }
    }
    return m
  }

  /// The checkpoint's tensors under llama.cpp names: the embedding, final norm and output
  /// projection every family has, then each layer's as the family lists them. Tensors the
  /// family does not use (rotary caches) are left out.
  static func tensorMap(
    names: [String], config c: HuggingFaceConfig, architecture: any HuggingFaceArchitecture.Type
  ) -> [(String, CheckpointTensor)] {
    let present = Set(names)
    var out: [(String, CheckpointTensor)] = []
    let top = [
      ("model.embed_tokens.weight", "token_embd.weight"), ("model.norm.weight", "output_norm.weight"),
      ("lm_head.weight", "output.weight"),
    ]
    for (hf, gguf) in top where present.contains(hf) { out.append((gguf, .direct(hf))) }
    for l in 0..<c.numHiddenLayers {
      let p = "model.layers.\(l)."
      for (hf, gguf) in architecture.layerTensors where present.contains(p + hf) {
        let isQK = hf.hasPrefix("self_attn.q_proj") || hf.hasPrefix("self_attn.k_proj")
        if architecture.permutesQueryKey && isQK {
          let heads = hf.hasPrefix("self_attn.q_proj") ? c.numAttentionHeads : c.kvHeads
          out.append(("blk.\(l).\(gguf)", .permutedRows(p + hf, heads: heads)))
        } else {
          out.append(("blk.\(l).\(gguf)", .direct(p + hf)))
        }
      }
      for (hf, gguf) in architecture.flattenedLayerTensors where present.contains(p + hf) {
        out.append(("blk.\(l).\(gguf)", .flattened(p + hf)))
      }
      if let experts = architecture.expertTensors, c.expertCount > 0 {
        for (suffix, gguf) in experts.parts {
          let sources = (0..<c.expertCount).map { "\(p)\(experts.prefix).\($0).\(suffix).weight" }
          if sources.allSatisfy(present.contains) {
            out.append(("blk.\(l).\(gguf).weight", .stackedExperts(sources)))
          }
        }
      }
    }
    return out
  }
}
