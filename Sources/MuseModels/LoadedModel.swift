import Foundation
import MuseKernels

/// A model with everything needed to talk to it, loaded from a GGUF file or a Hugging Face
/// checkpoint folder: the path says which (a folder is a checkpoint, anything else a GGUF file).
public struct LoadedModel: Sendable {
  public let model: TransformerModel
  public let tokenizer: Tokenizer
  /// The model's own chat template, when its files carry one.
  public let chatTemplate: ChatTemplate?
  /// The GGUF file, when the model came from one (for digests and downloads).
  public let gguf: GGUFFile?

  /// Loads `path`. A folder needs `config.json`, its safetensors and `tokenizer.json`; its
  /// template comes from `tokenizer_config.json` when there is one. `progress` is told the
  /// fraction of weights paged in.
  public init(path: String, options: ModelOptions = ModelOptions(), progress: ((Double) -> Void)? = nil)
    throws
  {
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
      let checkpoint = try HuggingFaceCheckpoint(folder: path)
      model = try TransformerModel(file: checkpoint, options: options, progress: progress)
      tokenizer = try Tokenizer(huggingFace: path + "/tokenizer.json")
      let configPath = path + "/tokenizer_config.json"
      if FileManager.default.fileExists(atPath: configPath) {
        let config = try HuggingFaceTokenizerConfig(path: configPath)
        chatTemplate = try config.chatTemplate.map {
          try ChatTemplate(source: $0, bosToken: config.bosToken ?? "", eosToken: config.eosToken ?? "")
        }
      } else {
        chatTemplate = nil
      }
      gguf = nil
    } else {
      let file = try GGUFFile(path: path)
      model = try TransformerModel(file: file, options: options, progress: progress)
      tokenizer = try Tokenizer(gguf: file)
      chatTemplate = file.metadata["tokenizer.chat_template"] == nil ? nil : try ChatTemplate(gguf: file)
      gguf = file
    }
  }
}
