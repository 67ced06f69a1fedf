import Foundation
import MuseStore

/// Per-key request and token rates, and budgets that concurrent requests cannot overspend:
/// each request reserves its worst case (prompt + max_tokens) at admission and settles the
/// real amount when it completes.
public actor Admission {
  public struct Reservation: Sendable {
    let id: UUID
    let keyID: String
    let tokens: Int
    let microdollars: Int
  }

  private let store: Store
  private let now: @Sendable () -> Date
  private var requests: [String: [Date]] = [:]
  private var tokens: [String: [(Date, Int)]] = [:]
  private var reserved: [UUID: Reservation] = [:]

  public init(store: Store, now: @escaping @Sendable () -> Date = Date.init) {
    self.store = store
    self.now = now
  }

  /// Admits a request or throws the 429 a client should see.
  public func admit(key: APIKey, tokens estimate: Int, microdollars cost: Int) throws -> Reservation {
    let t = now()
    let minuteAgo = t.addingTimeInterval(-60)
    var recent = (requests[key.id] ?? []).filter { $0 > minuteAgo }
    var recentTokens = (tokens[key.id] ?? []).filter { $0.0 > minuteAgo }
    defer {
      requests[key.id] = recent
      tokens[key.id] = recentTokens
    }
    let limits = key.limits
    if let rpm = limits.requestsPerMinute, recent.count >= rpm {
      let wait = Int(ceil(recent[0].timeIntervalSince(minuteAgo)))
      throw OpenAIError(
        .tooManyRequests, "Rate limit reached: \(rpm) requests per minute. Try again in \(wait)s.",
        type: "requests", code: "rate_limit_exceeded", retryAfter: max(wait, 1))
    }
    let pending = reserved.values.filter { $0.keyID == key.id }
    let pendingTokens = pending.reduce(0) { $0 + $1.tokens }
    if let tpm = limits.tokensPerMinute,
      recentTokens.reduce(0, { $0 + $1.1 }) + pendingTokens + estimate > tpm
    {
      let wait = recentTokens.first.map { Int(ceil($0.0.timeIntervalSince(minuteAgo))) } ?? 60
      throw OpenAIError(
        .tooManyRequests,
        "Rate limit reached: \(tpm) tokens per minute (this request may use up to \(estimate)). Try again in \(wait)s.",
        type: "tokens", code: "rate_limit_exceeded", retryAfter: max(wait, 1))
    }
    if limits.budgetTokens != nil || limits.budgetMicrodollars != nil {
      let start = limits.budgetPeriod.start(of: t)
      let used = try store.totals(keyID: key.id, since: start, groupedBy: []).first
      let usedTokens = (used?.promptTokens ?? 0) + (used?.completionTokens ?? 0)
      let usedMoney = used?.costMicrodollars ?? 0
      let pendingMoney = pending.reduce(0) { $0 + $1.microdollars }
      let resets = Int(ceil(nextPeriod(after: start, period: limits.budgetPeriod).timeIntervalSince(t)))
      if let budget = limits.budgetTokens, usedTokens + pendingTokens + estimate > budget {
        throw OpenAIError(
          .tooManyRequests,
          "You exceeded your token budget (\(budget) per \(limits.budgetPeriod.rawValue); \(usedTokens) used).",
          type: "insufficient_quota", code: "insufficient_quota", retryAfter: resets)
      }
      if let budget = limits.budgetMicrodollars, usedMoney + pendingMoney + cost > budget {
        throw OpenAIError(
          .tooManyRequests,
          String(
            format: "You exceeded your budget ($%.4f per %@; $%.4f used).", Double(budget) / 1e6,
            limits.budgetPeriod.rawValue, Double(usedMoney) / 1e6),
          type: "insufficient_quota", code: "insufficient_quota", retryAfter: resets)
      }
    }
    recent.append(t)
    let r = Reservation(id: UUID(), keyID: key.id, tokens: estimate, microdollars: cost)
    reserved[r.id] = r
    return r
  }

  /// Replaces a reservation with what the request really used (already in the ledger).
  public func settle(_ r: Reservation, tokensUsed: Int) {
    reserved[r.id] = nil
    tokens[r.keyID, default: []].append((now(), tokensUsed))
  }

  private func nextPeriod(after start: Date, period: BudgetPeriod) -> Date {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(identifier: "UTC")!
    return calendar.date(byAdding: period == .day ? .day : .month, value: 1, to: start)!
  }
}
