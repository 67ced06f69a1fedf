import Foundation
import MuseEngine
import MuseJinja
import MuseModels

/// How one chat reply is asked for and read back, for the API's chat route and the chat app
/// alike: the prompt (tools rendered by the model's own template, or described in a system
/// message where the template cannot show them), the grammar the reply must follow (a JSON
/// schema, the template's tool-call syntax, a GBNF grammar) and the reader that splits the
/// reply into content, reasoning and calls.
struct ChatReplyPlan {
  let prompt: [Int]
  let constraint: GenerationConstraint?
  let reader: ChatReplyReader

  /// - Throws: `OpenAIError` (400) naming the field for a schema or grammar Muse cannot
  ///   enforce, or messages the template refuses.
  init(
    runner: ModelRunner, messages: [JinjaValue], tools: ToolRequest?, output: OutputConstraintRequest?,
    extra: [String: JinjaValue]
  ) throws {
    if tools != nil, output != nil {
      throw OpenAIError.invalid(
        "'tools' and a JSON or grammar 'response_format' cannot be used together: send 'tool_choice': \"none\" "
          + "or drop 'response_format'.", param: "response_format", code: "unsupported_value")
    }
    let chat = runner.chatFormat
    let format = chat.format
    var adapted = messages
    if let template = chat.template, let support = chat.support {
      adapted = template.adaptToolMessages(messages, tools: tools?.tools, support: support)
    }
    let rendered: (text: String, tokens: [Int])
    do {
      rendered = try runner.model.renderChat(
        messages: adapted, tools: chat.support?.rendersTools == true ? tools?.tools : nil, extra: extra)
    } catch {
      throw OpenAIError.invalid(
        "The model's chat template rejected these messages: \(error)", code: "invalid_messages")
    }
    prompt = rendered.tokens
    let startsInReasoning = format.promptOpensReasoning(rendered.text)
    if let tools {
      reader = ChatReplyReader(
        parser: ToolCallParser(
          format: format, startsInReasoning: startsInReasoning, tools: ToolCatalog(openAITools: tools.tools)))
    } else if format.reasoning != nil {
      // No tools: only reasoning is split off; a call to no known tool is content.
      reader = ChatReplyReader(
        parser: ToolCallParser(
          format: format, startsInReasoning: startsInReasoning, tools: ToolCatalog(parameterTypes: [:])))
    } else {
      reader = ChatReplyReader()
    }
    let closesReasoning = startsInReasoning ? format.reasoning?.close : nil
    if let tools {
      constraint = try Self.toolConstraint(tools, format: format, afterReasoning: closesReasoning)
    } else if let output {
      constraint = try Self.outputConstraint(output, afterReasoning: closesReasoning)
    } else {
      constraint = nil
    }
  }

  /// The reply as JSON (any object, or one a schema allows) or as a GBNF grammar says. When the
  /// prompt leaves the model thinking, the grammar starts once it closes its reasoning.
  private static func outputConstraint(_ output: OutputConstraintRequest, afterReasoning close: String?)
    throws
    -> GenerationConstraint
  {
    let gbnf: String
    let param: String
    switch output {
    case .jsonObject:
      let rules = JSONSchemaGrammar.anyObjectGBNF(prefix: "out-")
      (gbnf, param) = ("root ::= \(rules.root)\n" + rules.rules, "response_format")
    case .jsonSchema(_, let schema):
      do {
        let rules = try JSONSchemaGrammar.gbnfRules(for: schema, prefix: "out-")
        (gbnf, param) = ("root ::= \(rules.root)\n" + rules.rules, "response_format.json_schema.schema")
      } catch {
        throw OpenAIError.invalid(
          "Invalid 'response_format.json_schema.schema': \(error)",
          param: "response_format.json_schema.schema",
          code: "unsupported_schema")
      }
    case .grammar(let text):
      (gbnf, param) = (text, "grammar")
    }
    return try constraint(gbnf: gbnf, param: param, afterReasoning: close, triggers: nil)
  }

  /// Calls as the template's family writes them, to the request's tools, their arguments
  /// following each tool's `parameters`. `auto` leaves the reply free until the model writes a
  /// call opener (a lazy grammar); `required` and a named tool constrain it from the start.
  /// Templates that cannot show tools get the generic JSON reply, constrained throughout.
  static func toolConstraint(_ tools: ToolRequest, format: ToolCallFormat, afterReasoning close: String?)
    throws -> GenerationConstraint
  {
    var callable = tools.parameters
    var parallel = tools.parallel
    if case .named(let name) = tools.choice {
      // As OpenAI does: a named function is called once.
      callable = callable.filter { $0.name == name }
      parallel = false
    }
    var argumentRules = ""
    var grammarTools: [ToolCallGrammar.Tool] = []
    for (i, tool) in callable.enumerated() {
      do {
        let rules = try JSONSchemaGrammar.gbnfRules(for: tool.schema, prefix: "arg\(i)-")
        argumentRules += rules.rules
        grammarTools.append(ToolCallGrammar.Tool(name: tool.name, argumentsRule: rules.root))
      } catch {
        let index = tools.names.firstIndex(of: tool.name) ?? i
        throw OpenAIError.invalid(
          "Invalid 'tools[\(index)].function.parameters': \(error)",
          param: "tools[\(index)].function.parameters",
          code: "unsupported_schema")
      }
    }
    let generic = format.family == .generic
    let lazy = tools.choice == .auto && !generic
    let calls = ToolCallGrammar.gbnf(
      format: format, tools: grammarTools, required: tools.choice != .auto || lazy, parallel: parallel,
      contentBeforeCall: false)
    return try constraint(
      gbnf: calls + argumentRules, param: "tools", afterReasoning: close,
      triggers: lazy ? format.triggers : nil)
  }

  /// Compiles `gbnf`; with `afterReasoning`, the grammar waits for the reasoning's close marker
  /// (itself the trigger) and then applies. With `triggers`, it waits for one of them instead.
  private static func constraint(
    gbnf: String, param: String, afterReasoning close: String?, triggers: [String]?
  )
    throws -> GenerationConstraint
  {
    do {
      if let triggers {
        // A trigger the call syntax does not begin with (Llama's `<|python_tag|>` before the
        // JSON, Functionary v3.2's `>>>` before a name) is put in front of it.
        let grammar = try Grammar(gbnf: gbnf)
        let prefixes = triggers.filter { (try? GenerationConstraint.lazy(grammar, triggers: [$0])) == nil }
        guard !prefixes.isEmpty else { return try .lazy(grammar, triggers: triggers) }
        let start =
          "muse-lazy ::= root | "
          + prefixes.map { "\(GBNFText.literal($0)) [ \\t\\n]* root" }.joined(separator: " | ")
        return try .lazy(Grammar(gbnf: start + "\n" + gbnf, root: "muse-lazy"), triggers: triggers)
      }
      if let close {
        let start = "muse-after-reasoning ::= \(GBNFText.literal(close)) [ \\t\\n]* root\n"
        return try .lazy(Grammar(gbnf: start + gbnf, root: "muse-after-reasoning"), triggers: [close])
      }
      return GenerationConstraint(grammar: try Grammar(gbnf: gbnf))
    } catch let error as GrammarError {
      throw OpenAIError.invalid("Invalid '\(param)': \(error)", param: param, code: "invalid_grammar")
    }
  }
}
