/// GBNF (llama.cpp's grammar syntax) for a family's call syntax, to constrain a reply to
/// well-formed calls of the request's tools. Each tool's arguments are matched by a rule the
/// caller names and appends (made from the tool's JSON schema elsewhere); every rule made here
/// is prefixed `tc-` except `root`, and `tc-ws` is the whitespace rule.
///
/// What each family's grammar enforces:
/// - JSON families (Hermes, `<tool_calls>`, `<TOOLCALL>`, Granite, Mistral's list, Command R,
///   Llama 3, GigaChat, generic) and name-then-JSON families (DeepSeek, Kimi, Mistral `[ARGS]`,
///   Functionary, harmony): the opener, the exact tool names, the arguments by the given rule,
///   the closers.
/// - XML-parameter families (Qwen3-Coder, Seed, GLM, MiniMax-M2, DeepSeek DSML, ATEM): the
///   outer structure and the tool names; parameter names are identifiers and values free text
///   without `</`, because the values are not JSON (the parser converts them), so the argument
///   rules are not used. Gemma 4 and LFM2's notations (not JSON either) likewise: the names and
///   the markers, with the arguments as free text.
public enum ToolCallGrammar {
  public struct Tool: Sendable {
    public var name: String
    /// The rule matching this tool's arguments object (a JSON object's text).
    public var argumentsRule: String
    public init(name: String, argumentsRule: String) {
      self.name = name
      self.argumentsRule = argumentsRule
    }
  }

