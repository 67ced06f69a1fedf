import Foundation
import Hummingbird
import MuseEngine
import MuseJinja
import MuseModels
import MuseStore

/// `POST /app/api/conversations/{id}/messages`: a new message, an edit of an earlier one
/// (`edit_message_id`: later messages are dropped) or a regeneration of the last reply
/// (`regenerate`); the reply streams back as server-sent events.
extension AppController {
  // swiftlint:disable identifier_name
  struct AppMessageRequest: Decodable {
    struct ToolResult: Decodable {
      let tool_call_id: String
      var content: String
    }
    var content: String?
    let edit_message_id: String?
    let regenerate: Bool?
    var tool_results: [ToolResult]?
  }
  // swiftlint:enable identifier_name

  /// What the request does to the stored conversation, applied only once the request is
  /// admitted, so a refused request (429, context too long) changes nothing.
  private enum Change {
    case append(ConversationMessage)
    /// The results of the last reply's tool calls, as `tool` messages.
    case toolResults([ConversationMessage])
    case edit(ConversationMessage, dropFrom: String?)
    case regenerate(dropFrom: String?)
  }

  func appPostMessage(_ request: Request, context: MuseRequestContext, conversationID: String) async throws
    -> Response
  {
    let caller = try context.requireAppCaller()
    var conversation = try appConversation(conversationID, for: caller)
    let (decoded, raw) = try await service.decodeWithBody(AppMessageRequest.self, from: request)
    var body = decoded
    let runner = try appCheckModel(conversation.model, for: caller)
    // The input rails see (and may redact) the new message or tool results before they are
    // stored or rendered; earlier messages were screened when they were sent.
    let guardContext = GuardContext(
      requestID: UUID().uuidString, keyID: caller.key.id, model: runner.entry.id)
    if let content = body.content {
      body.content = try await service.screen(texts: [("content", content)], context: guardContext)[0]
    }
    if let results = body.tool_results {
      let screened = try await service.screen(
        texts: results.enumerated().map { ("tool_results[\($0)].content", $1.content) }, stage: .tool,
        context: guardContext)
      for i in results.indices { body.tool_results?[i].content = screened[i] }
    }
    var history = try service.store.messages(conversationID: conversationID)
    let change = try Self.plan(body, conversationID: conversationID, history: &history)

    let extra = ReasoningTemplate(runner.model.chatTemplate?.source).variables(
      thinking: conversation.thinking)
    var messages: [JinjaValue] = []
    if let system = conversation.systemPrompt, !system.isEmpty {
      messages.append(["role": "system", "content": .string(system)])
    }
    messages += history.map(Self.templateMessage)
    let tools = try conversation.tools.flatMap { text in
      try ToolFields.check(tools: try? JinjaValue(json: text), choice: nil)
    }
    let plan = try ChatReplyPlan(runner: runner, messages: messages, tools: tools, output: nil, extra: extra)
    var job = try appJob(
      caller: caller, runner: runner, prompt: plan.prompt, temperature: conversation.temperature,
      requestID: guardContext.requestID)
    job.constraint = plan.constraint
    job.hasTools = tools != nil
    job.userTurn = GuardContext.lastUserTurn(in: messages)
    // The turn's receipt (stored, by the request id) covers the message request as posted.
    job.requestBody = raw
    job.replyReader = plan.reader
    let generation = try await MeteredGeneration.start(job, service: service)

    let prelude: AppChatTurn.Event?
    do {
      prelude = try apply(change, to: &conversation, history: history)
    } catch {
      // Nothing reached the client: stop, billing nothing but the prompt.
      generation.cancel()
      await generation.run(piecesReachClient: true) { _ in }
      throw error
    }

    let turn = AppChatTurn(
      service: service, generation: generation, conversationID: conversationID, reader: plan.reader)
    return await eventStream(of: generation, context: context) { send in
      await turn.run(prelude: prelude) { event in try await send(sse(event)) }
    }
  }

