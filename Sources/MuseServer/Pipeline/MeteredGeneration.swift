import Foundation
import MuseEngine
import MuseStore

/// The whole life of one billed generation, the only path by which the API's chat and
/// completion routes and the chat app reach a model:
///
/// (input rails, run by the route on the messages before they are rendered) → stages'
/// `beforePrompt` → admission (rate limits, budget reservation) → the model's scheduler → each
/// piece through the stages' `onOutput` and the output rails (`OutputGuard`) to the client → the
/// ledger row (written at the start, checkpointed as tokens are delivered, completed at the
/// end) → settlement → metrics → the signed receipt (`ReceiptStage`), which the route gets with
/// `.finished` → the guard decisions audited → the stages' `afterEnd`.
///
/// What is billed is what the client received: the prompt, and every generated token whose
/// text was handed to it (a reply the output rails ended: every token generated). A client that goes away stops the generation at the next step and
/// is billed for what it got. A crash loses at most `checkpointTokens` delivered tokens per
/// running generation (the row keeps its last checkpoint and is marked interrupted at the next
/// start).
public final class MeteredGeneration: @unchecked Sendable {
  /// Delivered tokens between two ledger checkpoints: the most a crash can leave unbilled.
  public static let checkpointTokens = 16

  public enum Event: Sendable {
    case text(String, [TokenLogprob])
    case finished(GenerationResult)
  }

  /// Thrown by a `deliver` closure when the client can no longer be written to.
  public struct ClientGone: Error {}

  public let job: GenerationJob
  private let service: MuseService
  private let reservation: Admission.Reservation
  private let running: ModelRunner.Running
  private let started: ContinuousClock.Instant
  private var rowID: String { job.requestID }
  private let createdAt = Date()
  private let lock = NSLock()
  private var delivered = 0
  private var checkpointed = 0
  private var firstToken: Duration?
  private var ended = false
  /// The output rails of this reply, if the model's policy has any.
  private let outputGuard: OutputGuard?
  /// Why the guardrails ended the reply, if they did.
  public private(set) var violation: GuardViolation? {
    get { lock.withLock { _violation } }
    set { lock.withLock { _violation = newValue } }
  }
  private var _violation: GuardViolation?
  /// The signed receipt of a completed reply, set before the route gets `.finished`.
  public private(set) var receipt: Receipt? {
    get { lock.withLock { _receipt } }
    set { lock.withLock { _receipt = newValue } }
  }
  private var _receipt: Receipt?

  private init(
    job: GenerationJob, service: MuseService, reservation: Admission.Reservation,
    running: ModelRunner.Running, started: ContinuousClock.Instant
  ) {
    self.job = job
    self.service = service
    self.reservation = reservation
    self.running = running
    self.started = started
    outputGuard = service.guardrails.policy(for: job.runner.entry.id).flatMap {
      OutputGuard(guardrails: $0, withTools: job.hasTools, context: job.guardContext)
    }
  }

  /// Runs the input stages, admits the job and hands it to the model's scheduler. Throws the
  /// stage's error, an `AdmissionError` or a `SchedulerError`; nothing is billed then.
  public static func start(_ job: GenerationJob, service: MuseService) async throws -> MeteredGeneration {
    for stage in service.stages { try await stage.beforePrompt(job) }
    let reservation = try await service.admission.admit(
      key: job.key, tokens: job.prompt.count + job.maxTokens,
      microdollars: job.cost(completion: job.maxTokens))
    let started = ContinuousClock.now
    let running: ModelRunner.Running
    do {
      running = try job.runner.start(
        prompt: job.prompt, maxTokens: job.maxTokens, sampling: job.sampling, stop: job.stop,
        logprobs: job.logprobs, constraint: job.constraint, owner: job.key.id, promptScores: job.promptScores)
    } catch {
      await service.admission.settle(reservation, tokensUsed: 0)
      if case SchedulerError.overloaded = error {
        service.metrics.request(model: job.runner.entry.id, endpoint: job.endpoint, status: 503)
      }
      throw error
    }
    let generation = MeteredGeneration(
      job: job, service: service, reservation: reservation, running: running, started: started)
    await generation.writeRow(
      completion: 0, status: UsageRecord.inProgressStatus, finishReason: "in_progress")
    return generation
  }

  /// Stops the generation at its next step (the client went away).
  public func cancel() { running.cancel() }

