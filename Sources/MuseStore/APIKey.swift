import Crypto
import Foundation

/// What a key may do. Inference: the completion endpoints; weights: download open models'
/// files; admin: manage keys and read everyone's usage.
public enum KeyScope: String, Codable, Sendable, CaseIterable {
  case inference
  case weights
  case admin
}

/// Per-key limits; nil means unlimited.
/// Encoded in snake_case, as the API spells it; older stored rows in camelCase still decode.
/// Every field is optional when decoding (`budget_period` defaults to a month).
public struct KeyLimits: Codable, Sendable, Equatable {
  public var requestsPerMinute: Int?
  public var tokensPerMinute: Int?
  /// Tokens (prompt + completion) allowed per budget period.
  public var budgetTokens: Int?
  /// Money allowed per budget period, in micro-dollars at the models' prices.
  public var budgetMicrodollars: Int?
  public var budgetPeriod: BudgetPeriod

  public init(
    requestsPerMinute: Int? = nil, tokensPerMinute: Int? = nil, budgetTokens: Int? = nil,
    budgetMicrodollars: Int? = nil, budgetPeriod: BudgetPeriod = .month
  ) {
    self.requestsPerMinute = requestsPerMinute
    self.tokensPerMinute = tokensPerMinute
    self.budgetTokens = budgetTokens
    self.budgetMicrodollars = budgetMicrodollars
    self.budgetPeriod = budgetPeriod
  }

  enum CodingKeys: String, CodingKey {
    case requestsPerMinute = "requests_per_minute"
    case tokensPerMinute = "tokens_per_minute"
    case budgetTokens = "budget_tokens"
    case budgetMicrodollars = "budget_microdollars"
    case budgetPeriod = "budget_period"
  }

  /// The spelling rows written before the API settled on snake_case used.
  enum StoredKeys: String, CodingKey {
    case requestsPerMinute, tokensPerMinute, budgetTokens, budgetMicrodollars, budgetPeriod
  }

  public init(from decoder: Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    let old = try decoder.container(keyedBy: StoredKeys.self)
    requestsPerMinute =
      try c.decodeIfPresent(Int.self, forKey: .requestsPerMinute)
      ?? old.decodeIfPresent(Int.self, forKey: .requestsPerMinute)
    tokensPerMinute =
      try c.decodeIfPresent(Int.self, forKey: .tokensPerMinute)
      ?? old.decodeIfPresent(Int.self, forKey: .tokensPerMinute)
    budgetTokens =
      try c.decodeIfPresent(Int.self, forKey: .budgetTokens)
      ?? old.decodeIfPresent(Int.self, forKey: .budgetTokens)
    budgetMicrodollars =
      try c.decodeIfPresent(Int.self, forKey: .budgetMicrodollars)
      ?? old.decodeIfPresent(Int.self, forKey: .budgetMicrodollars)
    budgetPeriod =
      try c.decodeIfPresent(BudgetPeriod.self, forKey: .budgetPeriod)
      ?? old.decodeIfPresent(BudgetPeriod.self, forKey: .budgetPeriod) ?? .month
  }
}

/// A key field out of its range, named as the client or the CLI spelled it.
public enum KeyFieldError: Error, CustomStringConvertible, Equatable {
  case outOfRange(field: String, allowed: String)

  public var field: String {
    switch self {
    case .outOfRange(let field, _): field
    }
  }

  public var description: String {
    switch self {
    case .outOfRange(let field, let allowed): "'\(field)' \(allowed)"
    }
  }
}

extension KeyLimits {
  /// The largest value any limit may take (a trillion tokens, or a million dollars).
  public static let maximum = 1_000_000_000_000

  /// Limits as a command line gives them (budget in dollars, period by name), checked, each
  /// error naming the option of `names` (requests, tokens, budget tokens, budget dollars).
  public static func parse(
    requestsPerMinute: Int?, tokensPerMinute: Int?, budgetTokens: Int?, budgetUSD: Double?, period: String,
    names: (String, String, String, String)
  ) throws -> KeyLimits {
    guard let budgetPeriod = BudgetPeriod(rawValue: period) else {
      throw KeyFieldError.outOfRange(field: "--period", allowed: "takes day or month, not '\(period)'")
    }
    let limits = KeyLimits(
      requestsPerMinute: requestsPerMinute, tokensPerMinute: tokensPerMinute, budgetTokens: budgetTokens,
      budgetMicrodollars: try budgetUSD.map { try microdollars(usd: $0, field: names.3) },
      budgetPeriod: budgetPeriod)
    try limits.validate(fields: names)
    return limits
  }

