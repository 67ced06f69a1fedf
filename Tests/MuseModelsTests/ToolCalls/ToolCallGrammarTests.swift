import Foundation
import Testing

@testable import MuseModels

/// The call grammars: well-formed GBNF whose only outside references are the argument rules.
struct ToolCallGrammarTests {
  static let tools = [
    ToolCallGrammar.Tool(name: "get_weather", argumentsRule: "get-weather-args"),
    ToolCallGrammar.Tool(name: "get_time", argumentsRule: "get-time-args"),
  ]

  /// Rule names defined and referenced (outside string literals and character classes).
  static func rules(_ gbnf: String) -> (defined: [String], referenced: Set<String>) {
    var defined: [String] = []
    var referenced = Set<String>()
    for line in gbnf.split(separator: "\n") {
      guard let sep = line.range(of: " ::= ") else { continue }
      defined.append(String(line[..<sep.lowerBound]))
      var inString = false
      var inClass = false
      var escaped = false
      var word = ""
      for c in line[sep.upperBound...] {
        if escaped {
          escaped = false
          continue
        }
        if c == "\\" {
          escaped = true
          continue
        }
        if !inClass && c == "\"" { inString.toggle() }
        if !inString && c == "[" { inClass = true }
        if !inString && c == "]" { inClass = false }
        if !inString && !inClass && (c.isLetter || c.isNumber || c == "-") {
          word.append(c)
        } else {
          if !word.isEmpty, !(word.first!.isNumber) { referenced.insert(word) }
          word = ""
        }
      }
      if !word.isEmpty, !(word.first!.isNumber) { referenced.insert(word) }
    }
    return (defined, referenced)
  }

  @Test(arguments: ToolCallFamily.allCases)
  func everyReferenceIsDefinedOrAnArgumentRule(_ family: ToolCallFamily) {
    let format = ToolCallFormat(family: family)
    for (required, parallel, content) in [(true, true, false), (false, false, true)] {
      let gbnf = ToolCallGrammar.gbnf(
        format: format, tools: Self.tools, required: required, parallel: parallel, contentBeforeCall: content)
      let (defined, referenced) = Self.rules(gbnf)
      #expect(defined.first == "root")
      #expect(Set(defined).count == defined.count, "duplicate rules in \(family)")
      #expect(defined.allSatisfy { $0 == "root" || $0.hasPrefix("tc-") })
      let outside = referenced.subtracting(defined)
      let isXML = [
        .qwen3CoderXML, .seedXML, .glmXML, .minimaxXML, .museATEM, .deepseekDSML, .gemma4, .pythonicList,
      ]
      .contains(family)
      #expect(outside.isSubset(of: ["get-weather-args", "get-time-args"]), "\(family): \(outside)")
      if !isXML { #expect(outside == ["get-weather-args", "get-time-args"], "\(family)") }
      #expect(gbnf.contains("\"get_weather\"") && gbnf.contains("\"get_time\""))
    }
  }

  @Test func hermesGrammarShape() {
    let gbnf = ToolCallGrammar.gbnf(
      format: ToolCallFormat(family: .hermes), tools: Self.tools, required: true, parallel: false,
      contentBeforeCall: false)
    #expect(gbnf.hasPrefix("root ::= tc-calls\n"))
    #expect(gbnf.contains(#"tc-calls ::= "<tool_call>" tc-ws tc-call tc-ws "</tool_call>""#))
    #expect(gbnf.contains("tc-call ::= tc-call-0 | tc-call-1"))
    let parallel = ToolCallGrammar.gbnf(
      format: ToolCallFormat(family: .hermes), tools: Self.tools, required: false, parallel: true,
      contentBeforeCall: true)
    #expect(parallel.hasPrefix("root ::= tc-content tc-calls | tc-free\n"))
  }

  /// Arguments rules as the lead appends them (here: any JSON object).
  static let argumentRules = #"""
    get-weather-args ::= test-object
    get-time-args ::= test-object
    test-object ::= "{" tc-ws (test-member (tc-ws "," tc-ws test-member)*)? tc-ws "}"
    test-member ::= tc-string tc-ws ":" tc-ws test-value
    test-value ::= test-object | test-array | tc-string | "-"? [0-9]+ ("." [0-9]+)? | "true" | "false" | "null"
    test-array ::= "[" tc-ws (test-value (tc-ws "," tc-ws test-value)*)? tc-ws "]"
    """#

  /// The calls each template writes (two calls, a call without arguments), from the first
  /// trigger on, are accepted by the family's grammar; a call to a tool not in the grammar,
  /// or one call where only one is allowed, is not.
  @Test func grammarsAcceptTheCallsTemplatesWrite() throws {
    var checked: Set<ToolCallFamily> = []
    for name in ToolCallFixtures.templateNames {
      let template = try ToolCallFixtures.template(name)
      guard TemplateToolSupport(probing: template).rendersToolCalls else { continue }
      let format = ToolCallFormat(templateSource: template.source)
      for c in [ToolCallFixtures.Case.twoCalls, .noArgumentCall]
      where ToolCallRoundTripTests.cannotExpress[name]?[c] == nil {
        var text = try ToolCallFixtures.renderedReply(template, c).text
        if !format.replyStartsAfterOpener {
          guard let start = format.triggers.compactMap({ text.range(of: $0)?.lowerBound }).min() else {
            Issue.record("\(name): no trigger in \(text.debugDescription)")
            continue
          }
          text = String(text[start...])
        }
        while text.last?.isWhitespace == true { text.removeLast() }
        // GigaChat ends a call's message with its separator, which the parser drops.
        if text.hasSuffix("<|message_sep|>") { text.removeLast("<|message_sep|>".count) }
        if format.family == .harmony { text += "<|call|>" }
        let grammar = try GBNFMatcher(
          ToolCallGrammar.gbnf(
            format: format, tools: Self.tools, required: true, parallel: true, contentBeforeCall: false)
            + Self.argumentRules)
        #expect(grammar.matches(text), "\(name) \(c): \(text.debugDescription)")
        let onlyTime = try GBNFMatcher(
          ToolCallGrammar.gbnf(
            format: format, tools: [Self.tools[1]], required: true, parallel: true, contentBeforeCall: false)
            + Self.argumentRules)
        if c == .twoCalls { #expect(!onlyTime.matches(text), "\(name): get_weather is not a tool here") }
        let single = try GBNFMatcher(
          ToolCallGrammar.gbnf(
            format: format, tools: Self.tools, required: true, parallel: false, contentBeforeCall: false)
            + Self.argumentRules)
        #expect(single.matches(text) == (c == .noArgumentCall), "\(name) \(c): parallel false")
        checked.insert(format.family)
      }
    }
    // Every family some template renders was checked.
    #expect(checked.count >= 20, "\(checked)")
  }
}
