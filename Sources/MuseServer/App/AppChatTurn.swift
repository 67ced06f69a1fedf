import Foundation
import MuseEngine
import MuseModels
import MuseStore

/// One model reply in a conversation: generated, split into reasoning and content, streamed to
/// `emit`, stored, and metered against the user's key like an API call. A client that goes
/// away stops the generation at the next token; the partial reply is stored as "cancelled"
/// and the tokens it used are billed.
struct AppChatTurn {
  enum Event: Encodable {
    case userMessage(AppMessageView)
    case delta(String)
    case reasoningDelta(String)
    case done(AppMessageView, promptTokens: Int, completionTokens: Int)
    case error(message: String, code: String)

    func encode(to encoder: Encoder) throws {
      var c = encoder.container(keyedBy: Keys.self)
      switch self {
      case .userMessage(let m):
        try c.encode("user_message", forKey: .type)
        try c.encode(m, forKey: .message)
      case .delta(let text):
        try c.encode("delta", forKey: .type)
        try c.encode(text, forKey: .text)
      case .reasoningDelta(let text):
        try c.encode("reasoning_delta", forKey: .type)
        try c.encode(text, forKey: .text)
      case .done(let m, let prompt, let completion):
        try c.encode("done", forKey: .type)
        try c.encode(m, forKey: .message)
        try c.encode(["prompt_tokens": prompt, "completion_tokens": completion], forKey: .usage)
      case .error(let message, let code):
        try c.encode("error", forKey: .type)
        try c.encode(["message": message, "code": code], forKey: .error)
      }
    }

    enum Keys: String, CodingKey { case type, message, text, usage, error }
  }

  /// Thrown by `emit` when the client is gone.
  struct ClientGone: Error {}

  let service: MuseService
  let job: MuseService.Job
  let reservation: Admission.Reservation
  let conversationID: String
  let splitsReasoning: Bool
  let startsInReasoning: Bool
  let started: ContinuousClock.Instant

  /// Runs the turn to its end; returns the stored assistant message (nil when the model failed).
  @discardableResult
  func run(prelude: Event? = nil, emit: (Event) async throws -> Void) async -> ConversationMessage? {
    let meter = Meter(service: service, job: job, reservation: reservation, started: started)
    if let prelude {
      do {
        try await emit(prelude)
      } catch {
        await meter.fail(status: 499)
        return nil
      }
    }
    var splitter = ReasoningSplitter(startsInReasoning: startsInReasoning)
    var pieces = 0
    var content = ""
    var reasoning = ""
    var result: GenerationResult?
    var firstToken: Duration?
    var clientGone = false
    var failure: Error?

    func send(_ parts: [ReasoningSplitter.Part]) async throws {
      for part in parts {
        switch part {
        case .content(let text):
          content += text
          try await emit(.delta(text))
        case .reasoning(let text):
          reasoning += text
          try await emit(.reasoningDelta(text))
        }
      }
    }

    let events = job.runner.generate(
      prompt: job.prompt, maxTokens: job.maxTokens, sampling: job.sampling, stop: job.stop)
    do {
      for try await event in events {
        switch event {
        case .text(let piece, _):
          if firstToken == nil { firstToken = ContinuousClock.now - started }
          pieces += 1
          try await send(splitsReasoning ? splitter.feed(piece) : [.content(piece)])
        case .finished(let r):
          result = r
        }
      }
    } catch is ClientGone {
      clientGone = true
    } catch {
      failure = error
    }
    // Leaving the loop early dropped the stream, which stopped the generation.
    for part in splitter.finish() {
      switch part {
      case .content(let text): content += text
      case .reasoning(let text): reasoning += text
      }
    }
    if let failure {
      await meter.fail(status: 500)
      service.logger.error("app generation failed: \(failure)")
      try? await emit(.error(message: "The model failed: \(failure)", code: "model_error"))
      return nil
    }
    let finishReason = result?.finishReason.rawValue ?? "cancelled"
    // Stopped by the client before the end: bill the tokens it got. Each piece is one token,
    // except where several tokens made up one UTF-8 character, so this never overcharges.
    let completionTokens = result?.tokens.count ?? pieces
    let message = ConversationMessage(
      conversationID: conversationID, role: "assistant", content: content,
      reasoning: reasoning.isEmpty ? nil : reasoning, finishReason: finishReason)
    do {
      try service.store.append(message)
    } catch {
      service.logger.error("could not store an app reply: \(error)")
    }
    await meter.record(
      completion: completionTokens, status: result == nil ? 499 : 200, finishReason: finishReason,
      firstToken: firstToken)
    if !clientGone, result != nil {
      try? await emit(
        .done(AppMessageView(message), promptTokens: job.prompt.count, completionTokens: completionTokens))
    }
    return message
  }
}
