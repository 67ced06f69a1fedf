import Foundation
import MuseJinja
import MuseStore

/// A request, or a reply, that a rail stopped: which rail, at which stage, for which category
/// and score. Becomes a 400 `content_policy_violation` before generation and
/// `finish_reason: "content_filter"` during it.
public struct GuardViolation: Error, Sendable, Equatable, Encodable {
  public let rail: String
  public let stage: GuardStage
  public let category: String
  public let score: Double?
  /// The request field that held the text (`messages[2].content`), for input.
  public var field: String?

  enum CodingKeys: String, CodingKey { case rail, stage, category, score }

  var error: OpenAIError {
    let unavailable = category == Self.railFailed
    let message =
      unavailable
      ? "The operator's \(rail) guardrail could not check this request, and the policy refuses what it cannot check."
      : "This request was blocked by the operator's content policy: the \(rail) rail found \(category) in the \(stage.rawValue)."
    return OpenAIError(
      unavailable ? .serviceUnavailable : .badRequest, message, param: field,
      code: unavailable ? "guardrail_unavailable" : "content_policy_violation")
  }

  /// The category of a rail that errored or timed out under a fail-closed policy.
  static let railFailed = "rail_error"
}

/// Who a screening is for, so each decision is audited against the request.
public struct GuardContext: Sendable {
  public let requestID: String
  public let keyID: String
  public let model: String
  /// The caller's last message as screened: what an output rail judges the reply against
  /// (Llama Guard reads the agent's reply in its conversation). Never audited.
  public var userTurn: String?

  public init(requestID: String, keyID: String, model: String, userTurn: String? = nil) {
    self.requestID = requestID
    self.keyID = keyID
    self.model = model
    self.userTurn = userTurn
  }

  /// The text of the last user message of OpenAI-shaped `messages` (string content, or its
  /// text parts joined as the template sees them: `RequestPrompt.flattenTextParts`).
  public static func lastUserTurn(in messages: [JinjaValue]) -> String? {
    for message in messages.reversed() {
      guard case .dict(let fields) = message, fields["role"] == .string("user") else { continue }
      guard case .dict(let flat) = RequestPrompt.flattenTextParts(message),
        case .string(let text)? = flat["content"]
      else { return nil }
      return text
    }
    return nil
  }
}

/// One rail of a policy, bound to its rail and thresholds.
struct BoundRule: Sendable {
  let rail: any GuardRail
  let stage: GuardStage
  let action: GuardPolicy.Action
  let categories: Set<String>?
  let threshold: @Sendable (String) -> Double
  let timeout: Duration
  /// Whether a finding the rail itself flags counts whatever its score (a rule without its own
  /// `threshold` keeps the rail's decision; only the moderation rail states one, its gate's flags).
  var railDecides = false

  /// The findings that count: in a chosen category, at or above the threshold (or flagged by a
  /// rail that decides), not allowed.
  func counted(_ findings: [GuardFinding], in text: String, allow: Set<String>) -> [GuardFinding] {
    findings.filter { f in
      if let categories, !categories.contains(f.category) { return false }
      guard f.score >= threshold(f.category) || (railDecides && f.flagged == true) else { return false }
      if let range = f.range, allow.contains(text[range].lowercased()) { return false }
      return true
    }
  }

  /// The rail's findings, or an error when it failed or took longer than the timeout. A rail
  /// past its timeout is told to stop (a classifier already running on its queue finishes
  /// there): the request does not wait for it.
  func inspect(_ text: String, replyingTo userTurn: String? = nil) async throws -> [GuardFinding] {
    let rail = self.rail
    let timeout = self.timeout
    let answer = FirstAnswer<[GuardFinding]>()
    return try await withCheckedThrowingContinuation { continuation in
      answer.start(continuation)
      let work = Task {
        do {
          answer.resume(with: .success(try await rail.inspect(text, replyingTo: userTurn)))
        } catch {
          answer.resume(with: .failure(error))
        }
      }
      answer.setTimer(
        Task {
          guard (try? await Task.sleep(for: timeout)) != nil else { return }
          work.cancel()
          answer.resume(with: .failure(GuardRailTimeout(rail: rail.name)))
        })
    }
  }
}

/// Resumes a continuation with whichever answer comes first (the rail's or its timeout's);
/// later ones are dropped, and the first cancels the timer.
final class FirstAnswer<T: Sendable>: @unchecked Sendable {
  private let lock = NSLock()
  private var continuation: CheckedContinuation<T, Error>?
  private var timer: Task<Void, Never>?
  private var done = false

  func start(_ continuation: CheckedContinuation<T, Error>) {
    lock.withLock { self.continuation = continuation }
  }

