import Foundation
import MuseJinja

/// What a chat template can show the model about tools, found by rendering probe
/// conversations (as llama.cpp's template capabilities are), not by the template's name.
public struct TemplateToolSupport: Sendable, Equatable {
  /// How a template wants `tool_calls[].function.arguments`: OpenAI clients send a JSON string;
  /// most templates iterate or `tojson` an object; a few (Functionary v3.2) concatenate a string.
  public enum ArgumentsForm: Sendable, Equatable { case object, string }

  public var rendersTools = false
  public var rendersToolCalls = false
  public var rendersParallelToolCalls = false
  public var rendersToolResults = false
  public var rendersReasoning = false
  public var rendersSystemRole = false
  public var argumentsForm = ArgumentsForm.object
  /// The family detected from the template's source (`ToolCallFormat(templateSource:)`).
  public var family = ToolCallFamily.generic

  public init(probing template: ChatTemplate) {
    family = ToolCallFamily.detect(in: template.source)
    func render(_ messages: [JinjaValue], tools: [JinjaValue]? = nil, prompt: Bool = false) -> String? {
      try? template.render(
        messages: messages, tools: tools, addGenerationPrompt: prompt, now: Date(timeIntervalSince1970: 0))
    }
    let user: JinjaValue = ["role": "user", "content": "muse_probe_question"]
    let tool: JinjaValue = [
      "type": "function",
      "function": [
        "name": "muse_probe_tool", "description": "A probe.",
        "parameters": ["type": "object", "properties": ["muse_probe_arg": ["type": "string"]]],
      ],
    ]
    let tools = [tool]
    func call(_ name: String, id: String, _ arguments: JinjaValue) -> JinjaValue {
      ["id": .string(id), "type": "function", "function": ["name": .string(name), "arguments": arguments]]
    }
    func turn(_ calls: [JinjaValue]) -> [JinjaValue] {
      [
        user, ["role": "assistant", "content": "", "tool_calls": .array(calls)],
        [
          "role": "tool", "tool_call_id": "call00001", "name": "muse_probe_tool",
          "content": "muse_probe_result",
        ],
      ]
    }
    rendersTools = render([user], tools: tools, prompt: true)?.contains("muse_probe_tool") == true
    rendersSystemRole =
      render([["role": "system", "content": "muse_probe_system"], user], prompt: true)?.contains(
        "muse_probe_system")
      == true
    let object: JinjaValue = ["muse_probe_arg": "muse_probe_value"]
    let objectText = render(turn([call("muse_probe_tool", id: "call00001", object)]), tools: tools)
    let stringText = render(
      turn([call("muse_probe_tool", id: "call00001", #"{"muse_probe_arg": "muse_probe_value"}"#)]),
      tools: tools)
    // An object shown as JSON, XML parameters or keyword arguments; not a Python dict's repr
    // (`{{ arguments }}` where a string was wanted) nor escaped (`tojson` of a string).
    let objectShown =
      objectText.map {
        $0.contains("muse_probe_tool") && $0.contains("muse_probe_value")
          && !$0.contains("{'muse_probe_arg': 'muse_probe_value'}")
          && !$0.contains(#"\"muse_probe_value\""#)
      } == true
    let stringShown = stringText?.contains(#"{"muse_probe_arg": "muse_probe_value"}"#) == true
    argumentsForm = !objectShown && stringShown ? .string : .object
    rendersToolCalls = objectShown || stringShown
    let chosen = argumentsForm == .object ? object : #"{"muse_probe_arg": "muse_probe_value"}"#
    let callsText = rendersToolCalls ? (argumentsForm == .object ? objectText : stringText) : nil
    rendersToolResults = callsText?.contains("muse_probe_result") == true
    let two = render(
      turn([
        call("muse_probe_tool", id: "call00001", chosen), call("muse_probe_second", id: "call00002", chosen),
      ]), tools: tools)
    rendersParallelToolCalls = rendersToolCalls && two?.contains("muse_probe_second") == true
    let reasoning = render([
      user, ["role": "assistant", "content": "muse_probe_answer", "reasoning_content": "muse_probe_thought"],
    ])
    rendersReasoning = reasoning?.contains("muse_probe_thought") == true
  }
}

extension ChatTemplate {
  /// OpenAI-shaped messages made ready for this template: call arguments in the form it wants
  /// (a JSON string parsed into an object, or an object written as a string); where it cannot
  /// render calls, past calls become the generic reply text and tool results user messages;
  /// where it does not render tools, their description joins the system message (or the first
  /// user message where it has no system role), with the generic reply format when the
  /// template's family is `.generic` (a family of its own, DeepSeek's, is left to the model).
  public func adaptToolMessages(_ messages: [JinjaValue], tools: [JinjaValue]?, support: TemplateToolSupport)
    -> [JinjaValue]
  {
    var out = messages.map { message -> JinjaValue in
      guard case .dict(var m) = message else { return message }
      if m["role"]?.stringValue == "assistant", case .array(let calls)? = m["tool_calls"], !calls.isEmpty {
        if !support.rendersToolCalls {
          let text = GenericToolCalls.replyText(calls: calls)
          var plain = JinjaDict()
          for (k, v) in m where k.stringValue != "tool_calls" { plain[k] = v }
          let content = m["content"].map { $0.isNone ? "" : $0.stringValue } ?? ""
          plain["content"] = .string(content.isEmpty ? text : content + "\n" + text)
          return .dict(plain)
        }
        m["tool_calls"] = .array(calls.map { Self.adapt(call: $0, to: support.argumentsForm) })
        return .dict(m)
      }
      if m["role"]?.stringValue == "tool", !support.rendersToolCalls {
        let result: JinjaValue = [
          "tool_response": [
            "tool_call_id": m["tool_call_id"] ?? .none, "name": m["name"] ?? .none,
            "content": m["content"] ?? "",
          ]
        ]
        return ["role": "user", "content": .string((try? result.jsonString()) ?? "")]
      }
      return message
    }
    if !support.rendersToolCalls { out = Self.mergingConsecutiveUserMessages(out) }
    if let tools, !tools.isEmpty, !support.rendersTools {
      let prompt = GenericToolCalls.systemPrompt(tools: tools, replyFormat: support.family == .generic)
      if case .dict(var first)? = out.first, first["role"]?.stringValue == "system" {
        first["content"] = .string((first["content"]?.stringValue ?? "") + "\n\n" + prompt)
        out[0] = .dict(first)
      } else if support.rendersSystemRole {
        out.insert(["role": "system", "content": .string(prompt)], at: 0)
      } else if let i = out.firstIndex(where: { $0.role == "user" }), case .dict(var u) = out[i] {
        u["content"] = .string(prompt + "\n\n" + (u["content"]?.stringValue ?? ""))
        out[i] = .dict(u)
      }
    }
    return out
  }

  /// Tool results turned into user messages may follow each other (or a user message); templates
  /// that demand alternating roles get them as one message.
  static func mergingConsecutiveUserMessages(_ messages: [JinjaValue]) -> [JinjaValue] {
    var out: [JinjaValue] = []
    for message in messages {
      if message.role == "user", let last = out.last, last.role == "user", case .dict(var merged) = last,
        case .dict(let next) = message
      {
        merged["content"] = .string(
          (merged["content"]?.stringValue ?? "") + "\n\n" + (next["content"]?.stringValue ?? ""))
        out[out.count - 1] = .dict(merged)
      } else {
        out.append(message)
      }
    }
    return out
  }

  static func adapt(call: JinjaValue, to form: TemplateToolSupport.ArgumentsForm) -> JinjaValue {
    guard case .dict(var c) = call, case .dict(var f)? = c["function"], let arguments = f["arguments"] else {
      return call
    }
    switch (form, arguments) {
    case (.object, .string(let text)):
      guard case .dict? = try? JinjaValue(json: text) else { return call }
      f["arguments"] = try? JinjaValue(json: text)
    case (.string, .dict):
      guard let text = try? arguments.jsonString() else { return call }
      f["arguments"] = .string(text)
    default: return call
    }
    c["function"] = .dict(f)
    return .dict(c)
  }
}

extension JinjaValue {
  fileprivate var role: String? {
    guard case .dict(let d) = self else { return nil }
    return d["role"]?.stringValue
  }
}
