import Foundation
import MuseJinja
import MuseKernels
import MuseModels

/// Why generation stopped, in OpenAI's words.
public enum FinishReason: String, Sendable {
  /// The model ended its turn or a stop sequence appeared.
  case stop
  /// The token limit or the context window was reached.
  case length
  /// The caller asked to stop.
  case cancelled
}

public struct GenerationResult: Sendable {
  public var tokens: [Int] = []
  public var text = ""
  public var promptTokens = 0
  public var finishReason = FinishReason.length
  /// Per generated token, when asked for.
  public var logprobs: [TokenLogprob] = []
  public var prefillSeconds = 0.0
  public var decodeSeconds = 0.0

  /// Prompt tokens per second of prefill.
  public var prefillRate: Double { prefillSeconds > 0 ? Double(promptTokens) / prefillSeconds : 0 }
  /// Generated tokens per second, counting from the first generated token (whose logits
  /// came out of prefill) to the last.
  public var decodeRate: Double { decodeSeconds > 0 ? Double(max(tokens.count - 1, 0)) / decodeSeconds : 0 }
}

/// A model with its tokenizer and chat template: what `muse run` and the server load from a
/// GGUF file or a Hugging Face checkpoint folder.
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

  public init(
    path: String, options: ModelOptions = ModelOptions(), threads: Int? = nil,
    progress: ((Double) -> Void)? = nil
  ) throws {
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
    pool = threads.map { ThreadPool(threads: $0) } ?? ThreadPool.shared
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
    guard let chatTemplate else { throw ChatTemplateError.noTemplate(file: model.file.path) }
    let text = try chatTemplate.render(
      messages: messages, tools: tools, addGenerationPrompt: true, extra: extra)
    var tokens = tokenizer.encode(text, addSpecial: true, parseSpecial: true)
    // Templates that print `bos_token` themselves (Llama 3) and tokenizers that add it
    // would otherwise give two.
    if let bos = tokenizer.bosToken, tokens.count >= 2, tokens[0] == bos, tokens[1] == bos {
      tokens.removeFirst()
    }
    return tokens
  }

  /// Generates after `prompt`, calling `onText` with each piece of complete UTF-8 text as it
  /// is produced; `onText` returns false to stop.
  public func generate(
    prompt: [Int], maxTokens: Int, sampling: SamplingParameters, stop: [String] = [],
    onText: (String) -> Bool = { _ in true }
  ) throws -> GenerationResult {
    try generate(
      prompt: prompt, maxTokens: maxTokens, sampling: sampling, stop: stop, logprobs: nil,
      onPiece: { text, _ in onText(text) })
  }

  /// Generates as above; with `logprobs` (the number of alternatives, 0–20) every generated
  /// token's log-probability is computed, reported with the piece of text it completed.
  public func generate(
    prompt: [Int], maxTokens: Int, sampling: SamplingParameters, stop: [String], logprobs: Int?,
    onPiece: (String, [TokenLogprob]) -> Bool
  ) throws -> GenerationResult {
    var state = try GenerationState(
      prompt: prompt, maxTokens: maxTokens, sampling: sampling, stop: stop, logprobs: logprobs,
      tokenizer: tokenizer, contextLength: model.config.contextLength)
    let cache = KVCache(config: model.config, capacity: state.capacity, type: kvCacheType)
    let clock = ContinuousClock()
    let prefillStart = clock.now
    var logits = try model.forward(prompt, start: 0, cache: cache, pool: pool)
    let prefillSeconds = (clock.now - prefillStart).seconds
    let decodeStart = clock.now
    while state.accept(logits, onPiece: onPiece) {
      logits = try model.forward([state.lastToken], start: state.nextPosition, cache: cache, pool: pool)
    }
    return state.finish(
      prefillSeconds: prefillSeconds, decodeSeconds: (clock.now - decodeStart).seconds, onPiece: onPiece)
  }
}

extension Duration {
  var seconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}
