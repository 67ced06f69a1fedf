/// The ways model families write tool calls. Chosen from the template's own text
/// (`ToolCallFormat(templateSource:)`), never from a model's name.
public enum ToolCallFamily: String, Sendable, CaseIterable {
  /// Hermes / Qwen 2.5–3 / Granite 4: `<tool_call>\n{"name": …, "arguments": {…}}\n</tool_call>`.
  case hermes
  /// MiniMax-M1, Apriel: `<tool_calls>` with JSON objects (one a line, or a list) `</tool_calls>`.
  case jsonToolCallsBlock
  /// Nemotron Nano v2: `<TOOLCALL>[{…}, …]</TOOLCALL>`.
  case nemotronToolCall
  /// Granite 3.x: `<|tool_call|>[{…}, …]`.
  case granite
  /// Mistral Nemo: `[TOOL_CALLS][{"name": …, "arguments": {…}, "id": …}, …]`.
  case mistralJSONList
  /// Mistral Small 3.2, Devstral, Ministral 3: `[TOOL_CALLS]NAME[ARGS]{…}` per call.
  case mistralNamedArguments
  /// Command R+: `Action:\n```json\n[{"tool_name": …, "parameters": {…}}]\n````.
  case commandRAction
  /// Command R7B / Command A: `<|START_ACTION|>[{"tool_call_id": …, "tool_name": …, "parameters": …}]<|END_ACTION|>`.
  case commandR7B
  /// Llama 3.x: the reply is `{"name": …, "parameters": {…}}` (or after `<|python_tag|>`).
  case llama3JSON
  /// GigaChat 3 / 3.1: `function call<|role_sep|>\n{…}` / `<|function_call|>{"name": …, "arguments": {…}}`.
  case gigaChatFunctionCall
  /// Qwen3-Coder, Qwen3.5, Nemotron 3: `<tool_call>\n<function=NAME>\n<parameter=K>\nV\n</parameter>\n</function>\n</tool_call>`.
  case qwen3CoderXML
  /// Seed-OSS: the same inside `<seed:tool_call>`.
  case seedXML
  /// GLM-4.5/4.6, Laguna: `<tool_call>NAME\n<arg_key>K</arg_key>\n<arg_value>V</arg_value>\n</tool_call>`.
  case glmXML
  /// MiniMax-M2: `<minimax:tool_call>\n<invoke name="N">\n<parameter name="K">V</parameter>\n</invoke>\n</minimax:tool_call>`.
  case minimaxXML
  /// DeepSeek V3.2 / V4: `<｜DSML｜function_calls>` (or `tool_calls`) with DSML invokes; `string="true"` types values.
  case deepseekDSML
  /// Muse Glimmer's ATEM: `<atem:function_calls>\n<atem:invoke name="N">\n<atem:parameter name="K">V</atem:parameter>…`,
  /// in segments `<|start|>assistant to=RECIPIENT<|message|>…<|eom|>` (`to=self` is reasoning).
  case museATEM
  /// DeepSeek R1: `<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>NAME\n```json\n{…}\n```<｜tool▁call▁end｜>…`.
  case deepseekR1
  /// DeepSeek V3.1: `<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>NAME<｜tool▁sep｜>{…}<｜tool▁call▁end｜>…`.
  case deepseekV31
  /// Kimi K2: `<|tool_calls_section_begin|><|tool_call_begin|>functions.NAME:0<|tool_call_argument_begin|>{…}<|tool_call_end|>…`.
  case kimiK2
  /// gpt-oss harmony: `<|channel|>commentary to=functions.NAME <|constrain|>json<|message|>{…}<|call|>`;
  /// the analysis channel is reasoning.
  case harmony
  /// Functionary v3.1: `<function=NAME>{…}</function>`.
  case functionaryV31
  /// Functionary v3.2: `>>>NAME\n{…}`; `>>>all\n` is content. The prompt ends with `>>>`.
  case functionaryV32
  /// Gemma 4: `<|tool_call>call:NAME{key:<|"|>text<|"|>,n:3}<tool_call|>`.
  case gemma4
  /// LFM2: `<|tool_call_start|>[name(key='text', n=3), …]<|tool_call_end|>`.
  case pythonicList
  /// Any other template: the reply is `{"tool_calls": [{"name": …, "arguments": {…}}]}` or
  /// `{"response": "…"}`, as `GenericToolCalls.systemPrompt(tools:)` tells the model.
  case generic
}

