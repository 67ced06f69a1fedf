import Foundation
import MuseJinja

/// A model's chat template (the Jinja source in `tokenizer.chat_template`), rendered the way
/// transformers' `apply_chat_template` renders it, so a prompt built here is the prompt the
/// model was trained on. Messages are OpenAI-shaped JSON values and pass through untouched:
/// `content` as a string or a list of `{type: "text", text}` parts, `tool_calls` with
/// `function.arguments`, tool results with `tool_call_id`/`name`.
public struct ChatTemplate: Sendable {
  public let source: String
  /// The texts of the model's BOS and EOS tokens, which templates print as `bos_token`/`eos_token`.
  public var bosToken: String
  public var eosToken: String
  private let template: JinjaTemplate

  /// Parses the template; a syntax error (JinjaError) names the line and column.
  public init(source: String, bosToken: String = "", eosToken: String = "") throws {
    self.source = source
    self.bosToken = bosToken
    self.eosToken = eosToken
    self.template = try JinjaTemplate(source)
  }

  /// The template of a GGUF model, with its BOS/EOS token texts from the vocabulary.
  public init(gguf file: GGUFFile) throws {
    guard let source = file.metadata["tokenizer.chat_template"]?.string else {
      throw ChatTemplateError.noTemplate(file: file.path)
    }
    var tokens: [String] = []
    if case .strings(let t)? = file.metadata["tokenizer.ggml.tokens"]?.array { tokens = t }
    func text(_ key: String) -> String {
      guard let id = file.metadata[key]?.int, id >= 0, id < tokens.count else { return "" }
      return tokens[id]
    }
    try self.init(
      source: source, bosToken: text("tokenizer.ggml.bos_token_id"),
      eosToken: text("tokenizer.ggml.eos_token_id"))
  }

  /// Renders a conversation.
  /// - Parameters:
  ///   - messages: message objects (`.dict`), e.g. from `JinjaValue(json:)`.
  ///   - tools: OpenAI tool definitions, or nil (the template sees `none`).
  ///   - addGenerationPrompt: end with the header that starts the assistant's reply.
  ///   - extra: further template variables (`enable_thinking`, `reasoning_effort`, …).
  ///   - now: the date `strftime_now` reports (default: the clock).
  /// - Throws: `JinjaError`; for `raise_exception(msg)` its message is the template's `msg`.
  public func render(
    messages: [JinjaValue], tools: [JinjaValue]? = nil, addGenerationPrompt: Bool = true,
    bosToken: String? = nil, eosToken: String? = nil, extra: [String: JinjaValue] = [:], now: Date? = nil
  ) throws -> String {
    var variables = extra
    variables["messages"] = .array(messages.map(Self.aliasReasoning))
    variables["tools"] = tools.map { .array($0) } ?? JinjaValue.none
    variables["documents"] = JinjaValue.none
    variables["add_generation_prompt"] = .bool(addGenerationPrompt)
    variables["bos_token"] = .string(bosToken ?? self.bosToken)
    variables["eos_token"] = .string(eosToken ?? self.eosToken)
    return try template.render(variables, now: now)
  }

  /// Renders plain role/content messages.
  public func render(
    messages: [ChatMessage], addGenerationPrompt: Bool = true, extra: [String: JinjaValue] = [:],
    now: Date? = nil
  ) throws -> String {
    try render(
      messages: messages.map { ["role": .string($0.role), "content": .string($0.content)] },
      addGenerationPrompt: addGenerationPrompt, extra: extra, now: now)
  }

  /// transformers (`_alias_reasoning_fields`) copies a message's reasoning, whichever of
  /// `reasoning_content`, `thinking` or `reasoning` holds it, into `thinking` (read by gpt-oss
  /// templates) and `reasoning_content` (read by most others).
  static func aliasReasoning(_ message: JinjaValue) -> JinjaValue {
    guard case .dict(let d) = message,
      let reasoning = ["reasoning_content", "thinking", "reasoning"].lazy.compactMap({ d[$0] }).first(where: {
        !$0.isNone
      })
    else { return message }
    var aliased = JinjaDict()
    aliased["thinking"] = reasoning
    for (k, v) in d { aliased[k] = v }
    aliased["reasoning_content"] = reasoning
    return .dict(aliased)
  }
}

public enum ChatTemplateError: Error, CustomStringConvertible {
  case noTemplate(file: String)

  public var description: String {
    switch self {
    case .noTemplate(let file): "\(file) has no tokenizer.chat_template"
    }
  }
}
