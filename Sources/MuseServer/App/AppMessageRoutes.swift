import Foundation
import Hummingbird
import MuseEngine
import MuseModels
import MuseStore

/// `POST /app/api/conversations/{id}/messages`: a new message, an edit of an earlier one
/// (`edit_message_id`: later messages are dropped) or a regeneration of the last reply
/// (`regenerate`); the reply streams back as server-sent events.
extension AppController {
  // swiftlint:disable identifier_name
  struct AppMessageRequest: Decodable {
    let content: String?
    let edit_message_id: String?
    let regenerate: Bool?
  }
  // swiftlint:enable identifier_name

  /// What the request does to the stored conversation, applied only once the request is
  /// admitted, so a refused request (429, context too long) changes nothing.
  private enum Change {
    case append(ConversationMessage)
    case edit(ConversationMessage, dropFrom: String?)
    case regenerate(dropFrom: String?)
  }

  func appPostMessage(_ request: Request, context: MuseRequestContext, conversationID: String) async throws
    -> Response
  {
    let caller = try context.requireAppCaller()
    var conversation = try appConversation(conversationID, for: caller)
    let body = try await service.decode(AppMessageRequest.self, from: request)
    let runner = try appCheckModel(conversation.model, for: caller)
    var history = try service.store.messages(conversationID: conversationID)
    let change = try Self.plan(body, conversationID: conversationID, history: &history)

    let reasoning = ReasoningTemplate(runner.model.chatTemplate?.source)
    let extra = reasoning.variables(thinking: conversation.thinking)
    var messages: [ChatMessage] = []
    if let system = conversation.systemPrompt, !system.isEmpty {
      messages.append(ChatMessage(role: "system", content: system))
    }
    messages += history.map { ChatMessage(role: $0.role, content: $0.content) }
    let prompt: [Int]
    let promptText: String
    do {
      prompt = try runner.model.chatPrompt(messages, extra: extra)
      promptText =
        try runner.model.chatTemplate?.render(
          messages: messages.map { ["role": .string($0.role), "content": .string($0.content)] }, extra: extra)
        ?? ""
    } catch {
      throw OpenAIError.invalid(
        "The model's chat template rejected this conversation: \(error)", code: "invalid_messages")
    }
    let job = try appJob(
      caller: caller, runner: runner, prompt: prompt, temperature: conversation.temperature)
    let generation = try await MeteredGeneration.start(job, service: service)

    let userMessage: ConversationMessage?
    do {
      userMessage = try apply(change, to: &conversation, history: history)
    } catch {
      // Nothing reached the client: stop, billing nothing but the prompt.
      generation.cancel()
      await generation.run(piecesReachClient: true) { _ in }
      throw error
    }

    let turn = AppChatTurn(
      service: service, generation: generation, conversationID: conversationID,
      splitsReasoning: reasoning.emitsThinkTags,
      startsInReasoning: promptText.trimmingCharacters(in: .whitespacesAndNewlines).hasSuffix("<think>"))
    return await eventStream(of: generation, context: context) { send in
      let prelude = userMessage.map { AppChatTurn.Event.userMessage(AppMessageView($0)) }
      await turn.run(prelude: prelude) { event in try await send(sse(event)) }
    }
  }

  /// Writes the planned change, names an untitled conversation after its first user message,
  /// and returns the user message to echo back (none for a regeneration).
  private func apply(_ change: Change, to conversation: inout Conversation, history: [ConversationMessage])
    throws -> ConversationMessage?
  {
    var userMessage: ConversationMessage?
    switch change {
    case .append(let m):
      try service.store.append(m)
      userMessage = m
    case .edit(let m, let dropFrom):
      try service.store.update(m)
      if let dropFrom { try service.store.deleteMessages(from: dropFrom, conversationID: conversation.id) }
      userMessage = m
    case .regenerate(let dropFrom):
      if let dropFrom { try service.store.deleteMessages(from: dropFrom, conversationID: conversation.id) }
    }
    if conversation.title.isEmpty, let first = history.first(where: { $0.role == "user" }) {
      conversation.title = Self.title(first.content)
    }
    conversation.updatedAt = Date()
    try service.store.update(conversation)
    return userMessage
  }

  /// Checks the request against the stored messages and returns what it will change;
  /// `history` becomes the conversation the model will see.
  private static func plan(
    _ body: AppMessageRequest, conversationID: String, history: inout [ConversationMessage]
  ) throws -> Change {
    if body.regenerate == true {
      var dropFrom: String?
      if let last = history.last, last.role == "assistant" {
        dropFrom = last.id
        history.removeLast()
      }
      guard history.last?.role == "user" else {
        throw OpenAIError.invalid(
          "There is no message to answer again: the conversation does not end with a user message.",
          param: "regenerate", code: "nothing_to_regenerate")
      }
      return .regenerate(dropFrom: dropFrom)
    }
    guard let content = body.content, !content.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
      throw OpenAIError.invalid("'content' must not be empty.", param: "content", code: "invalid_value")
    }
    if let editID = body.edit_message_id {
      guard let index = history.firstIndex(where: { $0.id == editID && $0.role == "user" }) else {
        throw OpenAIError(
          .notFound, "No user message '\(editID)' in this conversation.", param: "edit_message_id",
          code: "message_not_found")
      }
      var edited = history[index]
      edited.content = content
      let dropFrom = index + 1 < history.count ? history[index + 1].id : nil
      history = Array(history[..<index]) + [edited]
      return .edit(edited, dropFrom: dropFrom)
    }
    let message = ConversationMessage(conversationID: conversationID, role: "user", content: content)
    history.append(message)
    return .append(message)
  }

  /// The generation job for a reply: the conversation's temperature or the model's defaults,
  /// and as many tokens as the context leaves (or the model's configured maximum).
  private func appJob(caller: AppCaller, runner: ModelRunner, prompt: [Int], temperature: Double?) throws
    -> GenerationJob
  {
    let entry = runner.entry
    let context = runner.contextLength
    guard prompt.count < context else {
      throw OpenAIError.invalid(
        "This conversation is \(prompt.count) tokens long, more than the model's context of \(context) tokens. "
          + "Start a new conversation or edit an earlier message.",
        param: "content", code: "context_length_exceeded")
    }
    let sampling = SamplingParameters(
      temperature: temperature.map { Float($0) } ?? entry.defaultTemperature ?? 1, topK: 0,
      topP: entry.defaultTopP ?? 1, minP: 0)
    return GenerationJob(
      key: caller.key, runner: runner, endpoint: "app.chat", prompt: prompt,
      maxTokens: min(entry.defaultMaxTokens ?? context, context - prompt.count), sampling: sampling)
  }
}
