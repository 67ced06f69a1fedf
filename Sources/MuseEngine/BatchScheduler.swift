import Foundation
import MuseKernels
import MuseModels

public enum SchedulerError: Error, CustomStringConvertible, Equatable {
  /// The waiting queue is full: the server is at capacity for now.
  case overloaded(waiting: Int)
  /// The request needs more key/value memory than the whole cache has.
  case tooLarge(positions: Int, cachePositions: Int)
  /// A prompt of no tokens has no position to predict from.
  case emptyPrompt

  public var description: String {
    switch self {
    case .overloaded(let waiting):
      "the model is at capacity (\(waiting) requests already waiting); retry shortly"
    case .tooLarge(let positions, let cachePositions):
      "the request needs \(positions) positions of KV cache but the cache holds \(cachePositions) in all"
    case .emptyPrompt:
      "the prompt has no tokens"
    }
  }
}

/// Continuous batching (Orca, Yu et al. 2022; vLLM's paged attention, Kwon et al. 2023): one
/// thread runs steps, each a single batched forward over the next token of every running
/// sequence plus chunks of waiting prompts, within a token budget so streams keep flowing while
/// a long prompt prefills. Sequences join and leave between steps. A request is admitted when
/// the block pool can hold its prompt (with a block of headroom per running sequence); until
/// then it waits, round-robin by owner, in a bounded queue. Blocks for generated tokens are
/// taken as sequences grow, so a request costs the memory it uses, not its `max_tokens`. When
/// the pool runs dry, the latest arrival gives its blocks back and later re-prefills what it
/// had (recompute preemption; its full blocks usually come back from the prefix cache): no
/// running request is ever failed for another, and the oldest always makes progress.
public final class BatchScheduler: @unchecked Sendable {
  public struct Configuration: Sendable {
    /// Key/value memory shared by all sequences.
    public var kvCacheBytes: Int
    /// Positions per block (a multiple of 16).
    public var blockSize = 16
    /// Requests that may wait for room before new ones are refused.
    public var maxWaiting = 64
    public var maxSequences = 64
    /// Tokens one step runs at most: every running sequence's next token, then prompt chunks.
    public var tokenBudget = 256

    public init(
      kvCacheBytes: Int = Configuration.defaultKVCacheBytes, blockSize: Int = 16, maxWaiting: Int = 64,
      maxSequences: Int = 64, tokenBudget: Int = 256
    ) {
      self.kvCacheBytes = kvCacheBytes
      self.blockSize = blockSize
      self.maxWaiting = maxWaiting
      self.maxSequences = maxSequences
      self.tokenBudget = tokenBudget
    }

    /// A quarter of the machine's memory, at most 8 GiB.
    public static var defaultKVCacheBytes: Int {
      min(Int(ProcessInfo.processInfo.physicalMemory / 4), 8 << 30)
    }
  }

  public let model: LanguageModel
  public let pool: KVBlockPool
  public let configuration: Configuration
  private let lock = NSLock()
  private var waiting: FairQueue<ScheduledSequence>
  /// Preempted sequences, oldest arrival first: admitted again before anything new.
  private var preempted: [ScheduledSequence] = []
  private var arrivals = 0
  private var running: [ScheduledSequence] = []
  private var runningCount = 0
  private var threadActive = false
  private let clock = ContinuousClock()

  public init(model: LanguageModel, configuration: Configuration = Configuration()) throws {
    self.model = model
    self.configuration = configuration
    pool = try KVBlockPool(
      config: model.config, blockSize: configuration.blockSize, bytes: configuration.kvCacheBytes,
      type: model.kvCacheType)
    waiting = FairQueue(capacity: configuration.maxWaiting)
  }

  public var waitingCount: Int { lock.withLock { waiting.count + preempted.count } }
  public var runningSequences: Int { lock.withLock { runningCount } }

  /// Queues a request. `onPiece` gets each piece of text (return false to stop) and `onFinish`
  /// the result, both on the scheduler's thread. Throws at once when the request can never fit
  /// or the waiting queue is full.
  @discardableResult
  public func submit(
    _ request: GenerationRequest, onPiece: @escaping @Sendable (String, [TokenLogprob]) -> Bool,
    onFinish: @escaping @Sendable (Result<GenerationResult, Error>) -> Void
  ) throws -> GenerationTicket {
    guard !request.prompt.isEmpty else { throw SchedulerError.emptyPrompt }
    let state = try GenerationState(
      prompt: request.prompt, maxTokens: request.maxTokens, sampling: request.sampling, stop: request.stop,
      logprobs: request.logprobs, tokenizer: model.tokenizer, contextLength: model.contextLength,
      constraint: request.constraint)
    let cachePositions = pool.blockCount * pool.blockSize
    guard blocks(for: state.capacity) <= pool.blockCount else {
      throw SchedulerError.tooLarge(positions: state.capacity, cachePositions: cachePositions)
    }
    let (sequence, start): (ScheduledSequence, Bool) = try lock.withLock {
      let sequence = ScheduledSequence(
        request: request, arrival: arrivals, state: state, onPiece: onPiece, onFinish: onFinish)
      guard waiting.push(sequence, owner: request.owner) else {
        throw SchedulerError.overloaded(waiting: waiting.count)
      }
      arrivals += 1
      defer { threadActive = true }
      return (sequence, !threadActive)
    }
    if start {
      let thread = Thread { [self] in runSteps() }
      thread.name = "muse.scheduler"
      thread.stackSize = 8 << 20
      thread.start()
    }
    return sequence.ticket
  }

