import Foundation
import MuseModels
import MuseTestSupport
import Testing

@testable import MuseEngine

/// Broken encoder folders give errors that name the file at fault (no real model needed).
struct EmbeddingErrorTests {
  static let config: [String: Any] = [
    "model_type": "bert", "hidden_size": 4, "num_attention_heads": 2, "num_hidden_layers": 1,
    "intermediate_size": 8, "max_position_embeddings": 8, "type_vocab_size": 2, "vocab_size": 5,
    "layer_norm_eps": 1e-12, "hidden_act": "gelu",
  ]

  /// Every tensor of a 1-layer encoder with `config`'s sizes, HF shapes.
  static func tensors(skipping skipped: String? = nil, reshaping: String? = nil) -> [(String, [Int])] {
    var all: [(String, [Int])] = [
      ("embeddings.word_embeddings.weight", [5, 4]), ("embeddings.position_embeddings.weight", [8, 4]),
      ("embeddings.token_type_embeddings.weight", [2, 4]), ("embeddings.LayerNorm.weight", [4]),
      ("embeddings.LayerNorm.bias", [4]),
    ]
    let p = "encoder.layer.0."
    for name in ["query", "key", "value"] {
      all += [(p + "attention.self.\(name).weight", [4, 4]), (p + "attention.self.\(name).bias", [4])]
    }
    all += [
      (p + "attention.output.dense.weight", [4, 4]), (p + "attention.output.dense.bias", [4]),
      (p + "attention.output.LayerNorm.weight", [4]), (p + "attention.output.LayerNorm.bias", [4]),
      (p + "intermediate.dense.weight", [8, 4]), (p + "intermediate.dense.bias", [8]),
      (p + "output.dense.weight", [4, 8]), (p + "output.dense.bias", [4]),
      (p + "output.LayerNorm.weight", [4]), (p + "output.LayerNorm.bias", [4]),
    ]
    return all.filter { $0.0 != skipped }.map {
      $0.0 == reshaping ? ($0.0, [$0.1[0] + 1] + $0.1.dropFirst()) : $0
    }
  }

  /// A safetensors file of F32 tensors filled with small values, plus an I64 buffer as real
  /// BERT checkpoints carry.
  static func writeSafeTensors(_ path: String, _ tensors: [(String, [Int])]) throws {
    var header: [String: Any] = [:]
    var data = Data()
    for (name, shape) in tensors {
      let count = shape.reduce(1, *)
      let start = data.count
      for i in 0..<count {
        var v = Float(i % 7) * 0.01
        withUnsafeBytes(of: &v) { data.append(contentsOf: $0) }
      }
      header[name] = ["dtype": "F32", "shape": shape, "data_offsets": [start, data.count]]
    }
    let start = data.count
    for i in 0..<8 {
      var v = Int64(i)
      withUnsafeBytes(of: &v) { data.append(contentsOf: $0) }
    }
    header["embeddings.position_ids"] = [
      "dtype": "I64", "shape": [1, 8], "data_offsets": [start, data.count],
    ]
    let json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
    var file = Data()
    var length = UInt64(json.count).littleEndian
    withUnsafeBytes(of: &length) { file.append(contentsOf: $0) }
    file.append(json)
    file.append(data)
    try file.write(to: URL(fileURLWithPath: path))
  }

