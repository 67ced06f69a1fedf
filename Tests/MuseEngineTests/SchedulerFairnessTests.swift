import Foundation
import MuseKernels
import MuseModels
import MuseTestSupport
import Testing

@testable import MuseEngine

@Suite(.serialized)
struct SchedulerFairnessTests {
  @Test func queueServesOwnersInTurn() {
    var queue = FairQueue<String>(capacity: 10)
    var accepted: [Bool] = (1...4).map { _ in false }
    for i in 1...4 { accepted[i - 1] = queue.push("a\(i)", owner: "A") }
    accepted += [queue.push("b1", owner: "B"), queue.push("c1", owner: "C")]
    #expect(accepted.allSatisfy { $0 })
    var order: [String] = []
    while let next = queue.pop() { order.append(next) }
    #expect(order == ["a1", "b1", "c1", "a2", "a3", "a4"])
  }

  @Test func queueRefusesPastCapacityAndDropsCancelled() {
    var queue = FairQueue<Int>(capacity: 3)
    let accepted = [queue.push(1, owner: "A"), queue.push(2, owner: "A"), queue.push(3, owner: "B")]
    #expect(accepted == [true, true, true])
    let overflow = queue.push(4, owner: "C")
    #expect(!overflow)
    let removed = queue.removeAll { $0 == 1 }
    #expect(removed == [1] && queue.count == 2)
    let again = queue.push(4, owner: "C")
    #expect(again)
    let order = [queue.pop(), queue.pop(), queue.pop()]
    #expect(order == [2, 3, 4])
  }

  /// One sequence at a time: key A floods five requests, then key B sends one. B's runs second
  /// (right after the A request already running), not sixth.
  @Test func oneKeysFloodDoesNotStarveAnother() throws {
    let lm = try LanguageModel(path: TestPaths.fixture("models/llama-q8_0.gguf"), threads: 1)
    let scheduler = try BatchScheduler(
      model: lm, configuration: .init(kvCacheBytes: 16 << 20, maxWaiting: 16, maxSequences: 1))
    let collector = BatchCollector()
    let gate = DispatchSemaphore(value: 0)
    let prompt = batchPrompts(lm, count: 1)[0]
    // The first request holds the scheduler's thread in its first piece until all are queued.
    try scheduler.submit(
      GenerationRequest(prompt: prompt, maxTokens: 4, sampling: .greedy, owner: "A"),
      onPiece: { _, _ in
        gate.wait()
        gate.signal()
        return true
      }, onFinish: collector.finish(0))
    for i in 1...4 {
      try scheduler.submit(
        GenerationRequest(prompt: prompt, maxTokens: 4, sampling: .greedy, owner: "A"),
        onPiece: { _, _ in true }, onFinish: collector.finish(i))
    }
    try scheduler.submit(
      GenerationRequest(prompt: prompt, maxTokens: 4, sampling: .greedy, owner: "B"),
      onPiece: { _, _ in true }, onFinish: collector.finish(5))
    gate.signal()
    _ = try collector.wait(for: 6)
    #expect(collector.order == [0, 5, 1, 2, 3, 4])
  }

  /// A full waiting queue refuses new requests at once; running sequences are untouched.
  @Test func fullQueueRefusesWithOverloaded() throws {
    let lm = try LanguageModel(path: TestPaths.fixture("models/llama-q8_0.gguf"), threads: 1)
    let scheduler = try BatchScheduler(
      model: lm, configuration: .init(kvCacheBytes: 16 << 20, maxWaiting: 2, maxSequences: 1))
    let collector = BatchCollector()
    let gate = DispatchSemaphore(value: 0)
    let prompt = batchPrompts(lm, count: 1)[0]
    try scheduler.submit(
      GenerationRequest(prompt: prompt, maxTokens: 4, sampling: .greedy),
      onPiece: { _, _ in
        gate.wait()
        gate.signal()
        return true
      }, onFinish: collector.finish(0))
    while scheduler.runningSequences == 0 { usleep(1000) }
    for i in 1...2 {
      try scheduler.submit(
        GenerationRequest(prompt: prompt, maxTokens: 4, sampling: .greedy), onPiece: { _, _ in true },
        onFinish: collector.finish(i))
    }
    #expect(throws: SchedulerError.overloaded(waiting: 2)) {
      try scheduler.submit(
        GenerationRequest(prompt: prompt, maxTokens: 4, sampling: .greedy), onPiece: { _, _ in true },
        onFinish: { _ in })
    }
    gate.signal()
    let results = try collector.wait(for: 3)
    #expect(results.count == 3 && results.values.allSatisfy { $0.finishReason != .cancelled })
  }

  /// Cancelling a running sequence returns its blocks to the pool at the next step.
  @Test func cancellationFreesBlocks() throws {
    let lm = try LanguageModel(path: try TestPaths.smolLM2(), threads: 2)
    let scheduler = try BatchScheduler(model: lm, configuration: .init(kvCacheBytes: 64 << 20))
    let collector = BatchCollector()
    let prompt = try lm.chatPrompt([.init(role: "user", content: "Write a long story about the sea.")])
    let holder = TicketHolder()
    let pieces = PieceCounter()
    let ticket = try scheduler.submit(
      GenerationRequest(prompt: prompt, maxTokens: 400, sampling: .greedy),
      onPiece: { _, _ in
        if pieces.increment() == 2 { holder.ticket?.cancel() }
        return true
      }, onFinish: collector.finish(0))
    holder.ticket = ticket
    let result = try #require(try collector.wait(for: 1)[0])
    #expect(result.finishReason == .cancelled)
    #expect(result.tokens.count < 10, "stopped at the next step, not at max_tokens")
    #expect(scheduler.pool.statistics.blocksInUse == 0)
    #expect(scheduler.runningSequences == 0)
  }

  @Test func requestLargerThanTheCacheIsRefused() throws {
    let lm = try LanguageModel(path: TestPaths.fixture("models/llama-q8_0.gguf"), threads: 1)
    let config = lm.model.config
    let scheduler = try BatchScheduler(
      model: lm,
      configuration: .init(kvCacheBytes: 2 * KVBlockPool.bytesPerBlock(config: config, blockSize: 16)))
    #expect(throws: SchedulerError.self) {
      try scheduler.submit(
        GenerationRequest(prompt: [1, 2, 3], maxTokens: 40, sampling: .greedy), onPiece: { _, _ in true },
        onFinish: { _ in })
    }
  }
}

extension SchedulerFairnessTests {
  @Test func emptyPromptIsRefused() throws {
    let lm = try LanguageModel(path: TestPaths.fixture("models/llama-q8_0.gguf"), threads: 1)
    let scheduler = try BatchScheduler(model: lm, configuration: .init(kvCacheBytes: 16 << 20))
    #expect(throws: SchedulerError.emptyPrompt) {
      try scheduler.submit(
        GenerationRequest(prompt: [], maxTokens: 4, sampling: .greedy), onPiece: { _, _ in true },
        onFinish: { _ in })
    }
  }
}

final class TicketHolder: @unchecked Sendable {
  private let lock = NSLock()
  private var value: GenerationTicket?
  var ticket: GenerationTicket? {
    get { lock.withLock { value } }
    set { lock.withLock { value = newValue } }
  }
}

final class PieceCounter: @unchecked Sendable {
  private let lock = NSLock()
  private var count = 0
  func increment() -> Int {
    lock.withLock {
      count += 1
      return count
    }
  }
}
