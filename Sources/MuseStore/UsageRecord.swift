import Foundation

/// One request as the ledger keeps it. A generation's row is written when it starts (status
/// `inProgressStatus`), updated with the tokens delivered as it streams, and completed at its
/// end, so a crash loses at most what was delivered since the last checkpoint.
public struct UsageRecord: Codable, Sendable, Equatable {
  /// Status of a row whose generation is still running.
  public static let inProgressStatus = 0
  /// Status given at start-up to rows a stopped server left in progress.
  public static let interruptedStatus = 499

  public var id: String
  public var keyID: String
  public var model: String
  public var endpoint: String
  public var promptTokens: Int
  public var completionTokens: Int
  /// Cost at the model's prices, in micro-dollars (integers keep sums exact).
  public var costMicrodollars: Int
  public var latencyMilliseconds: Int
  public var timeToFirstTokenMilliseconds: Int?
  public var status: Int
  public var finishReason: String?
  public var createdAt: Date

  public init(
    id: String = UUID().uuidString, keyID: String, model: String, endpoint: String, promptTokens: Int,
    completionTokens: Int, costMicrodollars: Int, latencyMilliseconds: Int,
    timeToFirstTokenMilliseconds: Int?,
    status: Int, finishReason: String?, createdAt: Date = Date()
  ) {
    self.id = id
    self.keyID = keyID
    self.model = model
    self.endpoint = endpoint
    self.promptTokens = promptTokens
    self.completionTokens = completionTokens
    self.costMicrodollars = costMicrodollars
    self.latencyMilliseconds = latencyMilliseconds
    self.timeToFirstTokenMilliseconds = timeToFirstTokenMilliseconds
    self.status = status
    self.finishReason = finishReason
    self.createdAt = createdAt
  }

  enum CodingKeys: String, CodingKey {
    case id, model, endpoint, status
    case keyID = "key_id"
    case promptTokens = "prompt_tokens"
    case completionTokens = "completion_tokens"
    case costMicrodollars = "cost_microdollars"
    case latencyMilliseconds = "latency_ms"
    case timeToFirstTokenMilliseconds = "ttft_ms"
    case finishReason = "finish_reason"
    case createdAt = "created_at"
  }
}

/// Usage summed over a group (a key, a model, a day).
public struct UsageTotal: Codable, Sendable, Equatable {
  public var keyID: String?
  public var model: String?
  public var day: String?
  public var requests: Int
  public var promptTokens: Int
  public var completionTokens: Int
  public var costMicrodollars: Int

  enum CodingKeys: String, CodingKey {
    case model, day, requests
    case keyID = "key_id"
    case promptTokens = "prompt_tokens"
    case completionTokens = "completion_tokens"
    case costMicrodollars = "cost_microdollars"
  }
}

/// How usage totals are grouped.
public struct UsageGrouping: OptionSet, Sendable {
  public let rawValue: Int
  public init(rawValue: Int) { self.rawValue = rawValue }
  public static let key = UsageGrouping(rawValue: 1)
  public static let model = UsageGrouping(rawValue: 2)
  public static let day = UsageGrouping(rawValue: 4)
}
