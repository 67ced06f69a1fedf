/// What an architecture file provides: how to read its hyperparameters from GGUF metadata, and
/// the Hugging Face families that load as it (their config.json and tensor names mapped to
/// GGUF's). The forward pass is shared (`TransformerModel`), built from the blocks the config
/// selects.
protocol ArchitectureDefinition {
  /// Values of `general.architecture` this file handles.
  static var names: [String] { get }
  static func config(from file: any WeightSource, architecture: String, options: ModelOptions) throws
    -> TransformerConfig
  /// The Hugging Face families (`architectures[0]` classes) that become this architecture.
  static var huggingFace: [any HuggingFaceArchitecture.Type] { get }
}

extension ArchitectureDefinition {
  static var huggingFace: [any HuggingFaceArchitecture.Type] { [] }
}

enum Architectures {
  static let all: [any ArchitectureDefinition.Type] = [
    Llama.self, Qwen3MoE.self, OLMoE.self, Qwen2MoE.self, MuseGlimmer.self, GPTOSS.self,
  ]

  static var supportedNames: [String] { all.flatMap { $0.names } }

  static func definition(for name: String) -> (any ArchitectureDefinition.Type)? {
    all.first { $0.names.contains(name) }
  }
}