  /// Micro-dollars for a budget given in US dollars, from 0 to a million dollars.
  public static func microdollars(usd: Double, field: String) throws -> Int {
    guard usd.isFinite, usd >= 0, usd * 1e6 <= Double(maximum) else {
      throw KeyFieldError.outOfRange(
        field: field, allowed: "must be between 0 and \(maximum / 1_000_000) dollars")
    }
    return Int((usd * 1e6).rounded())
  }

  /// Checks every limit is a whole number from 0 to `maximum`; `fields` names them as the
  /// caller spelled them (API field or CLI option).
  public func validate(fields: (requests: String, tokens: String, budgetTokens: String, budgetMoney: String))
    throws
  {
    let checks = [
      (requestsPerMinute, fields.requests), (tokensPerMinute, fields.tokens),
      (budgetTokens, fields.budgetTokens), (budgetMicrodollars, fields.budgetMoney),
    ]
    for case let (value?, field) in checks where !(0...Self.maximum).contains(value) {
      throw KeyFieldError.outOfRange(field: field, allowed: "must be between 0 and \(Self.maximum)")
    }
  }
}

public enum BudgetPeriod: String, Codable, Sendable {
  case day
  case month

  /// Start of the period containing `date`, in UTC.
  public func start(of date: Date) -> Date {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(identifier: "UTC")!
    let parts: Set<Calendar.Component> = self == .day ? [.year, .month, .day] : [.year, .month]
    return calendar.date(from: calendar.dateComponents(parts, from: date))!
  }
}

/// A stored API key. The secret itself is never stored: only its SHA-256 and a short prefix
/// that lets a person recognise it in lists and logs.
public struct APIKey: Codable, Sendable, Equatable, Identifiable {
  public var id: String
  public var name: String
  public var prefix: String
  public var hash: String
  public var scopes: [KeyScope]
  /// Model ids this key may use; empty means every model.
  public var models: [String]
  public var limits: KeyLimits
  public var createdAt: Date
  public var expiresAt: Date?
  public var revokedAt: Date?

  public func isActive(at date: Date = Date()) -> Bool {
    revokedAt == nil && (expiresAt.map { $0 > date } ?? true)
  }

  public func allows(model: String) -> Bool { models.isEmpty || models.contains(model) }

  /// The latest expiry a key may have, 9999-12-31T23:59:59Z: the store's date format has four
  /// year digits, so a later date could be written but never read back.
  public static let latestExpiry = Date(timeIntervalSince1970: 253_402_300_799)

  /// The expiry `days` days after `now`, or an error naming the allowed range (1 day up to the
  /// end of year 9999).
  public static let maxExpiryDays = 2_900_000

  public static func expiry(days: Int, field: String, now: Date = Date()) throws -> Date {
    let most = min(maxExpiryDays, Int(latestExpiry.timeIntervalSince(now) / 86_400))
    guard days >= 1, days <= most else {
      throw KeyFieldError.outOfRange(
        field: field, allowed: "must be a whole number of days from 1 to \(most) (year 9999)")
    }
    return now.addingTimeInterval(Double(days) * 86_400)
  }

  /// A new random secret (`muse-` + 32 base62 characters ≈ 190 bits) and its record.
  public static func generate(
    name: String, scopes: [KeyScope], models: [String] = [], limits: KeyLimits = KeyLimits(),
    expiresAt: Date? = nil, now: Date = Date()
  ) -> (secret: String, key: APIKey) {
    let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
    var generator = SystemRandomNumberGenerator()
    let body = String((0..<32).map { _ in alphabet[Int(generator.next(upperBound: UInt64(alphabet.count)))] })
    let secret = "muse-" + body
    let id =
      "key_" + String((0..<12).map { _ in alphabet[Int(generator.next(upperBound: UInt64(alphabet.count)))] })
    // Whole seconds: what the store keeps, so a key reads back equal to the one written.
    func second(_ d: Date) -> Date { Date(timeIntervalSince1970: d.timeIntervalSince1970.rounded(.down)) }
    let key = APIKey(
      id: id, name: name, prefix: String(secret.prefix(9)), hash: hashSecret(secret), scopes: scopes,
      models: models, limits: limits, createdAt: second(now), expiresAt: expiresAt.map(second), revokedAt: nil
    )
    return (secret, key)
  }

  public static func hashSecret(_ secret: String) -> String {
    SHA256.hash(data: Data(secret.utf8)).map { String(format: "%02x", $0) }.joined()
  }
}
