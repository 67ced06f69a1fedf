import Foundation
import MuseEngine
import MuseModels

/// One served model: its loaded weights and the queue that runs its generations one at a
/// time on a thread of their own, off the HTTP event loops.
public final class ModelRunner: @unchecked Sendable {
  public enum Event: Sendable {
    case text(String, [TokenLogprob])
    case finished(GenerationResult)
  }

  public let entry: ModelEntry
  public let model: LanguageModel
  /// SHA-256 of the weights file: the published digest that makes closed weights verifiable.
  public let weightsDigest: String
  private let queue: DispatchQueue
  private let lock = NSLock()
  private var waiting = 0
  private var running = 0
  private var overruns: [Int] = []

  public init(entry: ModelEntry, model: LanguageModel, weightsDigest: String) {
    self.entry = entry
    self.model = model
    self.weightsDigest = weightsDigest
    queue = DispatchQueue(label: "muse.model.\(entry.id)")
  }

  public var queueDepth: Int { lock.withLock { waiting } }
  public var activeSequences: Int { lock.withLock { running } }
  /// For each generation stopped by its consumer going away: pieces of text produced after it
  /// went (the decode steps wasted; 0 or 1 when cancellation works).
  public var cancellationOverruns: [Int] { lock.withLock { overruns } }

  /// Streams the text of one generation. Stopping iteration (a client that went away) stops
  /// the generation at its next token.
  public func generate(
    prompt: [Int], maxTokens: Int, sampling: SamplingParameters, stop: [String], logprobs: Int? = nil
  ) -> AsyncThrowingStream<Event, Error> {
    AsyncThrowingStream { continuation in
      let cancelled = CancellationFlag()
      continuation.onTermination = { _ in cancelled.set() }
      lock.withLock { waiting += 1 }
      queue.async { [self] in
        lock.withLock {
          waiting -= 1
          running += 1
        }
        defer { lock.withLock { running -= 1 } }
        guard !cancelled.isSet else {
          continuation.finish()
          return
        }
        do {
          let result = try model.generate(
            prompt: prompt, maxTokens: maxTokens, sampling: sampling, stop: stop, logprobs: logprobs
          ) { piece, logprobs in
            if cancelled.isSet { return false }
            cancelled.countPiece()
            continuation.yield(.text(piece, logprobs))
            return !cancelled.isSet
          }
          lock.withLock {
            if result.finishReason == .cancelled, let atCancel = cancelled.producedAtCancel {
              overruns.append(cancelled.producedCount - atCancel)
            }
          }
          continuation.yield(.finished(result))
          continuation.finish()
        } catch {
          continuation.finish(throwing: error)
        }
      }
    }
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
