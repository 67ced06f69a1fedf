import Foundation

/// The operator's guardrails for one model, from the catalogue (`guard:` under a model in
/// `muse.yaml`) or `muse serve --guard`: which rails run on the caller's input, on the model's
/// output and on what crosses the tool boundary, with thresholds and actions. No request field
/// can change it.
///
/// ```yaml
/// guard:
///   input:  [{rail: pii, action: redact}, {rail: injection, action: block, threshold: 0.8}]
///   output: [{rail: pii, action: redact}, {rail: moderation, action: block}]
///   tool:   [{rail: injection, action: flag}]
///   allow: ["support@example.com"]
///   on_error: block
///   stream_window: 64
/// ```
public struct GuardPolicy: Codable, Sendable, Equatable {
  /// What a finding at or above the threshold does.
  public enum Action: String, Codable, Sendable, CaseIterable {
    /// Refuse the request (input) or end the reply with `content_filter` (output).
    case block
    /// Replace the matched spans (rails that can point at them: `pii`, `patterns`).
    case redact
    /// Let it through; the audit log and metrics record it.
    case flag
  }

  /// One rail at one stage.
  public struct Rule: Codable, Sendable, Equatable {
    /// `pii`, `injection`, `patterns`, `moderation` or `llama_guard`.
    public var rail: String
    public var action: Action
    /// Findings scoring below it pass (default: the rail's own; 0.5 for `injection`).
    public var threshold: Double?
    /// Only these categories count (default: all the rail knows).
    public var categories: [String]?
    /// `patterns`: words or phrases refused wherever they appear (case-insensitive).
    public var deny: [String]?
    /// `patterns`: named regular expressions.
    public var regex: [String: String]?
    /// `llama_guard`: the id of the served model that answers as Llama Guard.
    public var model: String?
    /// How long the rail may take before it counts as failed (default 5,000 ms).
    public var timeoutMilliseconds: Int?

    public init(
      rail: String, action: Action, threshold: Double? = nil, categories: [String]? = nil,
      deny: [String]? = nil,
      regex: [String: String]? = nil, model: String? = nil, timeoutMilliseconds: Int? = nil
    ) {
      self.rail = rail
      self.action = action
      self.threshold = threshold
      self.categories = categories
      self.deny = deny
      self.regex = regex
      self.model = model
      self.timeoutMilliseconds = timeoutMilliseconds
    }

    enum CodingKeys: String, CodingKey {
      case rail, action, threshold, categories, deny, regex, model
      case timeoutMilliseconds = "timeout_ms"
    }
  }

  /// What a rail that errors or times out amounts to.
  public enum OnError: String, Codable, Sendable {
    /// Treat it as a block (the default for closed models).
    case block
    /// Let the text through and record the error (the default for open models).
    case allow
  }

  public static let knownRails = ["pii", "injection", "patterns", "moderation", "llama_guard"]
  static let redactingRails: Set = ["pii", "patterns"]

  public var input: [Rule]
  public var output: [Rule]
  /// Run on tool results sent back to the model, and on the reply when the request declared tools.
  public var tool: [Rule]
  /// Spans that are never acted on (a support address, a company's own phone number), compared
  /// case-insensitively with what a rail matched.
  public var allow: [String]
  /// Default: `block` for closed models, `allow` for open ones.
  public var onError: OnError?
  /// Characters of a streamed reply held back until the rails have seen what follows them (as
  /// stop sequences are held back): a violation ends the stream before any of it is sent.
  public var streamWindow: Int?

  public init(
    input: [Rule] = [], output: [Rule] = [], tool: [Rule] = [], allow: [String] = [], onError: OnError? = nil,
    streamWindow: Int? = nil
  ) {
    self.input = input
    self.output = output
    self.tool = tool
    self.allow = allow
    self.onError = onError
    self.streamWindow = streamWindow
  }

  enum CodingKeys: String, CodingKey {
    case input, output, tool, allow
    case onError = "on_error"
    case streamWindow = "stream_window"
  }