  func setTimer(_ task: Task<Void, Never>) {
    let finished: Bool = lock.withLock {
      timer = task
      return done
    }
    if finished { task.cancel() }
  }

  func resume(with result: Result<T, Error>) {
    let (waiting, timer): (CheckedContinuation<T, Error>?, Task<Void, Never>?) = lock.withLock {
      defer {
        continuation = nil
        done = true
      }
      return (continuation, self.timer)
    }
    waiting?.resume(with: result)
    timer?.cancel()
  }
}

struct GuardRailTimeout: Error, CustomStringConvertible {
  let rail: String
  var description: String { "the \(rail) rail timed out" }
}

/// One model's policy, ready to run: its rules bound to rails, and how failures count.
public final class ModelGuard: Sendable {
  public let model: String
  public let policy: GuardPolicy
  let rules: [GuardStage: [BoundRule]]
  let allow: Set<String>
  let failClosed: Bool

  init(model: String, policy: GuardPolicy, rules: [GuardStage: [BoundRule]], failClosed: Bool) {
    self.model = model
    self.policy = policy
    self.rules = rules
    allow = Set(policy.allow.map { $0.lowercased() })
    self.failClosed = failClosed
  }

  func rules(for stage: GuardStage) -> [BoundRule] { rules[stage] ?? [] }

  /// The texts of one stage (the messages a request sends), each checked by every rule of the
  /// stage, with one audit event per rule: the strongest verdict over the texts. Returns the
  /// texts as redacted; throws `GuardViolation` for a block, or for a failed rail when the
  /// policy fails closed.
  public func screen(
    _ texts: [(field: String, text: String)], stage: GuardStage, context: GuardContext
  ) async -> (texts: [String], events: [GuardEvent], violation: GuardViolation?) {
    var current = texts.map(\.text)
    var events: [GuardEvent] = []
    for rule in rules(for: stage) {
      var decision = RuleDecision()
      let started = ContinuousClock.now
      for (i, item) in texts.enumerated() {
        do {
          let findings = rule.counted(try await rule.inspect(current[i]), in: current[i], allow: allow)
          decision.add(findings, field: item.field)
          if rule.action == .redact, !findings.isEmpty { current[i] = redacting(current[i], findings) }
        } catch {
          decision.failed(field: item.field)
        }
        if decision.stops(rule.action, failClosed: failClosed) { break }
      }
      let event = decision.event(rule: rule, context: context, latency: ContinuousClock.now - started)
      events.append(event)
      if let violation = decision.violation(rule: rule, failClosed: failClosed) {
        return (current, events, violation)
      }
    }
    return (current, events, nil)
  }
}

/// What one rule decided over the texts it saw.
struct RuleDecision {
  var top: GuardFinding?
  var matched = false
  var failedField: String?
  var field: String?

  mutating func add(_ findings: [GuardFinding], field: String) {
    guard let best = findings.max(by: { $0.score < $1.score }) else { return }
    if !matched || best.score > (top?.score ?? -1) {
      top = best
      self.field = field
    }
    matched = true
  }

  mutating func failed(field: String) {
    if failedField == nil { failedField = field }
  }

  func stops(_ action: GuardPolicy.Action, failClosed: Bool) -> Bool {
    (matched && action == .block) || (failedField != nil && failClosed)
  }

  func violation(rule: BoundRule, failClosed: Bool) -> GuardViolation? {
    if let failedField, failClosed {
      return GuardViolation(
        rail: rule.rail.name, stage: rule.stage, category: GuardViolation.railFailed, score: nil,
        field: failedField)
    }
    guard matched, rule.action == .block, let top else { return nil }
    return GuardViolation(
      rail: rule.rail.name, stage: rule.stage, category: top.category, score: top.score, field: field)
  }

  func event(rule: BoundRule, context: GuardContext, latency: Duration) -> GuardEvent {
    let verdict: String
    if failedField != nil {
      verdict = "error"
    } else if matched {
      verdict = rule.action.verdict
    } else {
      verdict = "pass"
    }
    return GuardEvent(
      requestID: context.requestID, keyID: context.keyID, model: context.model, rail: rule.rail.name,
      stage: rule.stage.rawValue, verdict: verdict, category: matched ? top?.category : nil,
      score: matched ? top?.score : nil, latencyMicroseconds: latency.microseconds,
      redacted: matched && rule.action == .redact)
  }
}

extension GuardPolicy.Action {
  /// The audit log's word for the action taken.
  var verdict: String {
    switch self {
    case .block: "block"
    case .redact: "redact"
    case .flag: "flag"
    }
  }
}

extension Duration {
  var microseconds: Int {
    let us = seconds * 1e6
    return us < 9e15 ? Int(max(0, us)) : Int.max / 2
  }
}