/// Reasoning delimiters written in the reply (`<think>` … `</think>` and its relatives).
public struct ReasoningMarkers: Sendable, Equatable {
  public var open: String
  public var close: String
}

/// What the parser needs to split a family's replies.
public struct ToolCallFormat: Sendable {
  public let family: ToolCallFamily
  public var reasoning: ReasoningMarkers?
  var syntax: CallSyntax
  let segments: SegmentSyntax?
  /// Markers that carry no text (Command R7B's `<|START_RESPONSE|>`), dropped from content.
  let droppedMarkers: [String]
  /// The prompt ends inside a call opener, so the reply starts after it (Functionary v3.2's `>>>`).
  let replyStartsAfterOpener: Bool

  public init(family: ToolCallFamily, reasoning: ReasoningMarkers? = nil) {
    self.family = family
    self.reasoning = reasoning
    self.syntax = family.syntax
    self.segments = family.segments
    switch family {
    case .commandR7B: droppedMarkers = ["<|START_RESPONSE|>", "<|END_RESPONSE|>"]
    // GigaChat 3 writes a call as its own message after the content's `<|message_sep|>`.
    case .gigaChatFunctionCall: droppedMarkers = ["<|message_sep|>"]
    default: droppedMarkers = []
    }
    self.replyStartsAfterOpener = family == .functionaryV32
  }

  /// The family whose markers the template writes, and its reasoning delimiters, the way
  /// llama.cpp's `common/chat.cpp` recognises templates: by what their source contains.
  public init(templateSource s: String) {
    self.init(family: ToolCallFamily.detect(in: s), reasoning: ReasoningMarkers.detect(in: s))
    if family == .deepseekDSML, !s.contains("function_calls"), case .xmlParameters(var x) = syntax {
      (x.blockOpen, x.blockClose) = ("<｜DSML｜tool_calls>", "</｜DSML｜tool_calls>")
      syntax = .xmlParameters(x)
    }
  }

  /// The texts that begin a call, for a lazy grammar's triggers (a call can only start with one
  /// of these). Harmony's is `to=functions.` inside a header; Functionary v3.2's `>>>`.
  public var triggers: [String] {
    switch syntax {
    case .jsonBlock(let s): return s.openers
    case .named(let s): return [s.sectionOpen ?? s.callOpen]
    case .xmlParameters(let s): return [s.blockOpen]
    case .delimited(let s): return [s.open]
    case .headersOnly: return ["to=functions."]
    }
  }

  /// Whether a rendered prompt leaves the model inside reasoning (it ends with the open marker).
  public func promptOpensReasoning(_ prompt: String) -> Bool {
    guard let reasoning else { return false }
    var end = prompt[...]
    while let last = end.last, last.isWhitespace { end = end.dropLast() }
    return end.hasSuffix(reasoning.open)
  }
}

