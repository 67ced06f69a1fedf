/// Where a model normalises queries and keys before RoPE, if at all.
public enum QKNorm: Sendable {
  case none
  /// One RMSNorm of `headDim` weights applied to each head (Qwen3).
  case perHead
  /// One RMSNorm over the whole projection, before splitting into heads (OLMoE).
  case wholeProjection
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

  public var isMixtureOfExperts: Bool { expertCount > 0 }
  public var queryWidth: Int { headCount * headDim }
  public var keyWidth: Int { kvHeadCount * headDim }
  public var valueWidth: Int { kvHeadCount * valueHeadDim }
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
