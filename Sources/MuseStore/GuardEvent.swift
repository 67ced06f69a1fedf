import Foundation

/// One guardrail decision, as the audit log keeps it: which request (the ledger row's id),
/// key and model, which rail at which stage, the verdict, the category and score that decided
/// it, how long the rail took and whether text was redacted. Never the text itself, redacted
/// or not.
public struct GuardEvent: Codable, Sendable, Equatable {
  public var id: String
  public var requestID: String
  public var keyID: String
  public var model: String
  /// `pii`, `injection`, `patterns`, `moderation`, `llama_guard`, or `policy` for a rail that
  /// failed and was treated as its policy says.
  public var rail: String
  /// `input`, `output` or `tool`.
  public var stage: String
  /// `pass`, `flag`, `redact`, `block`, or `error` (the rail could not decide).
  public var verdict: String
  public var category: String?
  public var score: Double?
  public var latencyMicroseconds: Int
  public var redacted: Bool
  public var createdAt: Date

  public init(
    id: String = UUID().uuidString, requestID: String, keyID: String, model: String, rail: String,
    stage: String, verdict: String, category: String? = nil, score: Double? = nil, latencyMicroseconds: Int,
    redacted: Bool = false, createdAt: Date = Date()
  ) {
    self.id = id
    self.requestID = requestID
    self.keyID = keyID
    self.model = model
    self.rail = rail
    self.stage = stage
    self.verdict = verdict
    self.category = category
    self.score = score
    self.latencyMicroseconds = latencyMicroseconds
    self.redacted = redacted
    self.createdAt = createdAt
  }

  enum CodingKeys: String, CodingKey {
    case id, model, rail, stage, verdict, category, score, redacted
    case requestID = "request_id"
    case keyID = "key_id"
    case latencyMicroseconds = "latency_us"
    case createdAt = "created"
  }
}

/// Which audit rows to read, newest first.
public struct GuardEventQuery: Sendable {
  public var requestID: String?
  public var keyID: String?
  public var model: String?
  public var rail: String?
  /// Only decisions other than `pass`.
  public var onlyActions: Bool
  public var since: Date?
  public var limit: Int

  public init(
    requestID: String? = nil, keyID: String? = nil, model: String? = nil, rail: String? = nil,
    onlyActions: Bool = false, since: Date? = nil, limit: Int = 100
  ) {
    self.requestID = requestID
    self.keyID = keyID
    self.model = model
    self.rail = rail
    self.onlyActions = onlyActions
    self.since = since
    self.limit = limit
  }
}

/// The guardrails' audit log.
public protocol GuardEventStore {
  func record(_ events: [GuardEvent]) throws
  func guardEvents(_ query: GuardEventQuery) throws -> [GuardEvent]
}