  /// - Parameters:
  ///   - required: the reply must make a call (`tool_choice` required or named); when false,
  ///     `root` also accepts a reply without one. For a lazy grammar (free text until one of
  ///     `format.triggers`, then constrained from the trigger on) pass true and no content.
  ///   - parallel: more than one call is allowed (`parallel_tool_calls`); false: exactly one.
  ///   - contentBeforeCall: text may come before the call (it must not contain the first
  ///     character of the family's opener, a simplification that keeps the grammar linear).
  public static func gbnf(
    format: ToolCallFormat, tools: [Tool], required: Bool, parallel: Bool, contentBeforeCall: Bool
  ) -> String {
    var rules: [(String, String)] = []
    let calls = callRules(format, tools, &rules)
    rules.append(("tc-calls", sequence(format, calls: calls, parallel: parallel, required: required, &rules)))
    let opener = format.family == .harmony ? "t" : format.triggers.first ?? "<"
    let first = opener.unicodeScalars.first.map { escapeClass($0) } ?? "<"
    rules.append(("tc-content", "[^\(first)]*"))
    var root = contentBeforeCall ? "tc-content tc-calls" : "tc-calls"
    if !required { root += " | tc-free" }
    rules.append(("tc-free", "[^\(first)]*"))
    // Bounded, so a model cannot spend its tokens on whitespace between the parts of a call.
    rules.append(("tc-ws", "[ \\t\\n]{0,20}"))
    rules.append(
      ("tc-string", #""\"" ([^"\\\x7F\x00-\x1F] | "\\" (["\\/bfnrt] | "u" [0-9a-fA-F]{4}))* "\"""#))
    rules.append(("tc-xml-key", "[a-zA-Z0-9_.$-]+"))
    rules.append(("tc-xml-value", #"([^<] | "<" [^/])*"#))
    rules.append(("tc-free-text", #"([^<()] | "<|\"|>")*"#))
    return (["root ::= " + root] + rules.map { "\($0.0) ::= \($0.1)" }).joined(separator: "\n") + "\n"
  }

  /// One rule per tool for a single call, returned as the alternatives' rule names.
  private static func callRules(_ format: ToolCallFormat, _ tools: [Tool], _ rules: inout [(String, String)])
    -> [String]
  {
    tools.enumerated().map { i, tool in
      let name = literal(tool.name)
      let args = tool.argumentsRule
      let body: String
      switch format.family {
      case .hermes, .jsonToolCallsBlock, .nemotronToolCall, .granite, .mistralJSONList, .llama3JSON,
        .gigaChatFunctionCall, .generic, .commandRAction, .commandR7B:
        let cohere = [.commandRAction, .commandR7B].contains(format.family)
        let nameKey = cohere ? "tool_name" : "name"
        let argsKey =
          [.llama3JSON, .commandRAction, .commandR7B].contains(format.family) ? "parameters" : "arguments"
        // Command R7B writes a call id first, Mistral Nemo after the arguments.
        let leadingID = cohere ? #"("\"tool_call_id\"" tc-ws ":" tc-ws tc-string tc-ws "," tc-ws)? "# : ""
        let trailingID =
          format.family == .mistralJSONList ? #" (tc-ws "," tc-ws "\"id\"" tc-ws ":" tc-ws tc-string)?"# : ""
        body =
          #""{" tc-ws "# + leadingID
          + #""\"\#(nameKey)\"" tc-ws ":" tc-ws "\"" \#(name) "\"" tc-ws "," tc-ws "\"\#(argsKey)\"" tc-ws ":" tc-ws \#(args)"#
          + trailingID + #" tc-ws "}""#
      case .deepseekV31:
        body = #""<｜tool▁call▁begin｜>" \#(name) "<｜tool▁sep｜>" \#(args) "<｜tool▁call▁end｜>""#
      case .deepseekR1:
        body =
          #""<｜tool▁call▁begin｜>function<｜tool▁sep｜>" \#(name) "\n```json\n" \#(args) "\n```<｜tool▁call▁end｜>""#
      case .kimiK2:
        body =
          #""<|tool_call_begin|>functions." \#(name) ":" [0-9]+ "<|tool_call_argument_begin|>" \#(args) "<|tool_call_end|>""#
      case .mistralNamedArguments:
        body = #""[TOOL_CALLS]" \#(name) ("[CALL_ID]" [a-zA-Z0-9]+)? "[ARGS]" \#(args)"#
      case .functionaryV31: body = #""<function=" \#(name) ">" \#(args) "</function>""#
      case .functionaryV32: body = #"\#(name) "\n" \#(args)"#
      case .harmony:
        body = #"" "? "to=functions." \#(name) "<|channel|>commentary json<|message|>" \#(args) "<|call|>""#
      case .qwen3CoderXML, .seedXML:
        body =
          #""<function=" \#(name) ">" tc-ws ("<parameter=" tc-xml-key ">" tc-xml-value "</parameter>" tc-ws)* "</function>""#
      case .glmXML:
        body =
          #"\#(name) tc-ws ("<arg_key>" tc-xml-key "</arg_key>" tc-ws "<arg_value>" tc-xml-value "</arg_value>" tc-ws)*"#
      case .minimaxXML, .museATEM, .deepseekDSML:
        let p = format.family == .minimaxXML ? "" : format.family == .museATEM ? "atem:" : "｜DSML｜"
        let typed = format.family == .deepseekDSML ? #" "\" string=\"" ("true" | "false") "\">""# : #" "\">""#
        body =
          #""<\#(p)invoke name=\"" \#(name) "\">" tc-ws ("<\#(p)parameter name=\"" tc-xml-key\#(typed) tc-xml-value "</\#(p)parameter>" tc-ws)* "</\#(p)invoke>""#
      case .gemma4: body = #""<|tool_call>call:" \#(name) "{" tc-free-text "}<tool_call|>""#
      case .pythonicList: body = #"\#(name) "(" tc-free-text ")""#
      }
      rules.append(("tc-call-\(i)", body))
      return "tc-call-\(i)"
    }
  }

  /// The calls of one reply around the per-call rule `tc-call`.
  private static func sequence(
    _ format: ToolCallFormat, calls: [String], parallel: Bool, required: Bool,
    _ rules: inout [(String, String)]
  ) -> String {
    rules.append(("tc-call", calls.isEmpty ? #""""# : calls.joined(separator: " | ")))
    func repeated(_ item: String, separator: String) -> String {
      parallel ? "\(item) (\(separator) \(item))*" : item
    }
    let list = #""[" tc-ws "# + repeated("tc-call", separator: #"tc-ws "," tc-ws"#) + #" tc-ws "]""#
    switch format.family {
    case .hermes: return repeated(#""<tool_call>" tc-ws tc-call tc-ws "</tool_call>""#, separator: "tc-ws")
    case .jsonToolCallsBlock:
      return #""<tool_calls>" tc-ws ("# + list + " | " + repeated("tc-call", separator: "tc-ws")
        + #") tc-ws "</tool_calls>""#
    case .nemotronToolCall: return #""<TOOLCALL>" "# + list + #" "</TOOLCALL>""#
    case .granite: return #""<|tool_call|>" "# + list
    case .mistralJSONList: return #""[TOOL_CALLS]" "# + list
    case .commandR7B: return #""<|START_ACTION|>" "# + list + #" "<|END_ACTION|>""#
    case .commandRAction: return #""Action:" tc-ws "```json" tc-ws "# + list + #" tc-ws "```""#
    case .llama3JSON: return repeated("tc-call", separator: #"tc-ws ";" tc-ws"#)
    case .gigaChatFunctionCall: return #"("<|function_call|>" | "function call<|role_sep|>") tc-ws tc-call"#
    case .generic:
      // A required call leaves no room for the `response` form.
      let calls = #""{" tc-ws "\"tool_calls\"" tc-ws ":" tc-ws "# + list + #" tc-ws "}""#
      return required ? calls : calls + #" | "{" tc-ws "\"response\"" tc-ws ":" tc-ws tc-string tc-ws "}""#
    case .deepseekR1, .deepseekV31:
      return #""<｜tool▁calls▁begin｜>" "# + repeated("tc-call", separator: "tc-ws") + #" "<｜tool▁calls▁end｜>""#
    case .kimiK2:
      return #""<|tool_calls_section_begin|>" "# + repeated("tc-call", separator: "tc-ws")
        + #" "<|tool_calls_section_end|>""#
    case .mistralNamedArguments, .functionaryV31, .gemma4: return repeated("tc-call", separator: "tc-ws")
    case .functionaryV32: return repeated("tc-call", separator: #"">>>""#)
    case .harmony: return repeated("tc-call", separator: #""<|start|>assistant""#)
    case .pythonicList:
      return #""<|tool_call_start|>[" "# + repeated("tc-call", separator: #""," tc-ws"#)
        + #" "]<|tool_call_end|>""#
    case .glmXML: return repeated(#""<tool_call>" tc-call "</tool_call>""#, separator: "tc-ws")
    case .qwen3CoderXML, .seedXML:
      let (open, close) =
        format.family == .seedXML
        ? ("<seed:tool_call>", "</seed:tool_call>") : ("<tool_call>", "</tool_call>")
      return repeated(#""\#(open)" tc-ws tc-call tc-ws "\#(close)""#, separator: "tc-ws")
    case .museATEM:
      // Each call is its own segment: `…</atem:function_calls><|eom|><|start|>assistant to=NAME<|message|><atem:…`.
      return repeated(
        #""<atem:function_calls>" tc-ws tc-call tc-ws "</atem:function_calls>""#,
        separator: #""<|eom|><|start|>assistant to=" tc-xml-key "<|message|>""#)
    case .minimaxXML, .deepseekDSML:
      guard case .xmlParameters(let x) = format.syntax else { return "tc-call" }
      return #""\#(escape(x.blockOpen))" tc-ws "# + repeated("tc-call", separator: "tc-ws")
        + #" tc-ws "\#(escape(x.blockClose))""#
    }
  }

  /// A GBNF string literal.
  static func literal(_ text: String) -> String { "\"" + escape(text) + "\"" }

  static func escape(_ text: String) -> String {
    var out = ""
    for scalar in text.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      default: out.unicodeScalars.append(scalar)
      }
    }
    return out
  }

  private static func escapeClass(_ scalar: Unicode.Scalar) -> String {
    switch scalar {
    case "]", "\\", "^", "-": "\\" + String(scalar)
    case "\n": "\\n"
    default: String(scalar)
    }
  }
}
