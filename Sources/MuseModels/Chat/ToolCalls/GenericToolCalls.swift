import MuseJinja

/// The format for templates that do not render tools: the tools are described in a system
/// message, and the model answers with one JSON object, either
/// `{"tool_calls": [{"name": "…", "arguments": {…}}]}` or `{"response": "…"}`
/// (`ToolCallFamily.generic` parses it).
public enum GenericToolCalls {
  /// The system text that describes the tools and the reply format to the model.
  /// `replyFormat: false` gives only the tools' description, for templates of another family
  /// that do not show tools themselves.
  public static func systemPrompt(tools: [JinjaValue], parallel: Bool = true, replyFormat: Bool = true)
    -> String
  {
    let lines = tools.compactMap { tool -> String? in
      guard case .dict(let t) = tool else { return nil }
      let function = t["function"] ?? tool
      return try? function.jsonString()
    }
    let description = "You can use these tools, described as JSON schemas:\n" + lines.joined(separator: "\n")
    guard replyFormat else { return description }
    return description + "\n\n" + """
      Reply with one JSON object and nothing else. To call tools:
      {"tool_calls": [{"name": "<tool name>", "arguments": {<arguments as the tool's schema says>}}]}
      \(parallel ? "List several calls to make them together." : "Call one tool at a time.")
      To answer the user instead:
      {"response": "<your answer>"}
      """
  }

  /// A past assistant turn's calls as the generic reply that would have made them.
  static func replyText(calls: [JinjaValue]) -> String {
    var list: [JinjaValue] = []
    for call in calls {
      guard case .dict(let c) = call, case .dict(let f)? = c["function"] else { continue }
      var arguments = f["arguments"] ?? .dict(JinjaDict())
      if case .string(let s) = arguments, let parsed = try? JinjaValue(json: s) { arguments = parsed }
      list.append(["name": f["name"] ?? "", "arguments": arguments])
    }
    let reply: JinjaValue = ["tool_calls": .array(list)]
    return (try? reply.jsonString()) ?? ""
  }
}
