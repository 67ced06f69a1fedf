import Foundation
import MuseJinja
import MuseTestSupport

@testable import MuseModels

/// Templates, conversations and helpers shared by the tool-call suites.
enum ToolCallFixtures {
  static let templateNames: [String] = {
    let files = (try? FileManager.default.contentsOfDirectory(atPath: TestPaths.fixture("templates"))) ?? []
    return files.filter { $0.hasSuffix(".jinja") }.map { String($0.dropLast(6)) }.sorted()
  }()

  static func template(_ name: String) throws -> ChatTemplate {
    try ChatTemplate(
      source: String(contentsOfFile: TestPaths.fixture("templates/\(name).jinja"), encoding: .utf8),
      bosToken: "<s>", eosToken: "</s>")
  }

  static let tools: [JinjaValue] = {
    let json = """
      [{"type": "function", "function": {"name": "get_weather", "description": "Weather in a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"},
        "detail": {"type": "object"}}, "required": ["city"]}}},
       {"type": "function", "function": {"name": "get_time", "description": "The time now.",
        "parameters": {"type": "object", "properties": {}}}}]
      """
    guard case .array(let list)? = try? JinjaValue(json: json) else { return [] }
    return list
  }()

  static let catalog = ToolCatalog(openAITools: tools)

  /// An expected call: name and arguments as OpenAI sends them (a JSON string).
  struct Call: Sendable {
    var name: String
    var arguments: String
  }

  enum Case: String, CaseIterable, Sendable {
    case oneCall, twoCalls, noArgumentCall

    var calls: [Call] {
      switch self {
      case .oneCall: [Call(name: "get_weather", arguments: #"{"city": "Paris", "days": 3}"#)]
      case .twoCalls:
        [
          Call(
            name: "get_weather", arguments: #"{"city": "Zürich", "detail": {"wind": true, "hours": [1, 2]}}"#),
          Call(name: "get_weather", arguments: #"{"city": "Oslo \"Norway\"", "days": 7}"#),
        ]
      case .noArgumentCall: [Call(name: "get_time", arguments: "{}")]
      }
    }
    var content: String { self == .oneCall ? "I will check." : "" }
  }

  static func assistant(_ c: Case) -> JinjaValue {
    let calls: [JinjaValue] = c.calls.enumerated().map { i, call in
      [
        "id": .string("call0000\(i + 1)"), "type": "function",
        "function": ["name": .string(call.name), "arguments": .string(call.arguments)],
      ]
    }
    return ["role": "assistant", "content": .string(c.content), "tool_calls": .array(calls)]
  }

  static let user: JinjaValue = ["role": "user", "content": "What is the weather?"]

  /// Where a rendered turn ends (the end-of-turn tokens of the 56 templates).
  static let turnEnds = [
    "<|im_end|>", "<|eot_id|>", "<|eom_id|>", "</s>", "<｜end▁of▁sentence｜>", "<|END_OF_TURN_TOKEN|>",
    "<|end_of_text|>", "<end_of_turn>", "<turn|>", "<seed:eos>", "<end_of_sentence>", "[e~[", "<|eot|>",
    "</assistant>", "<|return|>", "<|end|>", "<SPECIAL_12>", "<|tool_response>",
  ]

  struct Rendered {
    var text: String
    var startsInReasoning: Bool
  }

  /// The assistant's reply as the template writes it: the conversation with the turn, less the
  /// conversation before it and the header that starts the turn (the generation prompt, or as
  /// much of it as the turn shares, cut after a `>` or newline), up to the end-of-turn token.
  static func renderedReply(_ template: ChatTemplate, _ c: Case) throws -> Rendered {
    let support = TemplateToolSupport(probing: template)
    let format = ToolCallFormat(templateSource: template.source)
    let now = Date(timeIntervalSince1970: 1_700_000_000)
    let before = template.adaptToolMessages([user], tools: tools, support: support)
    let with = template.adaptToolMessages([user, assistant(c)], tools: tools, support: support)
    let prompt = try template.render(messages: before, tools: tools, addGenerationPrompt: true, now: now)
    let full = try template.render(messages: with, tools: tools, addGenerationPrompt: false, now: now)
    let history = try template.render(messages: before, tools: tools, addGenerationPrompt: false, now: now)
    var start = full.commonPrefix(with: history).count
    if full.hasPrefix(prompt) {
      start = prompt.count
    } else {
      let shared = Array(full.commonPrefix(with: prompt))
      var cut = shared.count
      while cut > start, shared[cut - 1] != ">", shared[cut - 1] != "\n" { cut -= 1 }
      start = max(start, cut)
    }
    var text = String(full.dropFirst(start))
    let ends =
      format.family == .harmony
      ? ["<|return|>", "<|call|>"] : format.family == .museATEM ? ["<|eot|>"] : turnEnds
    if let cut = ends.compactMap({ text.range(of: $0)?.lowerBound }).min() { text = String(text[..<cut]) }
    return Rendered(text: text, startsInReasoning: format.promptOpensReasoning(String(full.prefix(start))))
  }

  /// The reply fed one character at a time, folded.
  static func streamed(
    _ text: String, _ format: ToolCallFormat, startsInReasoning: Bool = false, tools: ToolCatalog? = nil
  )
    -> (ParsedAssistantMessage, [AssistantDelta])
  {
    var parser = ToolCallParser(format: format, startsInReasoning: startsInReasoning, tools: tools)
    var message = ParsedAssistantMessage()
    var all: [AssistantDelta] = []
    for c in text {
      let d = parser.append(String(c))
      all += d
      message.apply(d)
    }
    let d = parser.finish()
    all += d
    message.apply(d)
    return (message, all)
  }

  /// JSON texts equal as values: key order aside, but `true` is not `1` and `"3"` is not `3`.
  static func sameJSON(_ a: String, _ b: String) -> Bool {
    guard let x = try? JinjaValue(json: a), let y = try? JinjaValue(json: b) else { return false }
    return strictlyEqual(x, y)
  }

  static func strictlyEqual(_ a: JinjaValue, _ b: JinjaValue) -> Bool {
    switch (a, b) {
    case (.dict(let x), .dict(let y)):
      return x.count == y.count && x.allSatisfy { k, v in y[k].map { strictlyEqual(v, $0) } ?? false }
    case (.array(let x), .array(let y)): return x.count == y.count && zip(x, y).allSatisfy(strictlyEqual)
    case (.bool(let x), .bool(let y)): return x == y
    case (.bool, _), (_, .bool): return false
    case (.string(let x), .string(let y)): return x == y
    case (.none, .none): return true
    default:
      guard let x = a.numberValue, let y = b.numberValue else { return false }
      return x == y
    }
  }
}

extension JinjaValue {
  fileprivate var numberValue: Double? {
    switch self {
    case .int(let i): Double(i)
    case .float(let d): d
    default: nil
    }
  }
}
