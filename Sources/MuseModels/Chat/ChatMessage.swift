/// One turn of a conversation, in OpenAI's roles (system, user, assistant, tool).
public struct ChatMessage: Sendable, Equatable, Codable {
  public var role: String
  public var content: String

  public init(role: String, content: String) {
    self.role = role
    self.content = content
  }
}