  /// Runs the generation to its end, handing each piece (after the output stages) to
  /// `deliver`, then meters it. With `piecesReachClient` (streams), each piece `deliver`
  /// returns from counts as delivered; otherwise (one JSON reply) nothing is delivered until
  /// the end, and a reply the client left before is billed for its prompt only. Returns how it
  /// ended (`.failed`: the model broke, the caller says so to the client); `deliver` gets
  /// `.finished` after the ledger row is complete, so a reply the client
  /// has seen end is a reply billed, and after `receipt` is signed, so the reply can carry it.
  @discardableResult
  public func run(piecesReachClient: Bool, deliver: (Event) async throws -> Void) async -> GenerationOutcome {
    var result: GenerationResult?
    var failure: Error?
    var gone = false
    // Everything handed to the client, which the receipt's content hash covers.
    var sent = ""
    do {
      for try await event in running.events {
        switch event {
        case .text(let piece, let logprobs, let tokens):
          // After a violation the reply is cancelled; what the model still sends is dropped.
          guard violation == nil else { continue }
          var text = piece
          for stage in service.stages { text = try stage.onOutput(text, job: job) }
          if let outputGuard {
            switch await outputGuard.process(text) {
            case .text(let released): text = released
            case .violation(let v):
              violation = v
              running.cancel()
              continue
            }
          }
          // The first token is the first text the client gets (the output rails may hold some).
          if !text.isEmpty {
            lock.withLock { if firstToken == nil { firstToken = ContinuousClock.now - started } }
          }
          sent += text
          try await deliver(.text(text, logprobs))
          if piecesReachClient { await markDelivered(tokens) }
        case .finished(var r):
          if violation == nil, let outputGuard {
            switch await outputGuard.finish() {
            case .text(let rest) where !rest.isEmpty:
              sent += rest
              try await deliver(.text(rest, []))
            case .text: break
            case .violation(let v): violation = v
            }
          }
          // A reply the rails ended is complete as far as the client is concerned: every
          // token generated is billed, and the finish reason says why it stopped.
          if violation != nil { r.finishReason = .contentFilter }
          result = r
        }
      }
    } catch is ClientGone {
      gone = true
    } catch {
      failure = error
    }
    // Leaving the loop early dropped the stream, which stopped the generation.
    let outcome: GenerationOutcome
    if let failure {
      service.logger.error("generation failed: \(failure)")
      outcome = .failed(delivered: deliveredCount)
    } else if let result, result.finishReason != .cancelled, !gone {
      outcome = .completed(result)
    } else {
      outcome = .abandoned(delivered: deliveredCount)
    }
    await end(outcome)
    if case .completed(let result) = outcome {
      receipt = service.receipts?.issue(
        job, result: result, delivered: sent, created: Date(), service: service)
      try? await deliver(.finished(result))
    }
    if let outputGuard { service.record(outputGuard.events()) }
    for stage in service.stages { await stage.afterEnd(job, outcome: outcome) }
    return outcome
  }

  private var deliveredCount: Int { lock.withLock { delivered } }

  /// Notes that the client has the text of the first `tokens` generated tokens; every
  /// `checkpointTokens` the ledger row follows.
  private func markDelivered(_ tokens: Int) async {
    let checkpoint: Bool = lock.withLock {
      delivered = max(delivered, tokens)
      guard delivered - checkpointed >= Self.checkpointTokens else { return false }
      checkpointed = delivered
      return true
    }
    if checkpoint {
      let count = deliveredCount
      await writeRow(completion: count, status: UsageRecord.inProgressStatus, finishReason: "in_progress")
    }
  }

  /// Completes the ledger row, settles the reservation and counts the request, once.
  private func end(_ outcome: GenerationOutcome) async {
    let first: Bool = lock.withLock {
      defer { ended = true }
      return !ended
    }
    guard first else { return }
    let (completion, status, reason): (Int, Int, String)
    switch outcome {
    case .completed(let result):
      (completion, status, reason) = (result.tokens.count, 200, result.finishReason.rawValue)
    case .abandoned(let delivered):
      (completion, status, reason) = (delivered, 499, "cancelled")
    case .failed(let delivered):
      (completion, status, reason) = (delivered, 500, "error")
    }
    await writeRow(completion: completion, status: status, finishReason: reason)
    await service.admission.settle(reservation, tokensUsed: job.prompt.count + completion)
    let entry = job.runner.entry
    let elapsed = (ContinuousClock.now - started).seconds
    service.metrics.request(model: entry.id, endpoint: job.endpoint, status: status)
    service.metrics.tokens(model: entry.id, prompt: job.prompt.count, completion: completion)
    service.metrics.latency(
      model: entry.id, seconds: elapsed, timeToFirstToken: lock.withLock { firstToken }?.seconds)
  }

  /// Writes (or rewrites) this generation's ledger row.
  private func writeRow(completion: Int, status: Int, finishReason: String) async {
    let usage = UsageRecord(
      id: rowID, keyID: job.key.id, model: job.runner.entry.id, endpoint: job.endpoint,
      promptTokens: job.prompt.count, completionTokens: completion,
      costMicrodollars: job.cost(completion: completion),
      latencyMilliseconds: Int((ContinuousClock.now - started).seconds * 1000),
      timeToFirstTokenMilliseconds: lock.withLock { firstToken }.map { Int($0.seconds * 1000) },
      status: status, finishReason: finishReason, createdAt: createdAt)
    do {
      try service.store.record(usage)
      await service.admission.recordedInLedger(
        reservation, tokens: job.prompt.count + completion, microdollars: usage.costMicrodollars)
    } catch {
      service.logger.error("could not record usage for key \(job.key.prefix)…: \(error)")
    }
  }
}

extension Duration {
  var seconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}
