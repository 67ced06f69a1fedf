import Foundation
import MuseJinja
import MuseKernels
import MuseModels

/// A model with its tokenizer and chat template: what `muse run` and the server load from a
/// GGUF file or a Hugging Face checkpoint folder (`LoadedModel` chooses), and all they need to
/// know about it without reaching into the model layer.
public final class LanguageModel: @unchecked Sendable {
  public let model: TransformerModel
  public let tokenizer: Tokenizer
  /// The model's own template; replace it to apply another (`muse run --chat-template`).
  public var chatTemplate: ChatTemplate?
  /// The GGUF file, when the model came from one (for digests and downloads).
  public let gguf: GGUFFile?
  public let pool: ThreadPool
  /// How `generate` and a `BatchScheduler` over this model store keys and values: f32 (exactly
  /// what the model computed) unless set; `muse serve` sets f16 (`--kv-cache-type`).
  public var kvCacheType = KVCacheType.f32

  /// Loads a GGUF file or a Hugging Face checkpoint folder (see `LoadedModel`). `threads`: a
  /// pool of its own for this model's forward passes (the shared pool when nil).
  public convenience init(
    path: String, options: ModelOptions = ModelOptions(), threads: Int? = nil,
    progress: ((Double) -> Void)? = nil
  ) throws {
    self.init(try LoadedModel(path: path, options: options, progress: progress), threads: threads)
  }

  public init(_ loaded: LoadedModel, threads: Int? = nil) {
    model = loaded.model
    tokenizer = loaded.tokenizer
    chatTemplate = loaded.chatTemplate
    gguf = loaded.gguf
    pool = threads.map { ThreadPool(threads: $0) } ?? ThreadPool.shared
  }

  /// The hyperparameters the forward pass runs with.
  public var config: TransformerConfig { model.config }
  /// The longest sequence (prompt and generated tokens) the model takes.
  public var contextLength: Int { model.config.contextLength }
  /// The GGUF architecture name (`general.architecture`), e.g. "llama", "qwen3moe".
  public var architecture: String { model.config.architecture }
  /// Where the weights come from (a GGUF file or a checkpoint folder): for the facts on a model
  /// card (`ModelSummary(file:)`: parameters, quantization mix).
  public var weights: any WeightSource { model.file }

  /// One batched forward pass over `segments` on this model's pool (see
  /// `TransformerModel.forward(batch:pool:)`).
  func forward(
    batch segments: [BatchSegment], hidden: ((Int, UnsafeBufferPointer<Float>) -> Void)? = nil
  ) throws -> [[Float]] {
    try model.forward(batch: segments, pool: pool, hidden: hidden)
  }

  /// The prompt tokens for a conversation under the model's own chat template.
  public func chatPrompt(_ messages: [ChatMessage], extra: [String: JinjaValue] = [:]) throws -> [Int] {
    try chatPrompt(
      messages: messages.map { ["role": .string($0.role), "content": .string($0.content)] }, extra: extra)
  }

  /// The prompt tokens for OpenAI-shaped messages (tool calls, tool results, content parts) and
  /// tool definitions, passed to the template as they are.
  public func chatPrompt(
    messages: [JinjaValue], tools: [JinjaValue]? = nil, extra: [String: JinjaValue] = [:]
  ) throws -> [Int] {
    try renderChat(messages: messages, tools: tools, extra: extra).tokens
  }

  /// The prompt as the template writes it, and its tokens.
  public func renderChat(
    messages: [JinjaValue], tools: [JinjaValue]? = nil, extra: [String: JinjaValue] = [:]
  ) throws -> (text: String, tokens: [Int]) {
    guard let chatTemplate else { throw ChatTemplateError.noTemplate(file: model.file.path) }
    let text = try chatTemplate.render(
      messages: messages, tools: tools, addGenerationPrompt: true, extra: extra)
    var tokens = tokenizer.encode(text, addSpecial: true, parseSpecial: true)
    // Templates that print `bos_token` themselves (Llama 3) and tokenizers that add it
    // would otherwise give two.
    if let bos = tokenizer.bosToken, tokens.count >= 2, tokens[0] == bos, tokens[1] == bos {
      tokens.removeFirst()
    }
    return (text, tokens)
  }
}
