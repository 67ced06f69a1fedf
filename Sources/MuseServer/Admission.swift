import Foundation
import MuseStore

/// Why a request was not admitted. The HTTP edge (`OpenAIError(mapping:)`) turns these into
/// OpenAI's 429s; this policy knows nothing of HTTP.
public enum AdmissionError: Error, Equatable {
  case requestRate(limit: Int, retryAfter: Int)
  case tokenRate(limit: Int, estimate: Int, retryAfter: Int)
  case tokenBudget(budget: Int, used: Int, period: BudgetPeriod, retryAfter: Int)
  case moneyBudget(budgetMicrodollars: Int, usedMicrodollars: Int, period: BudgetPeriod, retryAfter: Int)
}

/// Per-key request and token rates, and budgets that concurrent requests cannot overspend:
/// each request reserves its worst case (prompt + max_tokens) at admission; as its ledger row
/// is checkpointed the reservation shrinks by what the ledger already counts, and it settles on
/// what was delivered when the request ends.
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
  /// Tokens and micro-dollars of each open reservation already written to the ledger.
  private var recorded: [UUID: (tokens: Int, microdollars: Int)] = [:]

  public init(store: Store, now: @escaping @Sendable () -> Date = Date.init) {
    self.store = store
    self.now = now
  }

  /// Admits a request or throws why not.
  public func admit(key: APIKey, tokens estimate: Int, microdollars cost: Int) throws -> Reservation {
    let t = now()
    let minuteAgo = t.addingTimeInterval(-60)
    var recent = (requests[key.id] ?? []).filter { $0 > minuteAgo }
    let recentTokens = (tokens[key.id] ?? []).filter { $0.0 > minuteAgo }
    defer {
      requests[key.id] = recent
      tokens[key.id] = recentTokens
    }
    let limits = key.limits
    if let rpm = limits.requestsPerMinute, recent.count >= rpm {
      let wait = recent.first.map { Int(ceil($0.timeIntervalSince(minuteAgo))) } ?? 60
      throw AdmissionError.requestRate(limit: rpm, retryAfter: max(wait, 1))
    }
    let pending = reserved.values.filter { $0.keyID == key.id }
    let pendingTokens = pending.reduce(0) { $0 + max($1.tokens - (recorded[$1.id]?.tokens ?? 0), 0) }
    if let tpm = limits.tokensPerMinute,
      recentTokens.reduce(0, { $0 + $1.1 }) + pendingTokens + estimate > tpm
    {
      let wait = recentTokens.first.map { Int(ceil($0.0.timeIntervalSince(minuteAgo))) } ?? 60
      throw AdmissionError.tokenRate(limit: tpm, estimate: estimate, retryAfter: max(wait, 1))
    }
    if limits.budgetTokens != nil || limits.budgetMicrodollars != nil {
      let start = limits.budgetPeriod.start(of: t)
      let used = try store.totals(keyID: key.id, since: start, groupedBy: []).first
      let usedTokens = (used?.promptTokens ?? 0) + (used?.completionTokens ?? 0)
      let usedMoney = used?.costMicrodollars ?? 0
      let pendingMoney = pending.reduce(0) {
        $0 + max($1.microdollars - (recorded[$1.id]?.microdollars ?? 0), 0)
      }
      let resets = Int(ceil(nextPeriod(after: start, period: limits.budgetPeriod).timeIntervalSince(t)))
      if let budget = limits.budgetTokens, usedTokens + pendingTokens + estimate > budget {
        throw AdmissionError.tokenBudget(
          budget: budget, used: usedTokens, period: limits.budgetPeriod, retryAfter: max(resets, 1))
      }
      if let budget = limits.budgetMicrodollars, usedMoney + pendingMoney + cost > budget {
        throw AdmissionError.moneyBudget(
          budgetMicrodollars: budget, usedMicrodollars: usedMoney, period: limits.budgetPeriod,
          retryAfter: max(resets, 1))
      }
    }
    recent.append(t)
    let r = Reservation(id: UUID(), keyID: key.id, tokens: estimate, microdollars: cost)
    reserved[r.id] = r
    return r
  }

  /// Notes that the ledger now holds `tokens` and `microdollars` of this request (its row was
  /// checkpointed), so they are not counted twice, once used and once reserved.
  public func recordedInLedger(_ r: Reservation, tokens: Int, microdollars: Int) {
    guard reserved[r.id] != nil else { return }
    recorded[r.id] = (tokens, microdollars)
  }

  /// Replaces a reservation with what the request really used (already in the ledger).
  public func settle(_ r: Reservation, tokensUsed: Int) {
    reserved[r.id] = nil
    recorded[r.id] = nil
    tokens[r.keyID, default: []].append((now(), tokensUsed))
  }

  private func nextPeriod(after start: Date, period: BudgetPeriod) -> Date {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(identifier: "UTC") ?? .current
    return calendar.date(byAdding: period == .day ? .day : .month, value: 1, to: start) ?? start
  }
}
