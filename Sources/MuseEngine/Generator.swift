import Foundation
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
  public var prefillSeconds = 0.0
  public var decodeSeconds = 0.0

  /// Prompt tokens per second of prefill.
  public var prefillRate: Double { prefillSeconds > 0 ? Double(promptTokens) / prefillSeconds : 0 }
  /// Generated tokens per second, counting from the first generated token (whose logits
  /// came out of prefill) to the last.
  public var decodeRate: Double { decodeSeconds > 0 ? Double(max(tokens.count - 1, 0)) / decodeSeconds : 0 }
}

/// A model with its tokenizer: what `muse run` and the server load from one GGUF file.
public final class LanguageModel: @unchecked Sendable {
  public let model: TransformerModel
  public let tokenizer: Tokenizer
  public let chatFormat: ChatFormat?
  public let pool: ThreadPool

  public init(
    path: String, options: ModelOptions = ModelOptions(), threads: Int? = nil,
    progress: ((Double) -> Void)? = nil
  ) throws {
    let file = try GGUFFile(path: path)
    model = try TransformerModel(file: file, options: options, progress: progress)
    tokenizer = try Tokenizer(gguf: file)
    chatFormat = file.metadata["tokenizer.chat_template"]?.string.flatMap(ChatFormat.detect(template:))
    pool = threads.map { ThreadPool(threads: $0) } ?? ThreadPool.shared
  }

  /// The prompt tokens for a conversation under the model's chat template.
  public func chatPrompt(_ messages: [ChatMessage]) throws -> [Int] {
    guard let chatFormat else { throw ChatFormat.UnsupportedTemplate(file: model.file.path) }
    let bos = tokenizer.bosToken.map { tokenizer.piece($0) } ?? ""
    let text = chatFormat.render(messages, bosToken: tokenizer.addsBOS ? "" : bos)
    return tokenizer.encode(text, addSpecial: true, parseSpecial: true)
  }

  /// Generates after `prompt`, calling `onText` with each piece of complete UTF-8 text as it
  /// is produced; `onText` returns false to stop.
  public func generate(
    prompt: [Int], maxTokens: Int, sampling: SamplingParameters, stop: [String] = [],
    onText: (String) -> Bool = { _ in true }
  ) throws -> GenerationResult {
    let context = model.config.contextLength
    guard prompt.count < context else {
      throw ModelError.contextOverflow(tokens: prompt.count, contextLength: context)
    }
    let cache = KVCache(config: model.config, capacity: min(context, prompt.count + maxTokens))
    var result = GenerationResult()
    result.promptTokens = prompt.count
    var sampler = Sampler(sampling)
    var decoder = StreamingDecoder(tokenizer: tokenizer)
    var matcher = StopSequenceMatcher(stops: stop)
    var stoppedBySequence = false
    let clock = ContinuousClock()
    let prefillStart = clock.now
    var logits = try model.forward(prompt, start: 0, cache: cache, pool: pool)
    result.prefillSeconds = (clock.now - prefillStart).seconds
    let decodeStart = clock.now
    var position = prompt.count
    var history = prompt
    while result.tokens.count < maxTokens {
      let token = sampler.sample(logits, history: history)
      if tokenizer.isEndOfGeneration(token) {
        result.finishReason = .stop
        break
      }
      result.tokens.append(token)
      history.append(token)
      let (piece, stopped) = matcher.append(decoder.append(token))
      result.text += piece
      if !piece.isEmpty && !onText(piece) {
        result.finishReason = .cancelled
        break
      }
      if stopped {
        stoppedBySequence = true
        result.finishReason = .stop
        break
      }
      if result.tokens.count == maxTokens || position + 1 >= cache.capacity {
        result.finishReason = .length
        break
      }
      logits = try model.forward([token], start: position, cache: cache, pool: pool)
      position += 1
    }
    if result.finishReason != .cancelled && !stoppedBySequence {
      let tail = matcher.append(decoder.flush()).text + matcher.finish()
      result.text += tail
      if !tail.isEmpty { _ = onText(tail) }
    }
    result.decodeSeconds = (clock.now - decodeStart).seconds
    return result
  }
}

extension Duration {
  var seconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}
