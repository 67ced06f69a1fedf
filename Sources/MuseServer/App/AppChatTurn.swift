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

  let service: MuseService
  let generation: MeteredGeneration
  let conversationID: String
  let splitsReasoning: Bool
  let startsInReasoning: Bool

  /// Runs the turn to its end; returns the stored assistant message (nil when the model failed).
  /// `emit` throws `MeteredGeneration.ClientGone` when the client has left.
  @discardableResult
  func run(prelude: Event? = nil, emit: (Event) async throws -> Void) async -> ConversationMessage? {
    if let prelude {
      do {
        try await emit(prelude)
      } catch {
        generation.cancel()
      }
    }
    var splitter = ReasoningSplitter(startsInReasoning: startsInReasoning)
    var content = ""
    var reasoning = ""
    var result: GenerationResult?

    func send(_ parts: [ReasoningSplitter.Part]) async throws {
      for part in parts {
        switch part {
        case .content(let text):
          try await emit(.delta(text))
          content += text
        case .reasoning(let text):
          try await emit(.reasoningDelta(text))
          reasoning += text
        }
      }
    }

    let outcome = await generation.run(piecesReachClient: true) { event in
      switch event {
      case .text(let piece, _):
        try await send(splitsReasoning ? splitter.feed(piece) : [.content(piece)])
      case .finished(let r):
        result = r
      }
    }
    // What the splitter still holds is the end of a completed reply; a client that left
    // keeps only what it was sent.
    if case .completed = outcome {
      for part in splitter.finish() {
        switch part {
        case .content(let text): content += text
        case .reasoning(let text): reasoning += text
        }
      }
    }
    let completionTokens: Int
    switch outcome {
    case .failed:
      try? await emit(.error(message: "The model failed to generate a reply.", code: "model_error"))
      return nil
    case .completed(let r):
      completionTokens = r.tokens.count
    case .abandoned(let delivered):
      completionTokens = delivered
    }
    let finishReason = result?.finishReason.rawValue ?? "cancelled"
    let message = ConversationMessage(
      conversationID: conversationID, role: "assistant", content: content,
      reasoning: reasoning.isEmpty ? nil : reasoning, finishReason: finishReason)
    do {
      try service.store.append(message)
    } catch {
      service.logger.error("could not store an app reply: \(error)")
    }
    if case .completed = outcome {
      try? await emit(
        .done(
          AppMessageView(message), promptTokens: generation.job.prompt.count,
          completionTokens: completionTokens))
    }
    return message
  }
}
