import Foundation

/// `config.json` of a decoder-only Hugging Face checkpoint: the keys the supported families
/// (Llama, Mistral, Mixtral, Qwen2-MoE, Qwen3-MoE, OLMoE) read, spelled as transformers writes
/// them. Keys a family does not use are absent (nil).
public struct HuggingFaceConfig: Codable, Sendable {
  public var architectures: [String]?
  public var modelType: String?
  public var hiddenSize: Int
  public var numHiddenLayers: Int
  public var numAttentionHeads: Int
  public var numKeyValueHeads: Int?
  public var intermediateSize: Int?
  public var headDim: Int?
  public var rmsNormEps: Double?
  /// transformers < 5 writes `rope_theta`; 5.x writes `rope_parameters.rope_theta`.
  public var ropeTheta: Double?
  public var ropeParameters: RopeParameters?
  public var maxPositionEmbeddings: Int?
  public var vocabSize: Int?
  public var tieWordEmbeddings: Bool?
  public var attentionBias: Bool?
  /// Mixtral (and transformers 5's Qwen3-MoE) say `num_local_experts`; Qwen and OLMoE `num_experts`.
  public var numLocalExperts: Int?
  public var numExperts: Int?
  public var numExpertsPerTok: Int?
  public var moeIntermediateSize: Int?
  public var sharedExpertIntermediateSize: Int?
  public var normTopkProb: Bool?

  public struct RopeParameters: Codable, Sendable {
    public var ropeTheta: Double?
    public var ropeType: String?
    enum CodingKeys: String, CodingKey {
      case ropeTheta = "rope_theta"
      case ropeType = "rope_type"
    }
  }

  enum CodingKeys: String, CodingKey {
    case architectures
    case modelType = "model_type"
    case hiddenSize = "hidden_size"
    case numHiddenLayers = "num_hidden_layers"
    case numAttentionHeads = "num_attention_heads"
    case numKeyValueHeads = "num_key_value_heads"
    case intermediateSize = "intermediate_size"
    case headDim = "head_dim"
    case rmsNormEps = "rms_norm_eps"
    case ropeTheta = "rope_theta"
    case ropeParameters = "rope_parameters"
    case maxPositionEmbeddings = "max_position_embeddings"
    case vocabSize = "vocab_size"
    case tieWordEmbeddings = "tie_word_embeddings"
    case attentionBias = "attention_bias"
    case numLocalExperts = "num_local_experts"
    case numExperts = "num_experts"
    case numExpertsPerTok = "num_experts_per_tok"
    case moeIntermediateSize = "moe_intermediate_size"
    case sharedExpertIntermediateSize = "shared_expert_intermediate_size"
    case normTopkProb = "norm_topk_prob"
  }

  public static func load(path: String) throws -> HuggingFaceConfig {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw SafeTensorsError.missingFile(
        folder: (path as NSString).deletingLastPathComponent, file: "config.json")
    }
    do {
      return try JSONDecoder().decode(HuggingFaceConfig.self, from: data)
    } catch let DecodingError.keyNotFound(key, _) {
      throw SafeTensorsError.badConfig(file: path, reason: "missing key \"\(key.stringValue)\"")
    } catch let DecodingError.typeMismatch(_, context) {
      throw SafeTensorsError.badConfig(
        file: path,
        reason: "key \"\(context.codingPath.map(\.stringValue).joined(separator: "."))\" has the wrong type")
    } catch {
      throw SafeTensorsError.badConfig(file: path, reason: "not a JSON config (\(error))")
    }
  }

  public var kvHeads: Int { numKeyValueHeads ?? numAttentionHeads }
  public var headSize: Int { headDim ?? hiddenSize / numAttentionHeads }
  public var expertCount: Int { numLocalExperts ?? numExperts ?? 0 }
  public var ropeBase: Double { ropeParameters?.ropeTheta ?? ropeTheta ?? 10_000 }
}
