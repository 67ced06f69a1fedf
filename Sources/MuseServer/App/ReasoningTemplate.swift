import Foundation
import MuseJinja
import MuseModels

/// What a chat template says about reasoning ("thinking"): whether it can be switched, and
/// the template variables that switch it — read from the template's own source, as the
/// model's authors wrote it.
struct ReasoningTemplate {
  let source: String

  init(_ source: String?) { self.source = source ?? "" }

  /// Qwen3-style templates read `enable_thinking`; gpt-oss (harmony) reads `reasoning_effort`;
  /// templates that replay earlier thinking read `reasoning_content`.
  var supportsReasoning: Bool {
    source.contains("enable_thinking") || source.contains("reasoning_effort")
      || source.contains("reasoning_content")
  }

  /// Whether replies wrap their reasoning in `<think>…</think>`, which the app splits off.
  var emitsThinkTags: Bool { source.contains("</think>") }

  /// The template variables for the conversation's thinking switch, passed like the API's
  /// `chat_template_kwargs`.
  func variables(thinking: Bool) -> [String: JinjaValue] {
    var extra: [String: JinjaValue] = [:]
    if source.contains("enable_thinking") { extra["enable_thinking"] = .bool(thinking) }
    // Harmony models always reason; the switch picks the most or the least of it.
    if source.contains("reasoning_effort") { extra["reasoning_effort"] = .string(thinking ? "high" : "low") }
    return extra
  }
}

/// Splits streamed model text into reasoning (inside `<think>…</think>`) and the reply.
/// Pieces arrive in arbitrary cuts, so text that could be the start of a tag is held back
/// until the next piece decides it.
struct ReasoningSplitter {
  enum Part: Equatable {
    case reasoning(String)
    case content(String)
  }

  private enum State {
    /// Nothing but whitespace yet: a `<think>` may still open the reply.
    case start
    case reasoning
    /// Just after `</think>`: the blank lines templates put before the reply are dropped.
    case afterReasoning
    case content
  }

  private static let open = "<think>"
  private static let close = "</think>"
  private var state: State
  private var pending = ""

  /// `startsInReasoning`: the prompt itself ended with `<think>` (templates that open the
  /// reasoning for the model), so the reply begins inside it.
  init(startsInReasoning: Bool = false) {
    state = startsInReasoning ? .reasoning : .start
  }

  mutating func feed(_ piece: String) -> [Part] {
    pending += piece
    var parts: [Part] = []
    while true {
      switch state {
      case .start:
        let trimmed = pending.drop(while: \.isWhitespace)
        if trimmed.hasPrefix(Self.open) {
          pending = String(trimmed.dropFirst(Self.open.count))
          state = .reasoning
        } else if Self.open.hasPrefix(trimmed) {
          return parts
        } else {
          state = .content
        }
      case .reasoning:
        if let range = pending.range(of: Self.close) {
          let before = String(pending[..<range.lowerBound])
          if !before.isEmpty { parts.append(.reasoning(before)) }
          pending = String(pending[range.upperBound...])
          state = .afterReasoning
        } else {
          let keep = Self.heldBack(pending, before: Self.close)
          let emit = String(pending.dropLast(keep))
          if !emit.isEmpty { parts.append(.reasoning(emit)) }
          pending = String(pending.suffix(keep))
          return parts
        }
      case .afterReasoning:
        pending = String(pending.drop(while: \.isNewline))
        if pending.isEmpty { return parts }
        state = .content
      case .content:
        if !pending.isEmpty { parts.append(.content(pending)) }
        pending = ""
        return parts
      }
    }
  }

  /// What is left when the stream ends.
  mutating func finish() -> [Part] {
    defer { pending = "" }
    guard !pending.isEmpty else { return [] }
    return state == .reasoning ? [.reasoning(pending)] : [.content(pending)]
  }

  /// The length of the longest end of `text` that begins `tag`.
  private static func heldBack(_ text: String, before tag: String) -> Int {
    for n in stride(from: min(tag.count - 1, text.count), to: 0, by: -1) where tag.hasPrefix(text.suffix(n)) {
      return n
    }
    return 0
  }
}
