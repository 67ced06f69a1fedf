import Foundation
import MuseJinja
import MuseStore

// The app API's JSON shapes, in the field names of the contract the browser code follows.
// swiftlint:disable identifier_name

struct AppUserView: Encodable {
  let id: String
  let username: String
  let is_admin: Bool

  init(_ user: User) {
    id = user.id
    username = user.username
    is_admin = user.isAdmin
  }
}

struct AppConversationView: Encodable {
  let id: String
  let title: String
  let model: String
  let system_prompt: String?
  let temperature: Double?
  let thinking: Bool
  let tools: StoredJSON?
  let created_at: Int
  let updated_at: Int

  init(_ c: Conversation) {
    id = c.id
    title = c.title
    model = c.model
    system_prompt = c.systemPrompt
    temperature = c.temperature
    thinking = c.thinking
    tools = c.tools.map(StoredJSON.init)
    created_at = Int(c.createdAt.timeIntervalSince1970)
    updated_at = Int(c.updatedAt.timeIntervalSince1970)
  }

  func encode(to encoder: Encoder) throws {
    // Nulls written out: the browser reads `system_prompt: null`, not a missing field.
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(id, forKey: .id)
    try c.encode(title, forKey: .title)
    try c.encode(model, forKey: .model)
    try c.encode(system_prompt, forKey: .system_prompt)
    try c.encode(temperature, forKey: .temperature)
    try c.encode(thinking, forKey: .thinking)
    try c.encode(tools, forKey: .tools)
    try c.encode(created_at, forKey: .created_at)
    try c.encode(updated_at, forKey: .updated_at)
  }

  enum CodingKeys: String, CodingKey {
    case id, title, model, system_prompt, temperature, thinking, tools, created_at, updated_at
  }
}

struct AppConversationSummary: Encodable {
  let id: String
  let title: String
  let model: String
  let updated_at: Int
  let created_at: Int

  init(_ c: Conversation) {
    id = c.id
    title = c.title
    model = c.model
    updated_at = Int(c.updatedAt.timeIntervalSince1970)
    created_at = Int(c.createdAt.timeIntervalSince1970)
  }
}

struct AppMessageView: Encodable {
  let id: String
  let role: String
  let content: String
  let reasoning: String?
  let finish_reason: String?
  let tool_calls: StoredJSON?
  let tool_call_id: String?
  let created_at: Int

  init(_ m: ConversationMessage) {
    id = m.id
    role = m.role
    content = m.content
    reasoning = m.reasoning
    finish_reason = m.finishReason
    tool_calls = m.toolCalls.map(StoredJSON.init)
    tool_call_id = m.toolCallID
    created_at = Int(m.createdAt.timeIntervalSince1970)
  }

  func encode(to encoder: Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(id, forKey: .id)
    try c.encode(role, forKey: .role)
    try c.encode(content, forKey: .content)
    try c.encode(reasoning, forKey: .reasoning)
    try c.encode(finish_reason, forKey: .finish_reason)
    try c.encodeIfPresent(tool_calls, forKey: .tool_calls)
    try c.encodeIfPresent(tool_call_id, forKey: .tool_call_id)
    try c.encode(created_at, forKey: .created_at)
  }

  enum CodingKeys: String, CodingKey {
    case id, role, content, reasoning, finish_reason, tool_calls, tool_call_id, created_at
  }
}

/// JSON kept as text in the store (a conversation's tools, a message's calls), written back as
/// JSON in its stored key order; text that no longer parses is written as null.
struct StoredJSON: Encodable {
  let value: JinjaValue

  init(_ text: String) { value = (try? JinjaValue(json: text)) ?? .none }
  init(value: JinjaValue) { self.value = value }

  private struct Key: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
  }

  func encode(to encoder: Encoder) throws {
    switch value {
    case .bool(let b):
      var c = encoder.singleValueContainer()
      try c.encode(b)
    case .int(let i):
      var c = encoder.singleValueContainer()
      try c.encode(i)
    case .float(let d):
      var c = encoder.singleValueContainer()
      try c.encode(d.isFinite ? d : 0)
    case .string(let s), .markup(let s):
      var c = encoder.singleValueContainer()
      try c.encode(s)
    case .array(let items), .tuple(let items):
      var c = encoder.unkeyedContainer()
      for item in items { try c.encode(StoredJSON(value: item)) }
    case .dict(let fields):
      var c = encoder.container(keyedBy: Key.self)
      for (key, item) in fields {
        try c.encode(StoredJSON(value: item), forKey: Key(stringValue: key.stringValue))
      }
    default:
      var c = encoder.singleValueContainer()
      try c.encodeNil()
    }
  }
}

/// A key's limits as the app shows them; nil (written as null) means unlimited.
struct AppLimitsView: Encodable {
  let requests_per_minute: Int?
  let tokens_per_minute: Int?
  let budget_tokens: Int?
  let budget_usd: Double?
  let budget_period: String
  let remaining_tokens: Int?
  let remaining_usd: Double?

  init(_ limits: KeyLimits, used: UsageTotal?) {
    requests_per_minute = limits.requestsPerMinute
    tokens_per_minute = limits.tokensPerMinute
    budget_tokens = limits.budgetTokens
    budget_usd = limits.budgetMicrodollars.map { Double($0) / 1e6 }
    budget_period = limits.budgetPeriod.rawValue
    let usedTokens = (used?.promptTokens ?? 0) + (used?.completionTokens ?? 0)
    remaining_tokens = limits.budgetTokens.map { max($0 - usedTokens, 0) }
    remaining_usd = limits.budgetMicrodollars.map { Double(max($0 - (used?.costMicrodollars ?? 0), 0)) / 1e6 }
  }

  func encode(to encoder: Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(requests_per_minute, forKey: .requests_per_minute)
    try c.encode(tokens_per_minute, forKey: .tokens_per_minute)
    try c.encode(budget_tokens, forKey: .budget_tokens)
    try c.encode(budget_usd, forKey: .budget_usd)
    try c.encode(budget_period, forKey: .budget_period)
    try c.encode(remaining_tokens, forKey: .remaining_tokens)
    try c.encode(remaining_usd, forKey: .remaining_usd)
  }

  enum CodingKeys: String, CodingKey {
    case requests_per_minute, tokens_per_minute, budget_tokens, budget_usd, budget_period, remaining_tokens
    case remaining_usd
  }
}

struct AppUsageTotalsView: Encodable {
  let requests: Int
  let prompt_tokens: Int
  let completion_tokens: Int
  let cost_usd: Double

  init(_ total: UsageTotal?) {
    requests = total?.requests ?? 0
    prompt_tokens = total?.promptTokens ?? 0
    completion_tokens = total?.completionTokens ?? 0
    cost_usd = Double(total?.costMicrodollars ?? 0) / 1e6
  }
}
// swiftlint:enable identifier_name
