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
/// `gguf-py/gguf/tensor_mapping.py` are the reference for both).
protocol HuggingFaceArchitecture {
  static var classNames: [String] { get }
  static var ggufArchitecture: String { get }
  /// `{arch}.*` keys beyond the ones every family shares (`HuggingFaceMetadata.common`).
  static func extraMetadata(_ config: HuggingFaceConfig) -> [(String, GGUFValue)]
  /// Whether Q/K rows are permuted so ggml's adjacent-pair RoPE applies (arch `llama`).
  static var permutesQueryKey: Bool { get }
}

extension HuggingFaceArchitecture {
  static func extraMetadata(_ config: HuggingFaceConfig) -> [(String, GGUFValue)] { [] }
  static var permutesQueryKey: Bool { false }
}

enum HuggingFaceArchitectures {
  static let all: [any HuggingFaceArchitecture.Type] = [
    HFLlama.self, HFMixtral.self, HFQwen3MoE.self, HFOLMoE.self, HFQwen2MoE.self,
  ]
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

  /// The checkpoint's tensors under llama.cpp names (one table for every family, as
  /// `tensor_mapping.py` has). Tensors no supported family uses (rotary caches) are left out.
  static func tensorMap(
    names: [String], config c: HuggingFaceConfig, permute: Bool
  ) -> [(String, CheckpointTensor)] {
    let present = Set(names)
    var out: [(String, CheckpointTensor)] = []
    let top = [
      ("model.embed_tokens.weight", "token_embd.weight"), ("model.norm.weight", "output_norm.weight"),
      ("lm_head.weight", "output.weight"),
    ]
    for (hf, gguf) in top where present.contains(hf) { out.append((gguf, .direct(hf))) }
    let layerNames: [(String, String)] = [
      ("input_layernorm.weight", "attn_norm.weight"),
      ("self_attn.q_proj.weight", "attn_q.weight"), ("self_attn.q_proj.bias", "attn_q.bias"),
      ("self_attn.k_proj.weight", "attn_k.weight"), ("self_attn.k_proj.bias", "attn_k.bias"),
      ("self_attn.v_proj.weight", "attn_v.weight"), ("self_attn.v_proj.bias", "attn_v.bias"),
      ("self_attn.o_proj.weight", "attn_output.weight"),
      ("self_attn.q_norm.weight", "attn_q_norm.weight"), ("self_attn.k_norm.weight", "attn_k_norm.weight"),
      ("post_attention_layernorm.weight", "ffn_norm.weight"),
      ("mlp.gate_proj.weight", "ffn_gate.weight"), ("mlp.up_proj.weight", "ffn_up.weight"),
      ("mlp.down_proj.weight", "ffn_down.weight"),
      ("mlp.gate.weight", "ffn_gate_inp.weight"), ("block_sparse_moe.gate.weight", "ffn_gate_inp.weight"),
      ("mlp.shared_expert.gate_proj.weight", "ffn_gate_shexp.weight"),
      ("mlp.shared_expert.up_proj.weight", "ffn_up_shexp.weight"),
      ("mlp.shared_expert.down_proj.weight", "ffn_down_shexp.weight"),
    ]
    // Per-expert names: (checkpoint prefix, [(checkpoint suffix, GGUF name)]).
    let expertNames: [(String, [(String, String)])] = [
      (
        "mlp.experts",
        [("gate_proj", "ffn_gate_exps"), ("up_proj", "ffn_up_exps"), ("down_proj", "ffn_down_exps")]
      ),
      (
        "block_sparse_moe.experts", [("w1", "ffn_gate_exps"), ("w3", "ffn_up_exps"), ("w2", "ffn_down_exps")]
      ),
    ]
    for l in 0..<c.numHiddenLayers {
      let p = "model.layers.\(l)."
      for (hf, gguf) in layerNames where present.contains(p + hf) {
        let isQK = hf.hasPrefix("self_attn.q_proj") || hf.hasPrefix("self_attn.k_proj")
        if permute && isQK {
          let heads = hf.hasPrefix("self_attn.q_proj") ? c.numAttentionHeads : c.kvHeads
          out.append(("blk.\(l).\(gguf)", .permutedRows(p + hf, heads: heads)))
        } else {
          out.append(("blk.\(l).\(gguf)", .direct(p + hf)))
        }
      }
      if present.contains(p + "mlp.shared_expert_gate.weight") {
        out.append(("blk.\(l).ffn_gate_inp_shexp.weight", .flattened(p + "mlp.shared_expert_gate.weight")))
      }
      for (prefix, parts) in expertNames where c.expertCount > 0 {
        for (suffix, gguf) in parts {
          let sources = (0..<c.expertCount).map { "\(p)\(prefix).\($0).\(suffix).weight" }
          if sources.allSatisfy(present.contains) {
            out.append(("blk.\(l).\(gguf).weight", .stackedExperts(sources)))
          }
        }
      }
    }
    return out
  }
}

/// Llama 2/3 and Mistral: GGUF arch `llama`, Q/K permuted for ggml's RoPE.
enum HFLlama: HuggingFaceArchitecture {
  static let classNames = ["LlamaForCausalLM", "MistralForCausalLM"]
  static let ggufArchitecture = "llama"
  static var permutesQueryKey: Bool { true }
}

/// Mixtral: GGUF arch `llama` with experts (`block_sparse_moe.experts.E.w1/w2/w3`), expert
/// width `intermediate_size`.
enum HFMixtral: HuggingFaceArchitecture {
  static let classNames = ["MixtralForCausalLM"]
  static let ggufArchitecture = "llama"
  static var permutesQueryKey: Bool { true }
  static func extraMetadata(_ c: HuggingFaceConfig) -> [(String, GGUFValue)] {
    [("llama.expert_feed_forward_length", .uint32(UInt32(c.intermediateSize ?? 0)))]
  }
}

/// Qwen3-MoE: per-head Q/K norms, NeoX RoPE (no permutation), `moe_intermediate_size` experts.
enum HFQwen3MoE: HuggingFaceArchitecture {
  static let classNames = ["Qwen3MoeForCausalLM"]
  static let ggufArchitecture = "qwen3moe"
}

/// OLMoE: whole-projection Q/K norms, NeoX RoPE; experts are `intermediate_size` wide.
enum HFOLMoE: HuggingFaceArchitecture {
  static let classNames = ["OlmoeForCausalLM"]
  static let ggufArchitecture = "olmoe"
  static func extraMetadata(_ c: HuggingFaceConfig) -> [(String, GGUFValue)] {
    [("olmoe.expert_feed_forward_length", .uint32(UInt32(c.intermediateSize ?? 0)))]
  }
}

/// Qwen1.5/2-MoE: Q/K/V biases, a sigmoid-gated shared expert.
enum HFQwen2MoE: HuggingFaceArchitecture {
  static let classNames = ["Qwen2MoeForCausalLM"]
  static let ggufArchitecture = "qwen2moe"
  static func extraMetadata(_ c: HuggingFaceConfig) -> [(String, GGUFValue)] {
    c.sharedExpertIntermediateSize.map {
      [("qwen2moe.expert_shared_feed_forward_length", .uint32(UInt32($0)))]
    } ?? []
  }
}
