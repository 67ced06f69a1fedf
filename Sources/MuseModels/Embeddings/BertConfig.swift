import Foundation

/// Why a BERT-style encoder folder could not be loaded. Every case names the file at fault.
public enum BertEncoderError: Error, CustomStringConvertible, Equatable {
  case missingFile(folder: String, file: String)
  case badConfig(file: String, reason: String)
  case unsupported(file: String, reason: String)
  case missingTensor(file: String, tensor: String)
  case badShape(file: String, tensor: String, expected: [Int], found: [Int])
  /// Token ids the encoder cannot take (out of the vocabulary, too many, none).
  case badInput(reason: String)

  public var description: String {
    switch self {
    case .missingFile(let folder, let file): "\(folder): missing \(file)"
    case .badConfig(let file, let reason): "\(file): \(reason)"
    case .unsupported(let file, let reason): "\(file): unsupported: \(reason)"
    case .missingTensor(let file, let tensor): "\(file): missing tensor '\(tensor)'"
    case .badShape(let file, let tensor, let expected, let found):
      "\(file): tensor '\(tensor)' has shape \(found), expected \(expected)"
    case .badInput(let reason): "bad encoder input: \(reason)"
    }
  }
}

/// The activation between a BERT layer's intermediate and output dense layers.
public enum BertActivation: String, Sendable {
  /// Exact GELU, x·Φ(x) with the error function (Hugging Face's "gelu").
  case gelu
  /// The tanh approximation ("gelu_new", "gelu_pytorch_tanh").
  case geluTanh
  case relu

  init?(huggingFace name: String) {
    switch name {
    case "gelu": self = .gelu
    case "gelu_new", "gelu_pytorch_tanh", "gelu_fast": self = .geluTanh
    case "relu": self = .relu
    default: return nil
    }
  }
}

/// The hyperparameters of a BERT encoder, from a Hugging Face `config.json` (plus the
/// sentence-transformers `sentence_bert_config.json` beside it, when present, for the
/// sequence length the sentence model was trained to).
public struct BertConfig: Sendable, Equatable {
  public var vocabularySize: Int
  public var hiddenSize: Int
  public var heads: Int
  public var layers: Int
  public var intermediateSize: Int
  public var maxPositions: Int
  public var typeVocabularySize: Int
  public var layerNormEpsilon: Float
  public var activation: BertActivation
  /// The longest input, [CLS] and [SEP] included: sentence-transformers' `max_seq_length`
  /// when the folder has one, else `maxPositions`. Longer inputs are truncated to it.
  public var maxTokens: Int

  public var headSize: Int { hiddenSize / heads }

  public init(
    vocabularySize: Int, hiddenSize: Int, heads: Int, layers: Int, intermediateSize: Int,
    maxPositions: Int, typeVocabularySize: Int, layerNormEpsilon: Float, activation: BertActivation,
    maxTokens: Int? = nil
  ) {
    self.vocabularySize = vocabularySize
    self.hiddenSize = hiddenSize
    self.heads = heads
    self.layers = layers
    self.intermediateSize = intermediateSize
    self.maxPositions = maxPositions
    self.typeVocabularySize = typeVocabularySize
    self.layerNormEpsilon = layerNormEpsilon
    self.activation = activation
    self.maxTokens = min(maxTokens ?? maxPositions, maxPositions)
  }

  /// Reads `folder/config.json` and, if present, `folder/sentence_bert_config.json`.
  public init(folder: String) throws {
    let path = folder + "/config.json"
    guard FileManager.default.fileExists(atPath: path) else {
      throw BertEncoderError.missingFile(folder: folder, file: "config.json")
    }
    let json = try Self.jsonObject(path)
    func integer(_ key: String, default value: Int? = nil) throws -> Int {
      if let v = json[key] as? Int {
        guard v > 0 else {
          throw BertEncoderError.badConfig(file: path, reason: "\"\(key)\" must be positive, is \(v)")
        }
        return v
      }
      if json[key] == nil, let value { return value }
      throw BertEncoderError.badConfig(
        file: path,
        reason: json[key] == nil ? "missing \"\(key)\"" : "\"\(key)\" is not an integer")
    }
    if let type = json["model_type"] as? String, type != "bert" {
      throw BertEncoderError.unsupported(file: path, reason: "model_type '\(type)' is not a BERT encoder")
    }
    if let kind = json["position_embedding_type"] as? String, kind != "absolute" {
      throw BertEncoderError.unsupported(
        file: path, reason: "position_embedding_type '\(kind)' (Muse supports \"absolute\")")
    }
    let act = json["hidden_act"] as? String ?? "gelu"
    guard let activation = BertActivation(huggingFace: act) else {
      throw BertEncoderError.unsupported(
        file: path, reason: "hidden_act '\(act)' (Muse supports gelu, gelu_new, gelu_pytorch_tanh, relu)")
    }
    let epsilon: Double
    if json["layer_norm_eps"] == nil {
      epsilon = 1e-12
    } else if let e = (json["layer_norm_eps"] as? NSNumber)?.doubleValue,
      e >= 0
    {
      epsilon = e
    } else {
      throw BertEncoderError.badConfig(file: path, reason: "\"layer_norm_eps\" is not a non-negative number")
    }
    let hidden = try integer("hidden_size")
    let heads = try integer("num_attention_heads")
    guard hidden % heads == 0 else {
      throw BertEncoderError.badConfig(
        file: path, reason: "hidden_size \(hidden) is not a multiple of num_attention_heads \(heads)")
    }
    var maxTokens: Int?
    let sentencePath = folder + "/sentence_bert_config.json"
    if FileManager.default.fileExists(atPath: sentencePath) {
      let s = try Self.jsonObject(sentencePath)
      if let m = s["max_seq_length"] {
        guard let v = m as? Int, v > 0 else {
          throw BertEncoderError.badConfig(
            file: sentencePath, reason: "\"max_seq_length\" is not a positive integer")
        }
        maxTokens = v
      }
    }
    self.init(
      vocabularySize: try integer("vocab_size"), hiddenSize: hidden, heads: heads,
      layers: try integer("num_hidden_layers"), intermediateSize: try integer("intermediate_size"),
      maxPositions: try integer("max_position_embeddings"),
      typeVocabularySize: try integer("type_vocab_size", default: 2), layerNormEpsilon: Float(epsilon),
      activation: activation, maxTokens: maxTokens)
  }

  static func jsonObject(_ path: String) throws -> [String: Any] {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw BertEncoderError.badConfig(file: path, reason: "cannot read the file")
    }
    let object: Any
    do {
      object = try JSONSerialization.jsonObject(with: data)
    } catch {
      throw BertEncoderError.badConfig(file: path, reason: "not valid JSON (\(error.localizedDescription))")
    }
    guard let dictionary = object as? [String: Any] else {
      throw BertEncoderError.badConfig(file: path, reason: "not a JSON object")
    }
    return dictionary
  }
}
