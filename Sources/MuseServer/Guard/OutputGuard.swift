import Foundation
import MuseStore

/// The output rails of one generation, over its stream: text is held back until the rails have
/// seen `window` characters after it (as stop sequences are held back), so a violation ends the
/// reply before any flagged text is sent, and a redaction replaces a span before any of it is.
/// Streamed and non-streamed replies go through the same filter, so they get the same verdicts.
///
/// Each check sees the last `window` released characters (context) and everything held. The
/// rails run when at least `window` new characters are held, and once more at the end, so a
/// classifier runs about once per `window` characters rather than once per token. Each rule
/// leaves one audit event per generation: its strongest verdict.
final class OutputGuard: @unchecked Sendable {
  /// What to send now, or the violation that ends the reply.
  enum Release: Equatable {
    case text(String)
    case violation(GuardViolation)
  }

  private let guardrails: ModelGuard
  private let rules: [BoundRule]
  private let context: GuardContext
  private let window: Int
  private var released = ""
  private var held = ""
  private var unchecked = 0
  private var decisions: [RuleDecision]
  private var latency: [Duration]
  private(set) var violation: GuardViolation?

  /// `withTools`: the request declared tools, so the policy's tool rules read the reply (its
  /// call arguments) too.
  init?(guardrails: ModelGuard, withTools: Bool, context: GuardContext) {
    var rules = guardrails.rules(for: .output)
    if withTools { rules += guardrails.rules(for: .tool) }
    guard !rules.isEmpty else { return nil }
    self.guardrails = guardrails
    self.rules = rules
    self.context = context
    window = guardrails.policy.window
    decisions = Array(repeating: RuleDecision(), count: rules.count)
    latency = Array(repeating: .zero, count: rules.count)
  }

  /// Takes the next piece of the reply; returns what may be sent now.
  func process(_ piece: String) async -> Release {
    if let violation { return .violation(violation) }
    held += piece
    unchecked += piece.count
    guard unchecked >= window, held.count > window else { return .text("") }
    return await check(final: false)
  }

  /// The reply ended: checks what is held and returns the rest.
  func finish() async -> Release {
    if let violation { return .violation(violation) }
    guard !held.isEmpty else { return .text("") }
    return await check(final: true)
  }

  /// One audit event per rule (its strongest verdict over the reply).
  func events() -> [GuardEvent] {
    zip(rules.indices, rules).map { i, rule in
      decisions[i].event(rule: rule, context: context, latency: latency[i])
    }
  }

  private func check(final: Bool) async -> Release {
    unchecked = 0
    let lookback = String(released.suffix(window))
    let lookbackCount = lookback.count
    var heldChars = Array(held)
    // From here on the held text must stay held: a span to redact that may still grow.
    var holdFrom: Int?
    for (i, rule) in rules.enumerated() {
      let text = lookback + String(heldChars)
      let started = ContinuousClock.now
      let findings: [GuardFinding]
      do {
        findings = rule.counted(
          try await rule.inspect(text, replyingTo: context.userTurn), in: text, allow: guardrails.allow)
        latency[i] += ContinuousClock.now - started
      } catch {
        latency[i] += ContinuousClock.now - started
        decisions[i].failed(field: "output")
        if guardrails.failClosed { return stop(decisions[i].violation(rule: rule, failClosed: true)) }
        continue
      }
      // Spans wholly in the context were judged while they were held.
      let spans = findings.map { f in
        f.range.map { r in
          (
            max(text.distance(from: text.startIndex, to: r.lowerBound) - lookbackCount, 0),
            text.distance(from: text.startIndex, to: r.upperBound) - lookbackCount
          )
        }
      }
      let fresh = zip(findings, spans).filter { _, span in span.map { $0.1 > 0 } ?? true }
      decisions[i].add(fresh.map(\.0), field: "output")
      guard !fresh.isEmpty else { continue }
      switch rule.action {
      case .block:
        return stop(decisions[i].violation(rule: rule, failClosed: guardrails.failClosed))
      case .flag:
        continue
      case .redact:
        var edits: [(lower: Int, upper: Int, with: String)] = []
        for (finding, span) in fresh {
          guard let (lower, upper) = span, let replacement = finding.replacement else { continue }
          if !final, heldChars.count - upper < window {
            holdFrom = min(holdFrom ?? lower, lower)
          } else {
            edits.append((lower, upper, replacement))
          }
        }
        var end = Int.max
        for edit in edits.sorted(by: { $0.lower > $1.lower }) where edit.upper <= end {
          guard holdFrom.map({ edit.upper <= $0 }) ?? true else { continue }
          heldChars.replaceSubrange(edit.lower..<edit.upper, with: Array(edit.with))
          if let h = holdFrom { holdFrom = h + edit.with.count - (edit.upper - edit.lower) }
          end = edit.lower
        }
      }
    }
    let releaseEnd = final ? heldChars.count : max(0, min(heldChars.count - window, holdFrom ?? Int.max))
    let out = String(heldChars[..<releaseEnd])
    held = String(heldChars[releaseEnd...])
    released += out
    if released.count > 4 * window { released = String(released.suffix(window)) }
    return .text(out)
  }

  private func stop(_ violation: GuardViolation?) -> Release {
    guard let violation else { return .text("") }
    self.violation = violation
    held = ""
    return .violation(violation)
  }
}