extension ToolCallFamily {
  /// Most specific markers first: several families share `<tool_call>`.
  static func detect(in s: String) -> ToolCallFamily {
    if s.contains("<|channel|>") && (s.contains("functions.") || s.contains("<|constrain|>")) {
      return .harmony
    }
    if s.contains("<atem:function_calls>") { return .museATEM }
    if s.contains("｜DSML｜") { return .deepseekDSML }
    if s.contains("<｜tool▁calls▁begin｜>") {
      return s.contains("function<｜tool▁sep｜>") || s.contains("```json") ? .deepseekR1 : .deepseekV31
    }
    if s.contains("<|tool_calls_section_begin|>") { return .kimiK2 }
    if s.contains("<|tool_call>") && s.contains("call:") { return .gemma4 }
    if s.contains("<|tool_call_start|>") { return .pythonicList }
    if s.contains("<minimax:tool_call>") { return .minimaxXML }
    if s.contains("<arg_key>") { return .glmXML }
    if s.contains("<function=") && s.contains("<parameter=") {
      return s.contains("<seed:tool_call>") ? .seedXML : .qwen3CoderXML
    }
    if s.contains("[TOOL_CALLS]") { return s.contains("[ARGS]") ? .mistralNamedArguments : .mistralJSONList }
    if s.contains("<|START_ACTION|>") { return .commandR7B }
    if s.contains("Action:") && s.contains("```json") { return .commandRAction }
    if s.contains(">>>all") { return .functionaryV32 }
    if s.contains("<function=") { return .functionaryV31 }
    if s.contains("<|tool_call|>") { return .granite }
    if s.contains("<TOOLCALL>") { return .nemotronToolCall }
    if s.contains("<tool_calls>") { return .jsonToolCallsBlock }
    if s.contains("<tool_call>") { return .hermes }
    if s.contains("<|function_call|>") || (s.contains("<|role_sep|>") && s.contains("function call")) {
      return .gigaChatFunctionCall
    }
    if s.contains("<|python_tag|>") || s.contains(#"{"name": ""#) { return .llama3JSON }
    return .generic
  }

  var segments: SegmentSyntax? {
    switch self {
    case .harmony:
      SegmentSyntax(
        ends: ["<|end|>", "<|call|>", "<|return|>"], functionRecipientPrefix: "functions.",
        reasoningChannels: ["analysis"])
    case .museATEM: SegmentSyntax(ends: ["<|eom|>", "<|eot|>"], reasoningRecipients: ["self"])
    default: nil
    }
  }

  var syntax: CallSyntax {
    func json(_ openers: [String], closer: String? = nil) -> CallSyntax {
      .jsonBlock(JSONBlockSyntax(openers: openers, closer: closer))
    }
    func xml(_ block: String, _ close: String, invoke: String, invokeClose: String, prefix: String)
      -> CallSyntax
    {
      .xmlParameters(
        XMLParameterSyntax(
          blockOpen: block, blockClose: close, invokeOpen: "<\(prefix)invoke name=\"", nameEnd: "\">",
          invokeClose: invokeClose, parameterOpen: "<\(prefix)parameter name=\"", parameterNameEnd: "\"",
          attributesEnd: ">", parameterClose: "</\(prefix)parameter>"))
    }
    switch self {
    case .hermes: return json(["<tool_call>"], closer: "</tool_call>")
    case .jsonToolCallsBlock: return json(["<tool_calls>"], closer: "</tool_calls>")
    case .nemotronToolCall: return json(["<TOOLCALL>"], closer: "</TOOLCALL>")
    case .granite: return json(["<|tool_call|>"])
    case .mistralJSONList: return json(["[TOOL_CALLS]"])
    case .gigaChatFunctionCall: return json(["<|function_call|>", "function call<|role_sep|>"])
    case .commandR7B:
      var s = JSONBlockSyntax(openers: ["<|START_ACTION|>"], closer: "<|END_ACTION|>")
      s.nameKeys = ["tool_name", "name"]
      return .jsonBlock(s)
    case .commandRAction:
      var s = JSONBlockSyntax(openers: ["Action:"])
      s.fenced = true
      s.nameKeys = ["tool_name", "name"]
      return .jsonBlock(s)
    case .llama3JSON:
      var s = JSONBlockSyntax(openers: ["<|python_tag|>", #"{"name""#, #"{ "name""#])
      s.openerIsPartOfJSON = true
      return .jsonBlock(s)
    case .generic:
      var s = JSONBlockSyntax(openers: ["{"])
      s.openerIsPartOfJSON = true
      s.onlyAtStart = true
      s.callListKey = "tool_calls"
      s.responseKey = "response"
      return .jsonBlock(s)
    case .qwen3CoderXML, .seedXML:
      let seed = self == .seedXML
      return .xmlParameters(
        XMLParameterSyntax(
          blockOpen: seed ? "<seed:tool_call>" : "<tool_call>",
          blockClose: seed ? "</seed:tool_call>" : "</tool_call>",
          invokeOpen: "<function=", nameEnd: ">", invokeClose: "</function>", parameterOpen: "<parameter=",
          parameterNameEnd: ">", parameterClose: "</parameter>", trimNewlines: true))
    case .glmXML:
      return .xmlParameters(
        XMLParameterSyntax(
          blockOpen: "<tool_call>", blockClose: "</tool_call>", invokeOpen: nil, nameEnd: "\n",
          invokeClose: nil,
          parameterOpen: "<arg_key>", parameterNameEnd: "</arg_key>", valueOpen: "<arg_value>",
          parameterClose: "</arg_value>"))
    case .minimaxXML:
      return xml(
        "<minimax:tool_call>", "</minimax:tool_call>", invoke: "", invokeClose: "</invoke>", prefix: "")
    case .museATEM:
      return xml(
        "<atem:function_calls>", "</atem:function_calls>", invoke: "", invokeClose: "</atem:invoke>",
        prefix: "atem:")
    case .deepseekDSML:
      // V3.2 writes `function_calls`; V4's `tool_calls` is chosen in `init(templateSource:)`.
      return xml(
        "<｜DSML｜function_calls>", "</｜DSML｜function_calls>", invoke: "", invokeClose: "</｜DSML｜invoke>",
        prefix: "｜DSML｜")
    case .deepseekR1, .deepseekV31:
      return .named(
        NamedCallSyntax(
          sectionOpen: "<｜tool▁calls▁begin｜>", sectionClose: "<｜tool▁calls▁end｜>",
          callOpen: "<｜tool▁call▁begin｜>",
          nameEnds: ["<｜tool▁sep｜>", "\n"], typePrefix: self == .deepseekR1 ? "function" : nil,
          fenced: self == .deepseekR1, callClose: "<｜tool▁call▁end｜>"))
    case .kimiK2:
      return .named(
        NamedCallSyntax(
          sectionOpen: "<|tool_calls_section_begin|>", sectionClose: "<|tool_calls_section_end|>",
          callOpen: "<|tool_call_begin|>", nameEnds: ["<|tool_call_argument_begin|>"], namespacedIds: true,
          callClose: "<|tool_call_end|>"))
    case .mistralNamedArguments:
      return .named(
        NamedCallSyntax(callOpen: "[TOOL_CALLS]", nameEnds: ["[ARGS]", "[CALL_ID]"], idMarker: "[CALL_ID]"))
    case .functionaryV31:
      return .named(NamedCallSyntax(callOpen: "<function=", nameEnds: [">"], callClose: "</function>"))
    case .functionaryV32:
      return .named(NamedCallSyntax(callOpen: ">>>", nameEnds: ["\n"], contentRecipient: "all"))
    case .harmony: return .headersOnly
    case .gemma4:
      return .delimited(DelimitedCallSyntax(open: "<|tool_call>", close: "<tool_call|>", notation: .gemma))
    case .pythonicList:
      return .delimited(
        DelimitedCallSyntax(open: "<|tool_call_start|>", close: "<|tool_call_end|>", notation: .pythonicList))
    }
  }
}

extension ReasoningMarkers {
  static func detect(in s: String) -> ReasoningMarkers? {
    for (open, close) in [
      ("<seed:think>", "</seed:think>"), ("[THINK]", "[/THINK]"), ("<|START_THINKING|>", "<|END_THINKING|>"),
      ("<think>", "</think>"),
    ] where s.contains(open) || s.contains(close) {
      return ReasoningMarkers(open: open, close: close)
    }
    return nil
  }
}