  private func blocks(for positions: Int) -> Int {
    (positions + pool.blockSize - 1) / pool.blockSize
  }

  /// The scheduler thread: steps until no sequence runs or waits, then ends (the next submit
  /// starts another), so an idle model holds no thread.
  private func runSteps() {
    while true {
      var cancelled: [ScheduledSequence] = []
      var stuck: ScheduledSequence?
      let idle: Bool = lock.withLock {
        cancelled = waiting.removeAll { $0.ticket.isCancelled }
        cancelled += preempted.filter { $0.ticket.isCancelled }
        preempted.removeAll { $0.ticket.isCancelled }
        admitWaiting()
        if running.isEmpty {
          // Nothing runs, so the whole pool is free: a waiting request that still does not
          // fit never will (submit checks this; kept as a guard against a stuck queue).
          stuck = preempted.isEmpty ? waiting.pop() : preempted.removeFirst()
          threadActive = !waiting.isEmpty || !preempted.isEmpty
          return !threadActive
        }
        return false
      }
      for sequence in cancelled {
        sequence.state.cancel()
        finish(sequence)
      }
      if let stuck {
        stuck.onFinish(
          .failure(
            SchedulerError.tooLarge(
              positions: stuck.state.capacity, cachePositions: pool.blockCount * pool.blockSize)))
      }
      if idle { return }
      step()
      lock.withLock { runningCount = running.count }
    }
  }

  /// Moves preempted, then waiting, requests into the running set while the pool has room.
  /// Caller holds `lock`.
  private func admitWaiting() {
    while running.count < configuration.maxSequences, let sequence = preempted.first ?? waiting.next {
      guard reserve(sequence) else { break }
      if preempted.first === sequence { preempted.removeFirst() } else { _ = waiting.pop() }
      if sequence.admitted == nil { sequence.admitted = clock.now }
      running.append(sequence)
    }
    runningCount = running.count
  }

  /// Gives `sequence` blocks for what it must prefill and the first position it decodes,
  /// reusing the longest cached prefix. At least one pending token is always prefilled: for a
  /// new request its logits choose the first generated token. Leaves a block per running
  /// sequence free, so that admitting one does not at once preempt another.
  private func reserve(_ sequence: ScheduledSequence) -> Bool {
    let size = pool.blockSize
    let pending = sequence.pending
    let keys = PrefixKey.chain(
      of: pending, blockSize: size, limit: sequence.scoresPrompt ? 0 : (pending.count - 1) / size)
    let reused = pool.retainPrefix(keys)
    let fresh = blocks(for: min(sequence.positionsNeeded, sequence.state.capacity)) - reused.count
    guard fresh + (running.isEmpty ? 0 : running.count) <= pool.available, let new = pool.allocate(fresh)
    else {
      pool.release(reused)
      return false
    }
    sequence.cache = PagedKVCache(pool: pool, blocks: reused + new)
    sequence.filled = reused.count * size
    sequence.registeredBlocks = reused.count
    sequence.chain = reused.isEmpty ? 0 : keys[reused.count - 1].chain
    pool.recordPrefix(hitTokens: sequence.filled, missTokens: pending.count - sequence.filled)
    return true
  }

  /// Gives every decoding sequence, oldest first, a block for the position it decodes next,
  /// preempting the latest arrivals while the pool has none free.
  private func growCaches() {
    for sequence in running.sorted(by: { $0.arrival < $1.arrival }) where !sequence.isPrefilling {
      guard let cache = sequence.cache else { continue }
      while cache.capacity < sequence.positionsNeeded {
        if let block = pool.allocate(1)?.first {
          cache.append(block)
          continue
        }
        let victim = running.max { $0.arrival < $1.arrival }!
        preempt(victim)
        if victim === sequence { break }
      }
    }
  }

  private func preempt(_ sequence: ScheduledSequence) {
    sequence.preempt(releasingTo: pool)
    pool.recordPreemption()
    lock.withLock {
      running.removeAll { $0 === sequence }
      runningCount = running.count
      let at = preempted.firstIndex { $0.arrival > sequence.arrival } ?? preempted.count
      preempted.insert(sequence, at: at)
    }
  }

