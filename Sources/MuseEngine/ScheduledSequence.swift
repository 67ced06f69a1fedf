import Foundation
import MuseModels

/// What a client asks the scheduler to generate.
public struct GenerationRequest: Sendable {
  public var prompt: [Int]
  public var maxTokens: Int
  public var sampling: SamplingParameters
  public var stop: [String]
  /// Alternatives per token when log-probabilities are wanted.
  public var logprobs: Int?
  /// Whose request this is (an API key id): waiting requests are served round-robin by owner.
  public var owner: String
  /// Where the scheduler counts the tokens generated so far, updated before each piece of text
  /// is handed over, so a caller knows how many tokens the text it delivered holds.
  public var progress: GenerationProgress?
  /// A grammar the output must follow (from the first token, or lazily after a trigger); each
  /// sequence gets its own matcher, so constrained and free requests share batches.
  public var constraint: GenerationConstraint?
  /// Set to have the prompt scored (`echo` with `logprobs`): the prefill asks for every prompt
  /// row's logits and leaves each prompt token's log-probability here, `logprobs` alternatives
  /// each, before the first piece of text or the end.
  public var promptScores: PromptScores?
  /// Set to have the result carry an `ActivationCommitment` (for signed receipts).
  public var commitActivations = false

  public init(
    prompt: [Int], maxTokens: Int, sampling: SamplingParameters, stop: [String] = [],
    logprobs: Int? = nil, owner: String = "", constraint: GenerationConstraint? = nil
  ) {
    self.constraint = constraint
    self.prompt = prompt
    self.maxTokens = maxTokens
    self.sampling = sampling
    self.stop = stop
    self.logprobs = logprobs
    self.owner = owner
  }
}

/// Tokens a generation has produced, as of the piece of text being handed over.
public final class GenerationProgress: @unchecked Sendable {
  private let lock = NSLock()
  private var count = 0
  public init() {}
  public var generatedTokens: Int { lock.withLock { count } }
  func set(_ value: Int) { lock.withLock { count = value } }
}

/// A prompt's log-probabilities: for each token after the first, its log-probability given the
/// tokens before it (one entry per prompt token but the first, which nothing predicts).
public final class PromptScores: @unchecked Sendable {
  private let lock = NSLock()
  private var entries: [TokenLogprob]?
  public init() {}
  /// Nil until the prompt's prefill is done.
  public var logprobs: [TokenLogprob]? { lock.withLock { entries } }
  func set(_ value: [TokenLogprob]) { lock.withLock { entries = value } }
}

/// A submitted request's handle: cancelling it frees its slot and blocks at the next step.
public final class GenerationTicket: @unchecked Sendable {
  private let lock = NSLock()
  private var cancelled = false

  public func cancel() { lock.withLock { cancelled = true } }
  public var isCancelled: Bool { lock.withLock { cancelled } }
}

/// One request inside the scheduler: its generation state, its pages and how far its keys
/// and values are filled. Touched only by the scheduler's thread once submitted.
final class ScheduledSequence {
  typealias PieceHandler = @Sendable (String, [TokenLogprob]) -> Bool
  typealias FinishHandler = @Sendable (Result<GenerationResult, Error>) -> Void

  let request: GenerationRequest
  /// Submission order: when the pool runs dry the latest arrival gives its blocks back first.
  let arrival: Int
  let ticket = GenerationTicket()
  let onPiece: PieceHandler
  let onFinish: FinishHandler
  var state: GenerationState
  var cache: PagedKVCache?
  /// Tokens whose keys and values must be cached before the next token can be decoded: the
  /// prompt, or after a preemption every position already decided.
  private(set) var pending: [Int]
  /// Positions whose keys and values are in the cache.
  var filled = 0
  /// Full blocks offered to the prefix cache, and the chain value the next one starts from.
  var registeredBlocks = 0
  var chain: UInt64 = 0
  /// The prompt's scores so far (index i: prompt token i + 1), while `scoresPrompt`.
  private var promptEntries: [TokenLogprob?] = []
  private var promptScored = false
  var admitted: ContinuousClock.Instant?
  /// The activation commitment so far, when the request wants one.
  var activations: ActivationRecorder?
  var firstLogits: ContinuousClock.Instant?

