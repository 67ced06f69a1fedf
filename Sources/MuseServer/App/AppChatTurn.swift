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
    /// The stored `tool` messages of a request that answered tool calls.
    case toolMessages([AppMessageView])
    case delta(String)
    case reasoningDelta(String)
    case toolCall(index: Int, id: String, name: String)
    case toolArguments(index: Int, text: String)
    case done(AppMessageView, promptTokens: Int, completionTokens: Int)
    case error(message: String, code: String)

    func encode(to encoder: Encoder) throws {
      var c = encoder.container(keyedBy: Keys.self)
      switch self {
      case .userMessage(let m):
        try c.encode("user_message", forKey: .type)
        try c.encode(m, forKey: .message)
      case .toolMessages(let messages):
        try c.encode("tool_messages", forKey: .type)
        try c.encode(messages, forKey: .messages)
      case .delta(let text):
        try c.encode("delta", forKey: .type)
        try c.encode(text, forKey: .text)
      case .toolCall(let index, let id, let name):
        try c.encode("tool_call", forKey: .type)
        try c.encode(index, forKey: .index)
        try c.encode(id, forKey: .id)
        try c.encode(name, forKey: .name)
      case .toolArguments(let index, let text):
        try c.encode("tool_arguments", forKey: .type)
        try c.encode(index, forKey: .index)
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

    enum Keys: String, CodingKey { case type, message, messages, text, usage, error, index, id, name }
  }

  let service: MuseService
  let generation: MeteredGeneration
  let conversationID: String
  /// Reads reasoning and tool calls out of the reply, as the API's chat route does.
  let reader: ChatReplyReader

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
    var reader = self.reader
    // What the client was sent: what a reply it left is kept as.
    var delivered = ParsedAssistantMessage()
    var result: GenerationResult?

    func send(_ pieces: [AssistantDelta]) async throws {
      for piece in pieces {
        switch piece {
        case .content(let text), .invalidToolCall(_, let text): try await emit(.delta(text))
        case .reasoning(let text): try await emit(.reasoningDelta(text))
        case .toolCallStart(let index, let id, let name):
          try await emit(.toolCall(index: index, id: id ?? "", name: name))
        case .toolCallArguments(let index, let fragment):
          try await emit(.toolArguments(index: index, text: fragment))
        }
        delivered.apply(piece)
      }
    }

    let outcome = await generation.run(piecesReachClient: true) { event in
      switch event {
      case .text(let piece, _):
        try await send(reader.read(piece))
      case .finished(let r):
        result = r
      }
    }
    // What the reader still holds is the end of a completed reply (the done event carries
    // it); a client that left keeps only what it was sent.
    if case .completed = outcome { _ = reader.finish() }
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
    let reply: ParsedAssistantMessage
    if case .completed = outcome { reply = reader.reply } else { reply = delivered }
    var finishReason = result?.finishReason.rawValue ?? "cancelled"
    if finishReason == "stop" && !reply.toolCalls.isEmpty { finishReason = "tool_calls" }
    let calls =
      reply.toolCalls.isEmpty
      ? nil : (try? JSONEncoder().encode(reply.callViews)).map { String(decoding: $0, as: UTF8.self) }
    let message = ConversationMessage(
      conversationID: conversationID, role: "assistant", content: reply.content,
      reasoning: reply.reasoning.isEmpty ? nil : reply.reasoning, finishReason: finishReason, toolCalls: calls
    )
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
