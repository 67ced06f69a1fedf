import Foundation

/// Where in a request a rail looks: the caller's messages (`input`), what the model writes
/// (`output`), and the text that crosses the tool boundary — tool results coming back in and
/// call arguments going out (`tool`).
public enum GuardStage: String, Codable, Sendable, CaseIterable {
  case input, output, tool
}

/// One thing a rail found in a text: a category (`email`, `prompt_injection`, `violence`, `S1`,
/// …), a score in 0…1 (1 for a rule that matched), and, when the rail can point at it, the span
/// and what a redaction puts there.
public struct GuardFinding: Sendable, Equatable {
  public var category: String
  public var score: Double
  /// The matched span in the inspected text, for rails that can redact.
  public var range: Range<String.Index>?
  /// What a redaction writes in place of `range` (`[EMAIL]`, `[PAYMENT_CARD]`, …).
  public var replacement: String?
  /// The rail's own verdict at its own thresholds, where it has one that the score alone does not
  /// give (the moderation classifier's gate can flag a category below that category's threshold).
  public var flagged: Bool?

  public init(
    category: String, score: Double, range: Range<String.Index>? = nil, replacement: String? = nil,
    flagged: Bool? = nil
  ) {
    self.category = category
    self.score = score
    self.range = range
    self.replacement = replacement
    self.flagged = flagged
  }
}

/// A guardrail: one small type that inspects a text and says what it found. It decides
/// nothing: the model's `GuardPolicy` holds the thresholds and actions (block, redact,
/// flag-only), and `Guardrails` applies them, audits the decision and counts it.
public protocol GuardRail: Sendable {
  /// The rail's name in policies, errors, the audit log and metrics (`pii`, `injection`,
  /// `patterns`, `moderation`, `llama_guard`).
  var name: String { get }
  /// Whether findings carry spans a redaction can replace.
  var canRedact: Bool { get }
  /// What the rail finds in `text`. Throws when it cannot decide (a guard model that failed,
  /// an answer it cannot parse): the policy then fails closed or open.
  func inspect(_ text: String) async throws -> [GuardFinding]
  /// What the rail finds in `text`, a reply to `userTurn` (the caller's last message, when the
  /// output and tool stages know it). Rails that judge a text alone need not implement it.
  func inspect(_ text: String, replyingTo userTurn: String?) async throws -> [GuardFinding]
}

extension GuardRail {
  public var canRedact: Bool { false }
  public func inspect(_ text: String, replyingTo userTurn: String?) async throws -> [GuardFinding] {
    try await inspect(text)
  }
}