  init(
    request: GenerationRequest, arrival: Int, state: GenerationState, onPiece: @escaping PieceHandler,
    onFinish: @escaping FinishHandler
  ) {
    self.request = request
    self.arrival = arrival
    self.state = state
    self.onPiece = onPiece
    self.onFinish = onFinish
    pending = request.prompt
    if request.commitActivations { activations = ActivationRecorder() }
    if request.promptScores != nil { promptEntries = Array(repeating: nil, count: request.prompt.count - 1) }
  }

  /// Whether the prefill still owes the prompt's scores: then it wants every row's logits
  /// and reuses no cached prefix (a cached block has no logits to give).
  var scoresPrompt: Bool { request.promptScores != nil && !promptScored }

  /// Keeps, from a prompt chunk's rows (row r predicts the token at `start + r + 1`), each
  /// prompt token's log-probability and top alternatives — never the rows themselves. Publishes
  /// the scores once the chunk ends the prompt.
  func scorePrompt(_ logits: [Float], segment: BatchSegment, tokenizer: Tokenizer) {
    let prompt = request.prompt
    let rows = segment.tokens.count
    guard rows > 0, !logits.isEmpty else { return }
    let vocabulary = logits.count / rows
    let top = request.logprobs ?? 0
    logits.withUnsafeBufferPointer { all in
      for r in 0..<rows {
        let target = segment.start + r + 1
        guard target < prompt.count else { break }
        let row = UnsafeBufferPointer(rebasing: all[r * vocabulary..<(r + 1) * vocabulary])
        promptEntries[target - 1] = TokenLogprob.compute(row: row, chosen: prompt[target], top: top) {
          tokenizer.tokenBytes($0)
        }
      }
    }
    if segment.start + rows == prompt.count {
      promptScored = true
      request.promptScores?.set(promptEntries.compactMap { $0 })
      promptEntries = []
    }
  }

  var isPrefilling: Bool { filled < pending.count }

  /// Whether the token after `pending` is already chosen (a preempted sequence re-prefilling):
  /// then the prefill only restores the cache and its last chunk wants no logits.
  private var resuming: Bool { state.history.count > pending.count }

  /// Positions the cache must hold before the next step: what is pending and, once that is
  /// cached, the position of the token to decode.
  var positionsNeeded: Int { isPrefilling ? pending.count + 1 : state.nextPosition + 1 }

  /// This sequence's part of the next step: its pending tokens up to `budget`, or the one
  /// token it chose last.
  func segment(budget: Int) -> BatchSegment? {
    guard let cache else { return nil }
    if isPrefilling {
      let count = min(budget, pending.count - filled)
      guard count > 0 else { return nil }
      let end = filled + count
      return BatchSegment(
        tokens: Array(pending[filled..<end]), start: filled, cache: cache,
        logits: scoresPrompt && !resuming ? .all : end == pending.count && !resuming ? .last : .none)
    }
    return BatchSegment(tokens: [state.lastToken], start: state.nextPosition, cache: cache, logits: .last)
  }

  /// Gives the cache's blocks back (its full ones stay in the prefix cache) so that older
  /// sequences can grow; the sequence re-prefills what it had when it is admitted again
  /// (vLLM's recompute preemption). Its stream and sampler state carry on untouched.
  func preempt(releasingTo pool: KVBlockPool) {
    if let cache { pool.release(cache.blocks) }
    cache = nil
    if state.history.count > request.prompt.count {
      pending = Array(state.history.dropLast())
    }
    filled = 0
    registeredBlocks = 0
    chain = 0
  }

  /// Offers every block filled since the last call to the prefix cache.
  func registerFullBlocks(in pool: KVBlockPool) {
    guard let cache else { return }
    let size = pool.blockSize
    while (registeredBlocks + 1) * size <= filled {
      let start = registeredBlocks * size
      let key = PrefixKey(parent: chain, tokens: Array(state.history[start..<start + size]))
      pool.register(cache.blocks[registeredBlocks], key: key)
      chain = key.chain
      registeredBlocks += 1
    }
  }
}
