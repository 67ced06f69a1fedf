import Foundation

/// A chat in the app, owned by one user.
public struct Conversation: Codable, Sendable, Equatable, Identifiable {
  public var id: String
  public var userID: String
  public var title: String
  public var model: String
  public var systemPrompt: String?
  public var temperature: Double?
  public var thinking: Bool
  /// The functions the model may call in this conversation: an OpenAI `tools` array as JSON
  /// text, nil for none. The user answers each call with its result.
  public var tools: String?
  public var createdAt: Date
  public var updatedAt: Date

  public init(
    id: String = "conv_" + RandomToken.base62(count: 16), userID: String, title: String = "", model: String,
    systemPrompt: String? = nil, temperature: Double? = nil, thinking: Bool = false, tools: String? = nil,
    createdAt: Date = Date(), updatedAt: Date? = nil
  ) {
    self.id = id
    self.userID = userID
    self.title = title
    self.model = model
    self.systemPrompt = systemPrompt
    self.temperature = temperature
    self.thinking = thinking
    self.tools = tools
    self.createdAt = createdAt
    self.updatedAt = updatedAt ?? createdAt
  }
}

/// One message of a conversation. `reasoning` is the model's thinking when its template splits
/// it from the reply; `finishReason` is nil for user messages.
public struct ConversationMessage: Codable, Sendable, Equatable, Identifiable {
  public var id: String
  public var conversationID: String
  public var role: String
  public var content: String
  public var reasoning: String?
  public var finishReason: String?
  /// An assistant message's calls: an OpenAI `tool_calls` array as JSON text.
  public var toolCalls: String?
  /// A `tool` message: the call it answers.
  public var toolCallID: String?
  public var createdAt: Date

  public init(
    id: String = "msg_" + RandomToken.base62(count: 16), conversationID: String, role: String,
    content: String, reasoning: String? = nil, finishReason: String? = nil, toolCalls: String? = nil,
    toolCallID: String? = nil, createdAt: Date = Date()
  ) {
    self.id = id
    self.conversationID = conversationID
    self.role = role
    self.content = content
    self.reasoning = reasoning
    self.finishReason = finishReason
    self.toolCalls = toolCalls
    self.toolCallID = toolCallID
    self.createdAt = createdAt
  }
}

/// Conversations and their messages. Every read and write names the owner, so one user can
/// never reach another's conversation through a guessed id.
public protocol ConversationStore: Sendable {
  func insert(_ conversation: Conversation) throws
  func conversation(id: String, userID: String) throws -> Conversation?
  /// The user's conversations, most recently updated first; with `matching`, only those whose
  /// title or any message contains it (case-insensitive for ASCII).
  func conversations(userID: String, matching: String?) throws -> [Conversation]
  func update(_ conversation: Conversation) throws
  /// Deletes a conversation and its messages; returns false when the user has no such one.
  func deleteConversation(id: String, userID: String) throws -> Bool

  /// Messages in the order they were added.
  func messages(conversationID: String) throws -> [ConversationMessage]
  func append(_ message: ConversationMessage) throws
  func update(_ message: ConversationMessage) throws
  /// Deletes the given message and every message added after it.
  func deleteMessages(from messageID: String, conversationID: String) throws
}