  static func folder(
    config: [String: Any]? = Self.config, rawConfig: String? = nil,
    tensors: [(String, [Int])] = Self.tensors()
  ) throws -> String {
    let dir = try TestPaths.temporaryDirectory().path
    if let rawConfig {
      try rawConfig.write(toFile: dir + "/config.json", atomically: true, encoding: .utf8)
    } else if let config {
      try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: dir + "/config.json"))
    }
    try writeSafeTensors(dir + "/model.safetensors", tensors)
    return dir
  }

  func message(_ body: () throws -> Void) -> String {
    do {
      try body()
      return "no error"
    } catch {
      return "\(error)"
    }
  }

  @Test func malformedConfigNamesTheFile() throws {
    let dir = try Self.folder(rawConfig: "{\"hidden_size\": 384,,,")
    let text = message { _ = try EmbeddingModel(path: dir) }
    #expect(text.contains(dir + "/config.json"), "\(text)")
    #expect(text.contains("not valid JSON"), "\(text)")
  }

  @Test func missingConfigNamesTheFile() throws {
    let dir = try Self.folder(config: nil)
    let text = message { _ = try EmbeddingModel(path: dir) }
    #expect(text.contains("missing config.json"), "\(text)")
  }

  @Test func missingAndMistypedKeys() throws {
    var config = Self.config
    config["hidden_size"] = nil
    var text = message { _ = try EmbeddingModel(path: try Self.folder(config: config)) }
    #expect(text.contains("config.json: missing \"hidden_size\""), "\(text)")
    config = Self.config
    config["num_hidden_layers"] = "six"
    text = message { _ = try EmbeddingModel(path: try Self.folder(config: config)) }
    #expect(text.contains("config.json: \"num_hidden_layers\" is not an integer"), "\(text)")
    config = Self.config
    config["num_attention_heads"] = 3
    text = message { _ = try EmbeddingModel(path: try Self.folder(config: config)) }
    #expect(text.contains("not a multiple of num_attention_heads 3"), "\(text)")
  }

  @Test func unsupportedActivationNamesTheFile() throws {
    var config = Self.config
    config["hidden_act"] = "swish"
    let dir = try Self.folder(config: config)
    let text = message { _ = try EmbeddingModel(path: dir) }
    #expect(text.contains(dir + "/config.json: unsupported: hidden_act 'swish'"), "\(text)")
  }

  @Test func missingTensorNamesTheFileAndTensor() throws {
    let dir = try Self.folder(tensors: Self.tensors(skipping: "encoder.layer.0.intermediate.dense.bias"))
    let text = message { _ = try EmbeddingModel(path: dir) }
    #expect(
      text == "\(dir)/model.safetensors: missing tensor 'encoder.layer.0.intermediate.dense.bias'", "\(text)")
  }

  @Test func wrongShapeNamesTheTensor() throws {
    let dir = try Self.folder(tensors: Self.tensors(reshaping: "encoder.layer.0.output.dense.weight"))
    let text = message { _ = try EmbeddingModel(path: dir) }
    #expect(
      text
        == "\(dir)/model.safetensors: tensor 'encoder.layer.0.output.dense.weight' has shape [5, 8], expected [4, 8]",
      "\(text)")
  }

  @Test func missingTokenizerNamesTheFile() throws {
    let dir = try Self.folder()
    let text = message { _ = try EmbeddingModel(path: dir) }
    #expect(text == "\(dir): missing tokenizer.json", "\(text)")
  }

  @Test func malformedSentenceConfigNamesTheFile() throws {
    let dir = try Self.folder()
    try "{\"max_seq_length\": -3}".write(
      toFile: dir + "/sentence_bert_config.json", atomically: true, encoding: .utf8)
    let text = message { _ = try EmbeddingModel(path: dir) }
    #expect(text.contains(dir + "/sentence_bert_config.json"), "\(text)")
  }

  /// The encoder of the tiny folder runs, and rejects what it cannot take.
  @Test func tinyEncoderRunsAndChecksItsInput() throws {
    let encoder = try BertEncoder(folder: try Self.folder())
    let v = try encoder.embed([1, 2, 3])
    #expect(v.count == 4)
    #expect(v.allSatisfy { $0.isFinite })
    #expect(message { _ = try encoder.embed([]) }.contains("no tokens"))
    #expect(message { _ = try encoder.embed([7]) }.contains("token id 7 is outside the vocabulary of 5"))
    #expect(message { _ = try encoder.embed(Array(repeating: 1, count: 9)) }.contains("9 tokens"))
  }
}
