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