  /// Writes the planned change, names an untitled conversation after its first user message,
  /// and returns the event that echoes the new messages back (none for a regeneration).
  private func apply(_ change: Change, to conversation: inout Conversation, history: [ConversationMessage])
    throws -> AppChatTurn.Event?
  {
    var echo: AppChatTurn.Event?
    switch change {
    case .append(let m):
      try service.store.append(m)
      echo = .userMessage(AppMessageView(m))
    case .toolResults(let results):
      for m in results { try service.store.append(m) }
      echo = .toolMessages(results.map(AppMessageView.init))
    case .edit(let m, let dropFrom):
      try service.store.update(m)
      if let dropFrom { try service.store.deleteMessages(from: dropFrom, conversationID: conversation.id) }
      echo = .userMessage(AppMessageView(m))
    case .regenerate(let dropFrom):
      if let dropFrom { try service.store.deleteMessages(from: dropFrom, conversationID: conversation.id) }
    }
    if conversation.title.isEmpty, let first = history.first(where: { $0.role == "user" }) {
      conversation.title = Self.title(first.content)
    }
    conversation.updatedAt = Date()
    try service.store.update(conversation)
    return echo
  }

  /// Checks the request against the stored messages and returns what it will change;
  /// `history` becomes the conversation the model will see.
  private static func plan(
    _ body: AppMessageRequest, conversationID: String, history: inout [ConversationMessage]
  ) throws -> Change {
    if let results = body.tool_results {
      return try planToolResults(results, conversationID: conversationID, history: &history)
    }
    if body.regenerate == true {
      var dropFrom: String?
      if let last = history.last, last.role == "assistant" {
        dropFrom = last.id
        history.removeLast()
      }
      guard history.last?.role == "user" || history.last?.role == "tool" else {
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

  /// A stored message as the model's template receives it (OpenAI's message shape).
  private static func templateMessage(_ m: ConversationMessage) -> JinjaValue {
    var fields = JinjaDict()
    fields["role"] = .string(m.role)
    fields["content"] = .string(m.content)
    if let calls = m.toolCalls, let parsed = try? JinjaValue(json: calls) { fields["tool_calls"] = parsed }
    if let id = m.toolCallID { fields["tool_call_id"] = .string(id) }
    return .dict(fields)
  }

  /// Tool results answer every call of the conversation's last reply, once each, in any order.
  private static func planToolResults(
    _ results: [AppMessageRequest.ToolResult], conversationID: String, history: inout [ConversationMessage]
  ) throws -> Change {
    guard let last = history.last, last.role == "assistant", let text = last.toolCalls,
      case .array(let calls)? = try? JinjaValue(json: text), !calls.isEmpty
    else {
      throw OpenAIError.invalid(
        "There are no tool calls to answer: the conversation does not end with a reply that called tools.",
        param: "tool_results", code: "no_tool_calls")
    }
    let ids = calls.compactMap { call -> String? in
      if case .dict(let c) = call, case .string(let id)? = c["id"] { return id }
      return nil
    }
    var seen: Set<String> = []
    for (i, result) in results.enumerated() {
      guard ids.contains(result.tool_call_id), seen.insert(result.tool_call_id).inserted else {
        throw OpenAIError.invalid(
          "Invalid value for 'tool_results[\(i)].tool_call_id': '\(result.tool_call_id)' is not an unanswered call of the last reply.",
          param: "tool_results[\(i)].tool_call_id", code: "invalid_value")
      }
    }
    guard seen.count == ids.count else {
      let missing = ids.filter { !seen.contains($0) }.joined(separator: ", ")
      throw OpenAIError.invalid(
        "'tool_results' must answer every call of the last reply; missing: \(missing).",
        param: "tool_results",
        code: "invalid_value")
    }
    let messages = results.map {
      ConversationMessage(
        conversationID: conversationID, role: "tool", content: $0.content, toolCallID: $0.tool_call_id)
    }
    history += messages
    return .toolResults(messages)
  }

  /// The generation job for a reply: the conversation's temperature or the model's defaults,
  /// and as many tokens as the context leaves (or the model's configured maximum).
  private func appJob(
    caller: AppCaller, runner: ModelRunner, prompt: [Int], temperature: Double?, requestID: String
  ) throws -> GenerationJob {
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
      maxTokens: min(entry.defaultMaxTokens ?? context, context - prompt.count), sampling: sampling,
      requestID: requestID)
  }
}
