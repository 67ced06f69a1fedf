import MuseKernels

/// Where a model normalises queries and keys before RoPE, if at all.
public enum QKNorm: Sendable {
  case none
  /// One RMSNorm of `headDim` weights applied to each head (Qwen3).
  case perHead
  /// One RMSNorm over the whole projection, before splitting into heads (OLMoE).
  case wholeProjection
  /// An RMSNorm of each head with no learned weight (Muse Glimmer's scale-less QK-norm).
  case perHeadUnweighted
}

/// The gated activation inside a SwiGLU feed-forward network, h = act(gate) * up.
public enum GatedActivation: Sendable, Equatable {
  /// silu(gate) * up (Shazeer, 2020).
  case swiGLU
  /// gpt-oss: gate clamped to at most `limit`, up to [-limit, limit], then
  /// (up + 1) * gate * sigmoid(alpha * gate) (transformers' `GptOssExperts._apply_gate`).
  case clampedSwiGLU(alpha: Float, limit: Float)
}

/// How router logits become expert weights.
public enum RouterScoring: Sendable, Equatable {
  /// Softmax over all experts, then the top k (Mixtral, Qwen, OLMoE); see `normalizeTopK`.
  case softmaxThenTopK
  /// The top k logits, then a softmax over just those k (gpt-oss's `GptOssTopKRouter`).
  case topKThenSoftmax
}

/// The hyperparameters of a decoder-only transformer, read from GGUF metadata by the
/// architecture's own file.
public struct TransformerConfig: Sendable {
  public var architecture: String
  public var layerCount: Int
  public var embeddingLength: Int
  public var headCount: Int
  public var kvHeadCount: Int
  public var headDim: Int
  public var valueHeadDim: Int
  public var vocabularySize: Int
  public var contextLength: Int
  public var rmsEpsilon: Float
  public var rope: RotaryEmbedding
  public var qkNorm: QKNorm = .none
  public var attentionBias = false
  /// Dense FFN width (0 when every layer is MoE).
  public var feedForwardLength: Int
  public var expertCount = 0
  public var expertsPerToken = 0
  public var expertFeedForwardLength = 0
  /// Whether the top-k router weights are rescaled to sum to one (Mixtral, Qwen3-MoE) or
  /// used as the softmax over all experts gave them (OLMoE, Qwen2-MoE).
  public var normalizeTopK = true
  public var sharedExpertFeedForwardLength = 0
  public var routerScoring = RouterScoring.softmaxThenTopK
  /// Biases on the router and on every expert's gate/up/down projections (gpt-oss).
  public var expertBias = false
  public var activation = GatedActivation.swiGLU

  /// Sliding-window attention: a layer marked in `slidingWindowLayers` sees only the last
  /// `slidingWindow` positions, itself included (positions p - window < j <= p, as
  /// transformers' sliding mask and llama.cpp's `LLAMA_SWA_TYPE_STANDARD`).
  public var slidingWindow = 0
  public var slidingWindowLayers: [Bool] = []
  /// Whether full-attention (non-sliding) layers apply RoPE; false for Muse Glimmer's NoPE layers.
  public var ropeOnFullAttentionLayers = true
  /// The q·k scale; nil means 1/sqrt(headDim).
  public var attentionScale: Float?
  /// A learned per-head logit that joins each softmax's denominator (gpt-oss `attn_sinks`).
  public var attentionSinks = false
  /// attention output *= sigmoid(W_gate x) before the output projection (Muse Glimmer).
  public var attentionOutputGate = false
  /// Gemma-2-style norms on each sub-layer's output before the residual add.
  public var postNorms = false
  public var postNormEpsilon: Float?
  /// An RMSNorm on the token embeddings before layer 0 (weight optional: unit when absent).
  public var embeddingNorm = false
  /// Final logits = softcap * tanh(logitScale * logits / softcap); softcap 0 means none.
  public var logitScale: Float = 1
  public var finalLogitSoftcap: Float = 0
  /// The tensor of the norm before the FFN: `ffn_norm`, or `post_attention_norm` in gpt-oss
  /// files (llama.cpp's name for transformers' `post_attention_layernorm`).
  public var feedForwardNormTensor = "ffn_norm"

  public func isSlidingWindow(layer: Int) -> Bool {
    slidingWindow > 0 && layer < slidingWindowLayers.count && slidingWindowLayers[layer]
  }

  public func usesRoPE(layer: Int) -> Bool { ropeOnFullAttentionLayers || isSlidingWindow(layer: layer) }

  public var isMixtureOfExperts: Bool { expertCount > 0 }
  public var queryWidth: Int { headCount * headDim }
  public var keyWidth: Int { kvHeadCount * headDim }
  public var valueWidth: Int { kvHeadCount * valueHeadDim }
  /// Bytes one cached position takes over all layers, keys and values, stored as `type`.
  public func cacheBytesPerPosition(_ type: KVCacheType) -> Int {
    layerCount * (keyWidth + valueWidth) * type.byteWidth
  }
}

/// Choices made when loading a model, overriding what the file says.
public struct ModelOptions: Sendable {
  /// Experts used per token in MoE layers (the file's `expert_used_count` when nil).
  public var expertsPerToken: Int?
  /// Context window (the file's `context_length` when nil).
  public var contextLength: Int?

  public init(expertsPerToken: Int? = nil, contextLength: Int? = nil) {
    self.expertsPerToken = expertsPerToken
    self.contextLength = contextLength
  }
}

/// Errors in using a loaded model.
public enum ModelError: Error, CustomStringConvertible, Equatable {
  case unknownArchitecture(file: String, architecture: String, supported: [String])
  case invalidHyperparameter(file: String, key: String, reason: String)
  case contextOverflow(tokens: Int, contextLength: Int)
  case tokenOutOfRange(token: Int, vocabularySize: Int)

  public var description: String {
    switch self {
    case .unknownArchitecture(let file, let architecture, let supported):
      "\(file): architecture '\(architecture)' is not supported (supported: \(supported.joined(separator: ", ")))"
    case .invalidHyperparameter(let file, let key, let reason):
      "\(file): metadata key '\(key)' \(reason)"
    case .contextOverflow(let tokens, let contextLength):
      "\(tokens) tokens do not fit in the context window of \(contextLength) tokens"
    case .tokenOutOfRange(let token, let vocabularySize):
      "token id \(token) is outside the vocabulary (0..<\(vocabularySize))"
    }
  }
}
