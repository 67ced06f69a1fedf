import Foundation
import MuseEngine
import MuseModels

/// One served model: its loaded weights and the scheduler that batches its generations on a
/// thread of their own, off the HTTP event loops.
public final class ModelRunner: @unchecked Sendable {
  public enum Event: Sendable {
    /// A piece of text, its tokens' log-probabilities (when asked for) and how many tokens
    /// had been generated once it was complete.
    case text(String, [TokenLogprob], tokens: Int)
    case finished(GenerationResult)
  }

  /// A generation handed to the scheduler: its events, and a way to stop it from outside the
  /// stream (a client that went away); either way it leaves the batch at the next step.
  public struct Running: Sendable {
    public let events: AsyncThrowingStream<Event, Error>
    let ticket: GenerationTicket
    public func cancel() { ticket.cancel() }
  }

  public let entry: ModelEntry
  public let model: LanguageModel
  /// SHA-256 of the weights file: the published digest that makes closed weights verifiable.
  public let weightsDigest: String
  /// The root of the weights commitment (`WeightsCommitment`), nil for a model not read from a
  /// GGUF file; computed when first asked for unless `muse serve` brought it from its cache.
  public var weightsRoot: String? {
    lock.withLock {
      if case .some(let root) = _weightsRoot { return root }
      let root = model.gguf.map { WeightsCommitment(file: $0).root }
      _weightsRoot = .some(root)
      return root
    }
  }
  private var _weightsRoot: String??
  public let scheduler: BatchScheduler
  /// How this model's template shows tools and how its replies write calls and reasoning,
  /// read once from the template.
  let chatFormat: ChatFormat
  private let lock = NSLock()
  private var overruns: [Int] = []

  /// `kvCacheBytes`: the key/value memory this model's sequences share; raised to one full
  /// context window when smaller, so any request the context allows can run. `maxWaiting`:
  /// requests that may wait for room before new ones get 503.
  public init(
    entry: ModelEntry, model: LanguageModel, weightsDigest: String, weightsRoot: String? = nil,
    kvCacheBytes: Int = BatchScheduler.Configuration.defaultKVCacheBytes, maxWaiting: Int = 64,
    maxSequences: Int = 64
  ) {
    self.entry = entry
    self.model = model
    self.weightsDigest = weightsDigest
    _weightsRoot = weightsRoot.map { .some($0) }
    chatFormat = ChatFormat(template: model.chatTemplate)
    // The vocabulary's trie for constrained replies, built now rather than by the first one.
    _ = TokenTrie.shared(for: model.tokenizer)
    let config = model.config
    let blockSize = 16
    let blockBytes = KVBlockPool.bytesPerBlock(config: config, blockSize: blockSize, type: model.kvCacheType)
    let oneContext = (config.contextLength + blockSize - 1) / blockSize * blockBytes
    let configuration = BatchScheduler.Configuration(
      kvCacheBytes: max(kvCacheBytes, oneContext), blockSize: blockSize, maxWaiting: maxWaiting,
      maxSequences: max(maxSequences, 1))
    // The block size is a multiple of 16 and the budget holds at least one block: the pool's
    // only failure conditions cannot occur.
    scheduler = try! BatchScheduler(model: model, configuration: configuration)
  }

  /// Positions a request's prompt and completion may use together.
  public var contextLength: Int { model.contextLength }
  public var queueDepth: Int { scheduler.waitingCount }
  public var activeSequences: Int { scheduler.runningSequences }
  /// For each generation stopped by its consumer going away: pieces of text produced after it
  /// went (the decode steps wasted; 0 or 1 when cancellation works).
  public var cancellationOverruns: [Int] { lock.withLock { overruns } }

  /// Streams the text of one generation. Stopping iteration (a client that went away) stops
  /// the generation at its next step and frees its cache blocks. A request the scheduler
  /// refuses (full queue, too large) ends the stream with that error.
  public func generate(
    prompt: [Int], maxTokens: Int, sampling: SamplingParameters, stop: [String], logprobs: Int? = nil,
    owner: String = ""
  ) -> AsyncThrowingStream<Event, Error> {
    do {
      return try start(
        prompt: prompt, maxTokens: maxTokens, sampling: sampling, stop: stop, logprobs: logprobs, owner: owner
      ).events
    } catch {
      return AsyncThrowingStream { $0.finish(throwing: error) }
    }
  }

  /// As `generate`, but a request the scheduler refuses throws here, before any stream starts,
  /// so the server can answer 503 instead of a broken stream. The result carries the
  /// activation commitment its receipt signs unless `commitActivations` is false.
  public func start(
    prompt: [Int], maxTokens: Int, sampling: SamplingParameters, stop: [String], logprobs: Int? = nil,
    constraint: GenerationConstraint? = nil, owner: String = "", promptScores: PromptScores? = nil,
    commitActivations: Bool = true
  ) throws -> Running {
    let (stream, continuation) = AsyncThrowingStream<Event, Error>.makeStream()
    let cancelled = CancellationFlag()
    let progress = GenerationProgress()
    var request = GenerationRequest(
      prompt: prompt, maxTokens: maxTokens, sampling: sampling, stop: stop, logprobs: logprobs, owner: owner)
    request.progress = progress
    request.constraint = constraint
    request.promptScores = promptScores
    request.commitActivations = commitActivations
    let ticket = try scheduler.submit(
      request,
      onPiece: { piece, logprobs in
        if cancelled.isSet { return false }
        cancelled.countPiece()
        continuation.yield(.text(piece, logprobs, tokens: progress.generatedTokens))
        return !cancelled.isSet
      },
      onFinish: { [self] outcome in
        switch outcome {
        case .success(let result):
          lock.withLock {
            if result.finishReason == .cancelled, let atCancel = cancelled.producedAtCancel {
              overruns.append(cancelled.producedCount - atCancel)
            }
          }
          continuation.yield(.finished(result))
          continuation.finish()
        case .failure(let error):
          continuation.finish(throwing: error)
        }
      })
    continuation.onTermination = { _ in
      cancelled.set()
      ticket.cancel()
    }
    return Running(events: stream, ticket: ticket)
  }
}

/// Set when the consumer goes away; remembers how many pieces had been produced by then, so
/// the overrun (work done after the client left) can be checked.
final class CancellationFlag: @unchecked Sendable {
  private let lock = NSLock()
  private var value = false
  private var produced = 0
  private(set) var producedAtCancel: Int?
  func set() {
    lock.withLock {
      if !value { producedAtCancel = produced }
      value = true
    }
  }
  var isSet: Bool { lock.withLock { value } }
  func countPiece() { lock.withLock { produced += 1 } }
  var producedCount: Int { lock.withLock { produced } }
}

/// A model's chat template as the tool-call pipeline sees it: the family its calls are written
/// in (found in the template's text), and what it can render, found by probing it.
struct ChatFormat: Sendable {
  let template: ChatTemplate?
  let format: ToolCallFormat
  /// Nil without a template.
  let support: TemplateToolSupport?

  init(template: ChatTemplate?) {
    self.template = template
    format = ToolCallFormat(templateSource: template?.source ?? "")
    support = template.map { TemplateToolSupport(probing: $0) }
  }
}
