import Foundation
import MuseJinja
import Testing

@testable import MuseModels

/// What templates can render about tools, found by probing, and messages adapted to it.
struct TemplateToolSupportTests {
  @Test func qwenRendersEverythingWithObjectArguments() throws {
    let support = TemplateToolSupport(probing: try ToolCallFixtures.template("Qwen-Qwen2.5-7B-Instruct"))
    #expect(support.rendersTools && support.rendersToolCalls && support.rendersParallelToolCalls)
    #expect(support.rendersToolResults && support.rendersSystemRole)
    #expect(support.argumentsForm == .object)
  }

  @Test func functionaryV32WantsStringArguments() throws {
    let support = TemplateToolSupport(
      probing: try ToolCallFixtures.template("meetkai-functionary-medium-v3.2"))
    #expect(support.rendersToolCalls)
    #expect(support.argumentsForm == .string)
  }

  @Test func llama31RendersOneCallOnly() throws {
    let support = TemplateToolSupport(
      probing: try ToolCallFixtures.template("meta-llama-Llama-3.1-8B-Instruct"))
    #expect(support.rendersToolCalls)
    #expect(!support.rendersParallelToolCalls)
  }

  @Test func gemma2RendersNoToolsAndNoSystemRole() throws {
    let support = TemplateToolSupport(probing: try ToolCallFixtures.template("google-gemma-2-2b-it"))
    #expect(!support.rendersTools && !support.rendersToolCalls && !support.rendersSystemRole)
  }

  @Test func qwen3RendersReasoning() throws {
    #expect(TemplateToolSupport(probing: try ToolCallFixtures.template("Qwen-Qwen3-0.6B")).rendersReasoning)
    #expect(
      !TemplateToolSupport(probing: try ToolCallFixtures.template("Qwen-Qwen2.5-7B-Instruct"))
        .rendersReasoning)
  }

  @Test func stringArgumentsBecomeObjectsAndToolResultsRender() throws {
    let template = try ToolCallFixtures.template("Qwen-Qwen2.5-7B-Instruct")
    let support = TemplateToolSupport(probing: template)
    let messages: [JinjaValue] = [
      ToolCallFixtures.user, ToolCallFixtures.assistant(.oneCall),
      ["role": "tool", "tool_call_id": "call00001", "content": "Sunny, 21 °C"],
    ]
    let adapted = template.adaptToolMessages(messages, tools: ToolCallFixtures.tools, support: support)
    let text = try template.render(messages: adapted, tools: ToolCallFixtures.tools)
    #expect(text.contains(#"{"name": "get_weather", "arguments": {"city": "Paris", "days": 3}}"#))
    #expect(text.contains("<tool_response>\nSunny, 21 °C\n</tool_response>"))
  }

  @Test func templatesWithoutToolsGetTheGenericFormat() throws {
    let template = try ToolCallFixtures.template("google-gemma-2-2b-it")
    let support = TemplateToolSupport(probing: template)
    let messages: [JinjaValue] = [
      ToolCallFixtures.user, ToolCallFixtures.assistant(.noArgumentCall),
      ["role": "tool", "tool_call_id": "call00001", "content": "12:00"],
      ["role": "user", "content": "Thanks"],
    ]
    let adapted = template.adaptToolMessages(messages, tools: ToolCallFixtures.tools, support: support)
    let text = try template.render(messages: adapted, tools: ToolCallFixtures.tools)
    #expect(text.contains(#"{"tool_calls": [{"name": "get_time", "arguments": {}}]}"#))
    #expect(text.contains(#""content": "12:00""#) && text.contains("Thanks"))
    #expect(text.contains(#"{"response": "<your answer>"}"#))
    #expect(text.contains(#""name": "get_weather""#))
    // The description's reply format is what the generic parser reads.
    let reply = ToolCallParser.parse(
      #"{"tool_calls": [{"name": "get_time", "arguments": {}}]}"#, format: ToolCallFormat(family: .generic))
    #expect(reply.toolCalls.map(\.name) == ["get_time"])
  }
}
