import Foundation
import Hummingbird
import MuseJinja
import MuseStore

/// `GET/POST /app/api/conversations`, `GET/PATCH/DELETE /app/api/conversations/{id}`.
/// Another user's conversation answers 404, exactly like one that does not exist.
extension AppController {
  // swiftlint:disable identifier_name
  struct AppConversationCreate: Decodable {
    let model: String
    let title: String?
    let system_prompt: String?
    let temperature: Double?
    let thinking: Bool?
  }

  /// A PATCH body: absent fields stay as they are; `system_prompt` and `temperature` may be
  /// set to null to clear them.
  struct AppConversationPatch: Decodable {
    var title: String?
    var model: String?
    var system_prompt: String??
    var temperature: Double??
    var thinking: Bool?

    init(from decoder: Decoder) throws {
      let c = try decoder.container(keyedBy: CodingKeys.self)
      title = try c.decodeIfPresent(String.self, forKey: .title)
      model = try c.decodeIfPresent(String.self, forKey: .model)
      if c.contains(.system_prompt) {
        system_prompt = .some(
          try c.decodeNil(forKey: .system_prompt) ? nil : try c.decode(String.self, forKey: .system_prompt))
      }
      if c.contains(.temperature) {
        temperature = .some(
          try c.decodeNil(forKey: .temperature) ? nil : try c.decode(Double.self, forKey: .temperature))
      }
      thinking = try c.decodeIfPresent(Bool.self, forKey: .thinking)
    }

    enum CodingKeys: String, CodingKey { case title, model, system_prompt, temperature, thinking }
  }
  // swiftlint:enable identifier_name

  func appListConversations(_ request: Request, context: MuseRequestContext) throws -> Response {
    let caller = try context.requireAppCaller()
    let query = request.uri.queryParameters.get("q")
    let list = try service.store.conversations(userID: caller.user.id, matching: query)
    struct Body: Encodable { let data: [AppConversationSummary] }
    return try jsonResponse(Body(data: list.map(AppConversationSummary.init)))
  }

  func appCreateConversation(_ request: Request, context: MuseRequestContext) async throws -> Response {
    let caller = try context.requireAppCaller()
    let (body, raw) = try await service.decodeWithBody(AppConversationCreate.self, from: request)
    try appCheckModel(body.model, for: caller)
    try Self.checkTemperature(body.temperature)
    let conversation = Conversation(
      userID: caller.user.id, title: Self.title(body.title ?? ""), model: body.model,
      systemPrompt: body.system_prompt.flatMap { $0.isEmpty ? nil : $0 }, temperature: body.temperature,
      thinking: body.thinking ?? false, tools: try Self.tools(in: raw) ?? nil)
    try service.store.insert(conversation)
    return try jsonResponse(AppConversationView(conversation))
  }

  func appGetConversation(_ request: Request, context: MuseRequestContext, id: String) throws -> Response {
    let caller = try context.requireAppCaller()
    let conversation = try appConversation(id, for: caller)
    struct Body: Encodable {
      let conversation: AppConversationView
      let messages: [AppMessageView]
    }
    return try jsonResponse(
      Body(
        conversation: AppConversationView(conversation),
        messages: try service.store.messages(conversationID: id).map(AppMessageView.init)))
  }

  func appUpdateConversation(_ request: Request, context: MuseRequestContext, id: String) async throws
    -> Response
  {
    let caller = try context.requireAppCaller()
    var conversation = try appConversation(id, for: caller)
    let (patch, raw) = try await service.decodeWithBody(AppConversationPatch.self, from: request)
    if let title = patch.title { conversation.title = Self.title(title) }
    if let model = patch.model {
      try appCheckModel(model, for: caller)
      conversation.model = model
    }
    if let prompt = patch.system_prompt {
      conversation.systemPrompt = prompt.flatMap { $0.isEmpty ? nil : $0 }
    }
    if let temperature = patch.temperature {
      try Self.checkTemperature(temperature)
      conversation.temperature = temperature
    }
    if let thinking = patch.thinking { conversation.thinking = thinking }
    if let tools = try Self.tools(in: raw) { conversation.tools = tools }
    conversation.updatedAt = Date()
    try service.store.update(conversation)
    return try jsonResponse(AppConversationView(conversation))
  }

  func appDeleteConversation(_ request: Request, context: MuseRequestContext, id: String) throws -> Response {
    let caller = try context.requireAppCaller()
    guard try service.store.deleteConversation(id: id, userID: caller.user.id) else {
      throw AppErrors.conversationNotFound
    }
    return Response(status: .noContent)
  }

  /// The caller's own conversation, or 404.
  func appConversation(_ id: String, for caller: AppCaller) throws -> Conversation {
    guard let conversation = try service.store.conversation(id: id, userID: caller.user.id) else {
      throw AppErrors.conversationNotFound
    }
    return conversation
  }

  /// A chat model that exists and that the caller's key may use.
  @discardableResult
  func appCheckModel(_ id: String, for caller: AppCaller) throws -> ModelRunner {
    guard let runner = service.models[id] else { throw OpenAIError.modelNotFound(id) }
    guard caller.key.allows(model: id) else { throw AppErrors.modelNotAllowed(id) }
    return runner
  }

  private static func checkTemperature(_ t: Double?) throws {
    if let t, !(0...2).contains(t) {
      throw OpenAIError.invalid(
        "'temperature' must be between 0 and 2.", param: "temperature", code: "invalid_value")
    }
  }

  /// The body's `tools`, checked as the API checks them and kept as JSON text in the client's
  /// key order: nil when the body has no `tools`, `.some(nil)` when it clears them.
  private static func tools(in body: Data) throws -> String?? {
    guard case .dict(let json)? = try? JinjaValue(json: body), let tools = json["tools"] else { return nil }
    guard try ToolFields.check(tools: tools, choice: nil) != nil else { return .some(nil) }
    return .some(try tools.jsonString())
  }

  /// Titles are one line of at most 60 characters (cut at a word where one is near).
  static func title(_ text: String) -> String {
    let line = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
    let trimmed = line.trimmingCharacters(in: .whitespaces)
    guard trimmed.count > 60 else { return trimmed }
    let cut = trimmed.prefix(60)
    if let space = cut.lastIndex(of: " "), cut.distance(from: cut.startIndex, to: space) >= 40 {
      return String(cut[..<space]) + "…"
    }
    return String(cut) + "…"
  }
}
