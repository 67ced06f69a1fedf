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