  /// One batched forward over every running sequence, then sampling and streaming per sequence.
  private func step() {
    for sequence in running where sequence.ticket.isCancelled {
      sequence.state.cancel()
      retire(sequence)
    }
    growCaches()
    var budget = max(configuration.tokenBudget, running.count)
    var members: [ScheduledSequence] = []
    var segments: [BatchSegment] = []
    // Decoding sequences first, one token each; then prompt chunks in arrival order.
    for sequence in running where !sequence.isPrefilling {
      if let segment = sequence.segment(budget: 1) {
        members.append(sequence)
        segments.append(segment)
        budget -= 1
      }
    }
    for sequence in running where sequence.isPrefilling && budget > 0 {
      if let segment = sequence.segment(budget: budget) {
        members.append(sequence)
        segments.append(segment)
        budget -= segment.tokens.count
      }
    }
    guard !segments.isEmpty else { return }
    let logits: [[Float]]
    // The last hidden row of each member that commits to its activations (the row that
    // chooses its next token, when the segment chooses one).
    var hiddenRows = [[Float]?](repeating: nil, count: members.count)
    let committing = members.map { $0.activations != nil }
    let width = model.config.embeddingLength
    do {
      logits = try model.forward(
        batch: segments,
        hidden: committing.contains(true)
          ? { index, rows in
            guard committing[index] else { return }
            hiddenRows[index] = Array(rows.suffix(width))
          } : nil)
    } catch {
      for sequence in members { retire(sequence, error: error) }
      return
    }
    let now = clock.now
    // Sampling (a softmax over the vocabulary each) runs on the pool, one sequence per task:
    // serial, it kept the other cores waiting ~15 % of a step at 8 streams.
    // A scored prompt's chunk brings a row per token: its scores are kept, and the last row
    // (when the chunk ends the prompt) chooses the first token, as `.last` would have.
    let vocabulary = model.config.vocabularySize
    let chooses = zip(members, segments).map { sequence, segment in
      switch segment.logits {
      case .none: false
      case .last: true
      case .all: segment.start + segment.tokens.count == sequence.pending.count
      }
    }
    var choices = [GenerationState.Choice?](repeating: nil, count: members.count)
    let tokenizer = model.tokenizer
    choices.withUnsafeMutableBufferPointer { out in
      model.pool.parallelFor(members.count) { index in
        guard !logits[index].isEmpty else { return }
        let segment = segments[index]
        guard segment.logits == .all else {
          out[index] = members[index].state.choose(logits[index])
          return
        }
        members[index].scorePrompt(logits[index], segment: segment, tokenizer: tokenizer)
        if chooses[index] {
          out[index] = members[index].state.choose(Array(logits[index].suffix(vocabulary)))
        }
      }
    }
    for (index, sequence) in members.enumerated() {
      sequence.filled += segments[index].tokens.count
      sequence.registerFullBlocks(in: pool)
      guard !logits[index].isEmpty, chooses[index] else { continue }
      if sequence.firstLogits == nil { sequence.firstLogits = now }
      let ticket = sequence.ticket
      let onPiece = sequence.onPiece
      // accept appends the chosen token before it hands over the piece it completes.
      sequence.request.progress?.set(sequence.state.result.tokens.count + 1)
      let before = sequence.state.result.tokens.count
      let more = sequence.state.accept(choices[index]) { piece, logprobs in
        !ticket.isCancelled && onPiece(piece, logprobs)
      }
      let after = sequence.state.result.tokens.count
      if after > before, let row = hiddenRows[index] {
        sequence.activations?.accepted(row: row, tokens: after)
      }
      if !more { retire(sequence) }
    }
  }

  /// Ends a running sequence: its blocks go back to the pool at once, then its consumer hears.
  private func retire(_ sequence: ScheduledSequence, error: Error? = nil) {
    lock.withLock {
      running.removeAll { $0 === sequence }
      runningCount = running.count
    }
    if let cache = sequence.cache { pool.release(cache.blocks) }
    sequence.cache = nil
    if let error {
      sequence.onFinish(.failure(error))
    } else {
      finish(sequence)
    }
  }

  private func finish(_ sequence: ScheduledSequence) {
    let start = sequence.admitted ?? clock.now
    let first = sequence.firstLogits ?? start
    let now = clock.now
    // What finish flushes completes every token generated.
    sequence.request.progress?.set(sequence.state.result.tokens.count)
    var result = sequence.state.finish(
      prefillSeconds: (first - start).seconds,
      decodeSeconds: sequence.firstLogits == nil ? 0 : (now - first).seconds,
      onPiece: sequence.onPiece)
    result.activations = sequence.activations?.commitment(tokens: result.tokens.count)
    sequence.onFinish(.success(result))
  }
}
