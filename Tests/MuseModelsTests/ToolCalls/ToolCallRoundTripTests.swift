import Foundation
import MuseJinja
import Testing

@testable import MuseModels

/// Every template that renders tool calls writes an assistant turn with one call, two calls and
/// a call without arguments; the detected family's parser must read back exactly those calls
/// (names, arguments as JSON values) and the content, whole and fed one character at a time.
struct ToolCallRoundTripTests {
  typealias Case = ToolCallFixtures.Case

  /// Templates that render no tool calls at all (the generic format serves them), and why.
  static let withoutToolCalls: [String: String] = [
    "HuggingFaceTB-SmolLM2-135M-Instruct": "no tools in the template",
    "HuggingFaceTB-SmolLM3-3B": "renders tools, not calls",
    "LFM2-8B-A1B": "renders tools, not calls",
    "google-gemma-2-2b-it": "no tools in the template",
    "ibm-granite-granite-3.3-2B-Instruct": "renders tools, not calls",
    "llama-cpp-rwkv-world": "no tools in the template",
    "microsoft-Phi-3.5-mini-instruct": "no tools in the template",
    "CohereForAI-c4ai-command-r-plus-tool_use":
      "wants Cohere's own tool shape (`additionalProperties` read from every schema)",
    "Kimi-K2-Instruct": "calls `list.append`, refused by the immutable sandbox (as in transformers)",
    "Kimi-K2-Thinking": "calls `list.append`, refused by the immutable sandbox (as in transformers)",
    "deepseek-ai-DeepSeek-R1-Distill-Llama-8B": "no tools in the template",
    "llama-cpp-deepseek-r1": "`tojson` of a generator fails (as in jinja2)",
    "fireworks-ai-llama-3-firefunction-v2": "reads an undefined `functions` variable",
  ]

  /// Cases a template cannot express, with why; each must really fail to render or drop a call.
  static let cannotExpress: [String: [Case: String]] = [
    "meta-llama-Llama-3.1-8B-Instruct": [
      .twoCalls: "raises \"This model only supports single tool-calls at once!\""
    ],
    "meta-llama-Llama-3.2-3B-Instruct": [
      .twoCalls: "raises \"This model only supports single tool-calls at once!\""
    ],
    "meta-llama-Llama-3.3-70B-Instruct": [
      .twoCalls: "raises \"This model only supports single tool-calls at once!\""
    ],
    "openai-gpt-oss-120b": [.twoCalls: "renders only the first call of a turn"],
    "GigaChat3.1-10B-A1.8B": [.twoCalls: "renders only the first call of a turn"],
    "GigaChat3-10B-A1.8B": [.twoCalls: "renders only the first call of a turn"],
    "NVIDIA-Nemotron-Nano-v2": [
      .oneCall: "renders content and calls as two turns (the first ends with <SPECIAL_12>)"
    ],
  ]

  /// Templates whose call syntax has no parser yet (detected as generic), and theirs.
  static let unparsed: [String: String] = [:]

  @Test func renderedCallsParseBack() throws {
    var table: [String] = []
    for name in ToolCallFixtures.templateNames {
      let template = try ToolCallFixtures.template(name)
      let support = TemplateToolSupport(probing: template)
      let format = ToolCallFormat(templateSource: template.source)
      #expect(support.rendersToolCalls == (Self.withoutToolCalls[name] == nil), "\(name): renders tool calls")
      guard support.rendersToolCalls else { continue }
      var results: [String] = []
      for c in Case.allCases {
        let outcome = roundTrip(template, format, c)
        if let reason = Self.cannotExpress[name]?[c] {
          #expect(outcome == .notExpressed, "\(name) \(c) is said to be inexpressible")
          results.append("cannot: \(reason)")
        } else if let syntax = Self.unparsed[name] {
          #expect(format.family == .generic && outcome == .mismatch, "\(name) \(c)")
          results.append("no parser (\(syntax))")
        } else {
          #expect(outcome == .pass, "\(name) \(c)")
          results.append(outcome == .pass ? "pass" : "FAIL")
        }
      }
      table.append("| \(name) | \(format.family) | " + results.joined(separator: " | ") + " |")
    }
    print(
      (["| template | family | one call | two calls | no-argument call |"] + table).joined(separator: "\n"))
  }

  enum Outcome: Equatable { case pass, mismatch, notExpressed }

  private func roundTrip(_ template: ChatTemplate, _ format: ToolCallFormat, _ c: Case) -> Outcome {
    guard let rendered = try? ToolCallFixtures.renderedReply(template, c) else { return .notExpressed }
    let expected = c.calls
    let expressed =
      expected.allSatisfy { rendered.text.contains($0.name) }
      && (c != .twoCalls || rendered.text.components(separatedBy: "get_weather").count > 2)
    guard expressed else { return .notExpressed }
    let tools = ToolCallFixtures.catalog
    let parsed = ToolCallParser.parse(
      rendered.text, format: format, startsInReasoning: rendered.startsInReasoning, tools: tools)
    let (streamed, _) = ToolCallFixtures.streamed(
      rendered.text, format, startsInReasoning: rendered.startsInReasoning, tools: tools)
    let content = rendered.text.contains(c.content) ? c.content : ""
    // gpt-oss renders a tool-calling turn's content in the analysis channel: it comes back as reasoning.
    let contentBack =
      parsed.content == content
      || (format.family == .harmony && parsed.content.isEmpty && parsed.reasoning == content)
    let ok =
      parsed.toolCalls.map(\.name) == expected.map(\.name)
      && zip(parsed.toolCalls, expected).allSatisfy { ToolCallFixtures.sameJSON($0.arguments, $1.arguments) }
      && contentBack && streamed == parsed
    if !ok, format.family != .generic {
      Issue.record("\(format.family) \(c): \(rendered.text.debugDescription) → \(parsed)")
    }
    return ok ? .pass : .mismatch
  }
}