  public init(from decoder: Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    input = try c.decodeIfPresent([Rule].self, forKey: .input) ?? []
    output = try c.decodeIfPresent([Rule].self, forKey: .output) ?? []
    tool = try c.decodeIfPresent([Rule].self, forKey: .tool) ?? []
    allow = try c.decodeIfPresent([String].self, forKey: .allow) ?? []
    onError = try c.decodeIfPresent(OnError.self, forKey: .onError)
    streamWindow = try c.decodeIfPresent(Int.self, forKey: .streamWindow)
    if let problem = problems.first {
      throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: problem))
    }
  }

  /// The characters a stream holds back.
  public var window: Int { streamWindow ?? 64 }

  public var isEmpty: Bool { input.isEmpty && output.isEmpty && tool.isEmpty }

  /// The stages this policy guards, for the model card (which shows that a policy applies, not
  /// what it is).
  public var stages: [GuardStage] {
    [(GuardStage.input, input), (.output, output), (.tool, tool)].filter { !$0.1.isEmpty }.map(\.0)
  }

  /// What is wrong with the policy, each naming the rule (`guard.output[1].threshold: …`).
  public var problems: [String] {
    var found: [String] = []
    if let w = streamWindow, !(8...4096).contains(w) {
      found.append("guard.stream_window must be from 8 to 4096 characters")
    }
    for (stage, rules) in [("input", input), ("output", output), ("tool", tool)] {
      for (i, rule) in rules.enumerated() {
        let at = "guard.\(stage)[\(i)]"
        guard Self.knownRails.contains(rule.rail) else {
          found.append(
            "\(at).rail: unknown rail '\(rule.rail)' (known: \(Self.knownRails.joined(separator: ", ")))")
          continue
        }
        if rule.action == .redact, !Self.redactingRails.contains(rule.rail) {
          found.append(
            "\(at).action: the \(rule.rail) rail cannot redact (only pii and patterns can); use block or flag"
          )
        }
        if let t = rule.threshold, !(t.isFinite && (0...1).contains(t)) {
          found.append("\(at).threshold must be from 0 to 1")
        }
        if let ms = rule.timeoutMilliseconds, !(1...120_000).contains(ms) {
          found.append("\(at).timeout_ms must be from 1 to 120000")
        }
        if rule.rail == "patterns", (rule.deny ?? []).isEmpty, (rule.regex ?? [:]).isEmpty {
          found.append("\(at): the patterns rail needs 'deny' or 'regex'")
        }
        if rule.rail == "llama_guard", rule.model == nil {
          found.append(
            "\(at).model: the llama_guard rail needs the id of the served model that answers as Llama Guard")
        }
      }
    }
    return found
  }

  /// The compact form of `muse serve --guard`: `STAGE:RAIL:ACTION[:THRESHOLD]`, e.g.
  /// `input:pii:redact`, `output:moderation:block:0.7`, `tool:injection:flag`.
  public mutating func add(flag: String) throws {
    let parts = flag.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
    guard (3...4).contains(parts.count), let stage = GuardStage(rawValue: parts[0]),
      let action = Action(rawValue: parts[2])
    else {
      throw GuardPolicyError(
        "--guard '\(flag)': expected STAGE:RAIL:ACTION[:THRESHOLD] with STAGE input, output or tool and ACTION block, redact or flag"
      )
    }
    var rule = Rule(rail: parts[1], action: action)
    if parts.count == 4 {
      guard let t = Double(parts[3]) else {
        throw GuardPolicyError("--guard '\(flag)': the threshold must be a number")
      }
      rule.threshold = t
    }
    switch stage {
    case .input: input.append(rule)
    case .output: output.append(rule)
    case .tool: tool.append(rule)
    }
    if let problem = problems.first { throw GuardPolicyError("--guard '\(flag)': \(problem)") }
  }
}

public struct GuardPolicyError: Error, CustomStringConvertible {
  public let description: String
  public init(_ description: String) { self.description = description }
}
