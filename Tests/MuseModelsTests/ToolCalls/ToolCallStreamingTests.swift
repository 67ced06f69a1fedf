import Foundation
import MuseJinja
import Testing

@testable import MuseModels

/// Replies as models write them (content around calls, reasoning, several calls), for every
/// family: fed one character at a time they give what the whole reply gives, and that is the
/// expected split.
struct ToolCallStreamingTests {
  struct Sample: CustomTestStringConvertible, Sendable {
    var family: ToolCallFamily
    var text: String
    var content: String
    var reasoning = ""
    var calls: [(String, String)]
    var startsInReasoning = false
    var testDescription: String { "\(family)" }
  }

  static let think = ReasoningMarkers(open: "<think>", close: "</think>")
  static let weather = #"{"city": "Paris", "days": 3}"#

  static let samples: [Sample] = [
    Sample(
      family: .hermes,
      text: """
        <think>
        Two calls.
        </think>

        Checking.
        <tool_call>
        {"name": "get_weather", "arguments": {"city": "Paris", "days": 3}}
        </tool_call>
        <tool_call>
        {"arguments": {}, "name": "get_time"}
        </tool_call>
        Done.
        """, content: "Checking.\nDone.", reasoning: "Two calls.",
      calls: [("get_weather", weather), ("get_time", "{}")]),
    Sample(
      family: .hermes, text: "still thinking</think>Answer <b>bold</b> < tool",
      content: "Answer <b>bold</b> < tool",
      reasoning: "still thinking", calls: [], startsInReasoning: true),
    Sample(
      family: .jsonToolCallsBlock,
      text:
        "Sure.\n<tool_calls>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 3}}\n{\"name\": \"get_time\", \"arguments\": {}}\n</tool_calls>",
      content: "Sure.", calls: [("get_weather", weather), ("get_time", "{}")]),
    Sample(
      family: .nemotronToolCall, text: #"<TOOLCALL>[{"name": "get_time", "arguments": null}]</TOOLCALL>"#,
      content: "", calls: [("get_time", "{}")]),
    Sample(
      family: .granite,
      text: #"<|tool_call|>[{"name": "get_weather", "arguments": "{\"city\": \"Paris\", \"days\": 3}"}] ok"#,
      content: "ok", calls: [("get_weather", weather)]),
    Sample(
      family: .mistralJSONList,
      text:
        #"[TOOL_CALLS][{"name": "get_weather", "arguments": {"city": "Paris", "days": 3}, "id": "abcDEF123"}, {"name": "get_time", "arguments": {}}]"#,
      content: "", calls: [("get_weather", weather), ("get_time", "{}")]),
    Sample(
      family: .mistralNamedArguments,
      text:
        #"Let me look.[TOOL_CALLS]get_weather[ARGS]{"city": "Paris", "days": 3}[TOOL_CALLS]get_time[CALL_ID]a1b2c3d4e[ARGS]{}"#,
      content: "Let me look.", calls: [("get_weather", weather), ("get_time", "{}")]),
    Sample(
      family: .commandRAction,
      text:
        "I will search.\nAction:\n```json\n[\n    {\n        \"tool_name\": \"get_weather\",\n        \"parameters\": {\"city\": \"Paris\", \"days\": 3}\n    }\n]\n```",
      content: "I will search.", calls: [("get_weather", weather)]),
    Sample(
      family: .commandR7B,
      text:
        #"<|START_THINKING|>plan<|END_THINKING|><|START_ACTION|>[{"tool_call_id": "0", "tool_name": "get_time", "parameters": {}}]<|END_ACTION|>"#,
      content: "", reasoning: "plan", calls: [("get_time", "{}")]),
    Sample(
      family: .commandR7B, text: "<|START_RESPONSE|>Hello there.<|END_RESPONSE|>", content: "Hello there.",
      calls: []),
    Sample(
      family: .llama3JSON, text: #"{"name": "get_weather", "parameters": {"city": "Paris", "days": 3}}"#,
      content: "",
      calls: [("get_weather", weather)]),
    Sample(
      family: .llama3JSON, text: #"<|python_tag|>{"name": "get_time", "parameters": {}}"#, content: "",
      calls: [("get_time", "{}")]),
    Sample(
      family: .gigaChatFunctionCall,
      text: "function call<|role_sep|>\n{\"name\": \"get_time\", \"arguments\": {}}",
      content: "", calls: [("get_time", "{}")]),
    Sample(
      family: .qwen3CoderXML,
      text:
        "<think>hm</think>Checking.\n<tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n</parameter>\n<parameter=days>\n3\n</parameter>\n</function>\n</tool_call>\n<tool_call>\n<function=get_time>\n</function>\n</tool_call>",
      content: "Checking.", reasoning: "hm", calls: [("get_weather", weather), ("get_time", "{}")]),
    Sample(
      family: .seedXML,
      text:
        "<seed:tool_call>\n<function=get_weather>\n<parameter=city>Paris</parameter>\n<parameter=days>3</parameter>\n</function>\n</seed:tool_call>",
      content: "", calls: [("get_weather", weather)]),
    Sample(
      family: .glmXML,
      text:
        "<think>x</think>\n<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>Paris</arg_value>\n<arg_key>days</arg_key>\n<arg_value>3</arg_value>\n</tool_call>\n<tool_call>get_time\n</tool_call>",
      content: "", reasoning: "x", calls: [("get_weather", weather), ("get_time", "{}")]),
    Sample(
      family: .minimaxXML,
      text:
        "<think>\nok\n</think>\n\n<minimax:tool_call>\n<invoke name=\"get_weather\">\n<parameter name=\"city\">Paris</parameter>\n<parameter name=\"days\">3</parameter>\n</invoke>\n<invoke name=\"get_time\">\n</invoke>\n</minimax:tool_call>",
      content: "", reasoning: "ok", calls: [("get_weather", weather), ("get_time", "{}")]),
    Sample(
      family: .deepseekDSML,
      text:
        "Sure.\n\n<｜DSML｜function_calls>\n<｜DSML｜invoke name=\"get_weather\">\n<｜DSML｜parameter name=\"city\" string=\"true\">Paris</｜DSML｜parameter>\n<｜DSML｜parameter name=\"days\" string=\"false\">3</｜DSML｜parameter>\n</｜DSML｜invoke>\n</｜DSML｜function_calls>",
      content: "Sure.", calls: [("get_weather", weather)]),
    Sample(
      family: .museATEM,
      text:
        " to=self<|message|>Need weather.<|eom|><|start|>assistant to=get_weather<|message|><atem:function_calls>\n<atem:invoke name=\"get_weather\">\n<atem:parameter name=\"city\">Paris</atem:parameter>\n<atem:parameter name=\"days\">3</atem:parameter>\n</atem:invoke>\n</atem:function_calls><|eom|><|start|>assistant to=user<|message|>Asked.<|eot|>",
      content: "Asked.", reasoning: "Need weather.", calls: [("get_weather", weather)]),
    Sample(
      family: .deepseekR1,
      text:
        "<think>r</think>\n\n<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n{\"city\": \"Paris\", \"days\": 3}\n```<｜tool▁call▁end｜>\n<｜tool▁call▁begin｜>function<｜tool▁sep｜>get_time\n```json\n{}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜>",
      content: "", reasoning: "r", calls: [("get_weather", weather), ("get_time", "{}")]),
    Sample(
      family: .deepseekV31,
      text:
        "Hi<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>get_weather<｜tool▁sep｜>{\"city\": \"Paris\", \"days\": 3}<｜tool▁call▁end｜><｜tool▁calls▁end｜>",
      content: "Hi", calls: [("get_weather", weather)]),
    Sample(
      family: .kimiK2,
      text:
        "<|tool_calls_section_begin|><|tool_call_begin|>functions.get_weather:0<|tool_call_argument_begin|>{\"city\": \"Paris\", \"days\": 3}<|tool_call_end|><|tool_call_begin|>functions.get_time:1<|tool_call_argument_begin|>{}<|tool_call_end|><|tool_calls_section_end|>",
      content: "", calls: [("get_weather", weather), ("get_time", "{}")]),
    Sample(
      family: .harmony,
      text:
        "<|channel|>analysis<|message|>User wants weather.<|end|><|start|>assistant<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>{\"city\": \"Paris\", \"days\": 3}<|call|>",
      content: "", reasoning: "User wants weather.", calls: [("get_weather", weather)]),
    Sample(
      family: .harmony,
      text: "<|channel|>analysis<|message|>Easy.<|end|><|start|>assistant<|channel|>final<|message|>It is 3.",
      content: "It is 3.", reasoning: "Easy.", calls: []),
    Sample(
      family: .functionaryV31,
      text:
        "<function=get_weather>{\"city\": \"Paris\", \"days\": 3}</function><function=get_time>{}</function>",
      content: "", calls: [("get_weather", weather), ("get_time", "{}")]),
    Sample(
      family: .functionaryV32,
      text: "all\nLet me check.>>>get_weather\n{\"city\": \"Paris\", \"days\": 3}>>>get_time\n{}",
      content: "Let me check.", calls: [("get_weather", weather), ("get_time", "{}")]),
    Sample(
      family: .generic,
      text:
        #"{"tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris", "days": 3}}, {"name": "get_time", "arguments": {}}]}"#,
      content: "", calls: [("get_weather", weather), ("get_time", "{}")]),
    Sample(
      family: .generic, text: #"{"response": "It is \"sunny\"."}"#, content: "It is \"sunny\".", calls: []),
    Sample(family: .generic, text: "Plain {text} answer.", content: "Plain {text} answer.", calls: []),
  ]

  @Test(arguments: samples)
  func streamedEqualsWholeAndSplitsAsExpected(_ s: Sample) {
    let format = ToolCallFormat(
      family: s.family,
      reasoning: s.family == .commandR7B
        ? ReasoningMarkers(open: "<|START_THINKING|>", close: "<|END_THINKING|>") : Self.think)
    let whole = ToolCallParser.parse(
      s.text, format: format, startsInReasoning: s.startsInReasoning, tools: ToolCallFixtures.catalog)
    let (streamed, deltas) = ToolCallFixtures.streamed(
      s.text, format, startsInReasoning: s.startsInReasoning, tools: ToolCallFixtures.catalog)
    #expect(streamed == whole)
    #expect(whole.content == s.content)
    #expect(whole.reasoning == s.reasoning)
    #expect(whole.toolCalls.map(\.name) == s.calls.map(\.0))
    for (call, expected) in zip(whole.toolCalls, s.calls) {
      #expect(ToolCallFixtures.sameJSON(call.arguments, expected.1), "\(call.arguments)")
    }
    // Each call starts once, with its index, before any of its arguments.
    var started: [Int] = []
    for d in deltas {
      if case .toolCallStart(let index, _, _) = d { started.append(index) }
      if case .toolCallArguments(let index, _) = d { #expect(started.last == index) }
    }
    #expect(started == Array(0..<s.calls.count))
  }

  @Test func markersAreHeldBackUntilKnown() {
    var parser = ToolCallParser(format: ToolCallFormat(family: .hermes, reasoning: Self.think))
    #expect(parser.append("Hello <tool") == [.content("Hello")])
    #expect(parser.append("bar> x") == [.content(" <toolbar> x")])
    #expect(
      parser.append("<tool_call>\n{\"name\": \"f\", \"arguments\": {\"a\"") == [
        .toolCallStart(index: 0, id: nil, name: "f"), .toolCallArguments(index: 0, fragment: "{\"a\""),
      ])
    #expect(parser.append(": 1}}\n</tool_call>") == [.toolCallArguments(index: 0, fragment: ": 1}")])
    #expect(parser.finish() == [])
  }

  @Test func kimiAndMistralIdsAreKept() {
    let kimi = ToolCallParser.parse(
      "<|tool_calls_section_begin|><|tool_call_begin|>functions.get_time:3<|tool_call_argument_begin|>{}<|tool_call_end|><|tool_calls_section_end|>",
      format: ToolCallFormat(family: .kimiK2))
    #expect(kimi.toolCalls == [ParsedToolCall(id: "functions.get_time:3", name: "get_time", arguments: "{}")])
    let mistral = ToolCallParser.parse(
      "[TOOL_CALLS]get_time[CALL_ID]a1b2c3d4e[ARGS]{}", format: ToolCallFormat(family: .mistralNamedArguments)
    )
    #expect(mistral.toolCalls.first?.id == "a1b2c3d4e")
  }

  @Test func xmlValuesAreTypedByTheSchema() {
    let format = ToolCallFormat(family: .qwen3CoderXML)
    let text =
      "<tool_call>\n<function=f>\n<parameter=a>\n3\n</parameter>\n<parameter=b>\n3\n</parameter>\n<parameter=c>\nTrue\n</parameter>\n<parameter=d>\n[1, 2]\n</parameter>\n<parameter=e>\nline one\nline \"two\"\n</parameter>\n</function>\n</tool_call>"
    let tools = ToolCatalog(parameterTypes: [
      "f": ["a": "string", "b": "integer", "c": "boolean", "d": "array", "e": "string"]
    ])
    let typed = ToolCallParser.parse(text, format: format, tools: tools)
    #expect(
      typed.toolCalls.first?.arguments
        == #"{"a": "3", "b": 3, "c": true, "d": [1, 2], "e": "line one\nline \"two\""}"#)
    let untyped = ToolCallParser.parse(text, format: format)
    #expect(
      untyped.toolCalls.first?.arguments
        == #"{"a": 3, "b": 3, "c": "True", "d": [1, 2], "e": "line one\nline \"two\""}"#)
  }
}
