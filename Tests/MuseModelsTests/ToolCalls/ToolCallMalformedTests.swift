import Foundation
import MuseJinja
import Testing

@testable import MuseModels

/// Text that starts like a call but is not one: content, never a crash, and linear in length.
struct ToolCallMalformedTests {
  static let hermes = ToolCallFormat(
    family: .hermes, reasoning: ReasoningMarkers(open: "<think>", close: "</think>"))

  private func both(_ text: String, _ format: ToolCallFormat = hermes, tools: ToolCatalog? = nil)
    -> ParsedAssistantMessage
  {
    let whole = ToolCallParser.parse(text, format: format, tools: tools)
    let (streamed, _) = ToolCallFixtures.streamed(text, format, tools: tools)
    #expect(streamed == whole)
    return whole
  }

  @Test func unterminatedArgumentsAtTheEndAreContent() {
    let text = "Hi\n<tool_call>\n{\"name\": \"get_time\", \"arguments\": {\"a\": [1, 2"
    let parsed = both(text)
    #expect(parsed.toolCalls.isEmpty)
    #expect(parsed.content == text)
    // A stream saw the call start, then its withdrawal with the raw text.
    let (_, deltas) = ToolCallFixtures.streamed(text, Self.hermes)
    #expect(deltas.contains(.toolCallStart(index: 0, id: nil, name: "get_time")))
    #expect(
      deltas.last
        == .invalidToolCall(
          index: 0, text: "\n<tool_call>\n{\"name\": \"get_time\", \"arguments\": {\"a\": [1, 2"))
  }

  @Test func invalidJSONInsideACallIsContent() {
    let text = "<tool_call>{\"name\": \"f\", \"arguments\": {\"a\": tru}}</tool_call> after"
    let parsed = both(text)
    #expect(parsed.toolCalls.isEmpty)
    #expect(parsed.content == text)
  }

  @Test func anOpenerWithoutACallIsContent() {
    #expect(both("<tool_call> nothing here").content == "<tool_call> nothing here")
    #expect(both("<tool_call>").content == "<tool_call>")
    #expect(both("a <tool_call>[1, 2]</tool_call>").content == "a <tool_call>[1, 2]</tool_call>")
  }

  @Test func unknownToolNamesAreNotCalls() {
    let tools = ToolCatalog(parameterTypes: ["get_time": [:]])
    let text = "<tool_call>{\"name\": \"rm_rf\", \"arguments\": {}}</tool_call>"
    let parsed = both(text, tools: tools)
    #expect(parsed.toolCalls.isEmpty)
    #expect(parsed.content == text)
  }

  @Test func aWholeCallWithoutItsCloserIsStillACall() {
    let parsed = both("<tool_call>{\"name\": \"get_time\", \"arguments\": {}}")
    #expect(parsed.toolCalls.map(\.name) == ["get_time"])
  }

  @Test func aLaterMalformedCallKeepsTheEarlierOne() {
    let text =
      "<tool_call>{\"name\": \"a\", \"arguments\": {}}</tool_call><tool_call>{\"name\": \"b\", \"arguments\": {"
    let parsed = both(text)
    #expect(parsed.toolCalls.map(\.name) == ["a"])
    #expect(parsed.content == "<tool_call>{\"name\": \"b\", \"arguments\": {")
  }

  @Test func xmlCallCutShortIsContent() {
    let format = ToolCallFormat(family: .qwen3CoderXML)
    let text = "<tool_call>\n<function=f>\n<parameter=a>\nunfinished"
    let parsed = both(text, format)
    #expect(parsed.toolCalls.isEmpty)
    #expect(parsed.content == text)
  }

  @Test func harmonyWithoutHeaderIsContent() {
    let parsed = both("just text, no header", ToolCallFormat(family: .harmony))
    #expect(parsed.content == "just text, no header")
  }

  @Test(arguments: ToolCallFamily.allCases)
  func garbageNeverCrashes(_ family: ToolCallFamily) {
    let format = ToolCallFormat(
      family: family, reasoning: ReasoningMarkers(open: "<think>", close: "</think>"))
    var generator = SystemRandomNumberGenerator()
    let pieces =
      format.triggers + [
        "{", "}", "[", "]", "\"", ":", ",", "\\", "<think>", "</think>", "\n", " ", "name", "arguments", "é",
        "☕",
        "<|message|>", "<|end|>", "<|call|>", "to=functions.f", "<parameter=", "</parameter>", ">", "```",
      ]
    for _ in 0..<30 {
      let text = (0..<60).map { _ in pieces.randomElement(using: &generator)! }.joined()
      _ = both(text, format)
    }
  }

  @Test func hugeInputStaysLinear() {
    let format = Self.hermes
    let big = String(repeating: "<tool_cal ", count: 20_000) + String(repeating: " ", count: 100_000)
    let clock = ContinuousClock()
    let elapsed = clock.measure {
      var parser = ToolCallParser(format: format)
      var message = ParsedAssistantMessage()
      var i = big.startIndex
      while i < big.endIndex {
        let j = big.index(i, offsetBy: 64, limitedBy: big.endIndex) ?? big.endIndex
        message.apply(parser.append(String(big[i..<j])))
        i = j
      }
      message.apply(parser.finish())
      #expect(message.content.count == 20_000 * 10 - 1)
    }
    #expect(elapsed < .seconds(5))
    let longArguments =
      "<tool_call>{\"name\": \"f\", \"arguments\": {\"a\": \"" + String(repeating: "x", count: 300_000)
      + "\"}}</tool_call>"
    let elapsed2 = clock.measure {
      var parser = ToolCallParser(format: format)
      var message = ParsedAssistantMessage()
      var i = longArguments.startIndex
      while i < longArguments.endIndex {
        let j =
          longArguments.index(i, offsetBy: 16, limitedBy: longArguments.endIndex) ?? longArguments.endIndex
        message.apply(parser.append(String(longArguments[i..<j])))
        i = j
      }
      message.apply(parser.finish())
      #expect(message.toolCalls.first?.arguments.count == 300_009)
    }
    #expect(elapsed2 < .seconds(5))
  }
}
