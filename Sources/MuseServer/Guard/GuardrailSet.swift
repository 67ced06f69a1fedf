import Foundation
import Logging
import MuseJinja
import MuseStore

/// Every served model's guardrails, built once at start-up from the catalogue; what the routes
/// call to screen a request's input and what `MeteredGeneration` asks for its output filter.
/// Each decision lands in the audit log (`GuardEventStore`) and in `/metrics`.
public final class Guardrails: Sendable {
  let guards: [String: ModelGuard]
  /// The built-in classifier, when a MiniLM encoder is loaded (`/v1/moderations`).
  public let moderation: ModerationClassifier?

  public init(guards: [ModelGuard] = [], moderation: ModerationClassifier? = nil) {
    self.guards = Dictionary(guards.map { ($0.model, $0) }, uniquingKeysWith: { a, _ in a })
    self.moderation = moderation
  }

  /// Binds each model's policy to its rails. Throws `GuardPolicyError` naming the model and the
  /// rule for a policy that cannot run (a Llama Guard model that is not served, a moderation
  /// rail with no classifier, a bad regex).
  public static func build(runners: [ModelRunner], moderation: ModerationClassifier?) throws -> Guardrails {
    let byID = Dictionary(runners.map { ($0.entry.id, $0) }, uniquingKeysWith: { a, _ in a })
    let guards = try runners.compactMap { runner -> ModelGuard? in
      guard let policy = runner.entry.guardPolicy, !policy.isEmpty else { return nil }
      return try bind(
        policy, model: runner.entry.id, visibility: runner.entry.visibility, models: byID,
        moderation: moderation)
    }
    return Guardrails(guards: guards, moderation: moderation)
  }

  /// One model's policy bound to its rails (`muse serve` and `muse guard check`). `models`: the
  /// served models a `llama_guard` rule may name.
  public static func bind(
    _ policy: GuardPolicy, model id: String, visibility: Visibility, models: [String: ModelRunner],
    moderation: ModerationClassifier?
  ) throws -> ModelGuard {
    var rules: [GuardStage: [BoundRule]] = [:]
    for (stage, list) in [(GuardStage.input, policy.input), (.output, policy.output), (.tool, policy.tool)] {
      rules[stage] = try list.enumerated().map { i, rule in
        do {
          return try bind(rule, stage: stage, models: models, moderation: moderation)
        } catch let error as GuardPolicyError {
          throw GuardPolicyError("model '\(id)': guard.\(stage.rawValue)[\(i)]: \(error.description)")
        }
      }
    }
    let failClosed = (policy.onError ?? (visibility == .closed ? .block : .allow)) == .block
    return ModelGuard(model: id, policy: policy, rules: rules, failClosed: failClosed)
  }

  private static func bind(
    _ rule: GuardPolicy.Rule, stage: GuardStage, models: [String: ModelRunner],
    moderation: ModerationClassifier?
  ) throws -> BoundRule {
    let rail: any GuardRail
    var threshold: @Sendable (String) -> Double = { _ in 0.5 }
    switch rule.rail {
    case "pii":
      rail = PIIRail(categories: rule.categories.map(Set.init))
    case "injection":
      rail = InjectionRail()
    case "patterns":
      do {
        rail = try PatternRail(
          deny: rule.deny ?? [],
          regexes: (rule.regex ?? [:]).sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
      } catch {
        throw GuardPolicyError("\(error)")
      }
    case "moderation":
      guard let moderation else {
        throw GuardPolicyError(
          "the moderation rail needs the built-in classifier's encoder: serve all-MiniLM-L6-v2 or pass --moderation-model"
        )
      }
      let moderationRail = ModerationRail(classifier: moderation)
      rail = moderationRail
      threshold = { moderationRail.threshold(for: $0) }
    case "llama_guard":
      guard let id = rule.model, let runner = models[id] else {
        throw GuardPolicyError("model: '\(rule.model ?? "")' is not a served model")
      }
      rail = LlamaGuardRail(
        runner: runner, role: stage == .output ? .agent : .user, categories: rule.categories)
    default:
      throw GuardPolicyError("unknown rail '\(rule.rail)'")
    }
    if let t = rule.threshold { threshold = { _ in t } }
    // Rules name whole categories; a rail that has none of them would never fire.
    let categories = rule.rail == "pii" || rule.rail == "llama_guard" ? nil : rule.categories.map(Set.init)
    return BoundRule(
      rail: rail, stage: stage, action: rule.action, categories: categories, threshold: threshold,
      timeout: .milliseconds(rule.timeoutMilliseconds ?? 5000),
      railDecides: rule.threshold == nil)
  }

  /// The policy of `model`, if it has one.
  public func policy(for model: String) -> ModelGuard? { guards[model] }
}

extension MuseService {
  /// Screens the texts a chat request sends the model (user, system and developer messages at
  /// the input stage, tool results at the tool stage), returning the messages as redacted, or
  /// throwing `GuardViolation`'s 400 / 503. Assistant messages are the model's own earlier
  /// output and are not screened again.
  func screen(messages: [JinjaValue], context: GuardContext) async throws -> [JinjaValue] {
    guard let modelGuard = guardrails.policy(for: context.model) else { return messages }
    var messages = messages
    for stage in [GuardStage.input, .tool] {
      var items: [(index: Int, field: String, text: String)] = []
      for (i, message) in messages.enumerated() {
        guard case .dict(let fields) = message, case .string(let role)? = fields["role"],
          case .string(let content)? = fields["content"], !content.isEmpty
        else { continue }
        let isTool = role == "tool"
        guard role != "assistant", isTool == (stage == .tool) else { continue }
        items.append((i, "messages[\(i)].content", content))
      }
      guard !items.isEmpty else { continue }
      let texts = try await screen(
        items.map { ($0.field, $0.text) }, stage: stage, with: modelGuard, context: context)
      for (item, text) in zip(items, texts) where text != item.text {
        guard case .dict(var fields) = messages[item.index] else { continue }
        fields["content"] = .string(text)
        messages[item.index] = .dict(fields)
      }
    }
    return messages
  }

  /// Screens plain texts (completion prompts, an app message) at one stage.
  func screen(
    texts: [(field: String, text: String)], stage: GuardStage = .input, context: GuardContext
  ) async throws -> [String] {
    guard let modelGuard = guardrails.policy(for: context.model) else { return texts.map(\.text) }
    return try await screen(texts, stage: stage, with: modelGuard, context: context)
  }

  private func screen(
    _ texts: [(field: String, text: String)], stage: GuardStage, with modelGuard: ModelGuard,
    context: GuardContext
  ) async throws -> [String] {
    let (screened, events, violation) = await modelGuard.screen(texts, stage: stage, context: context)
    record(events)
    if let violation {
      metrics.error(code: violation.error.code ?? "content_policy_violation")
      throw violation.error
    }
    return screened
  }

  /// Writes guard decisions to the audit log and counts them.
  func record(_ events: [GuardEvent]) {
    guard !events.isEmpty else { return }
    for e in events {
      metrics.guardDecision(
        model: e.model, rail: e.rail, stage: e.stage, verdict: e.verdict, microseconds: e.latencyMicroseconds)
    }
    do {
      try store.record(events)
    } catch {
      logger.error("could not record \(events.count) guard decisions: \(error)")
    }
  }
}
