import Foundation
import MuseModels
import MuseTestSupport
import Testing

@testable import MuseServer

struct AppReasoningTests {
  /// The app's reader for a template that thinks in `<think>…</think>` (no tools).
  func split(_ pieces: [String], startsInReasoning: Bool = false) -> (reasoning: String, content: String) {
    let format = ToolCallFormat(templateSource: "{{ '<think>' }}{{ '</think>' }}")
    var reader = ChatReplyReader(
      parser: ToolCallParser(
        format: format, startsInReasoning: startsInReasoning, tools: ToolCatalog(parameterTypes: [:])))
    for piece in pieces { _ = reader.read(piece) }
    _ = reader.finish()
    return (reader.reply.reasoning, reader.reply.content)
  }

  @Test func thinkTagsAreSplitWhereverThePiecesAreCut() {
    let text = "<think>\nLet me see: 2 + 2.\n</think>\n\nIt is 4."
    // Every way of cutting the text in two, and one character at a time.
    for cut in 0...text.count {
      let i = text.index(text.startIndex, offsetBy: cut)
      let r = split([String(text[..<i]), String(text[i...])])
      #expect(r.reasoning == "Let me see: 2 + 2." && r.content == "It is 4.", "cut at \(cut)")
    }
    let r = split(text.map { String($0) })
    #expect(r.reasoning == "Let me see: 2 + 2." && r.content == "It is 4.")
  }

  @Test func repliesWithoutThinkingAreLeftAlone() {
    #expect(split(["Hello ", "<b>world</b>"]) == ("", "Hello <b>world</b>"))
    #expect(split(["<thin", "g>"]) == ("", "<thing>"))
    // The prompt opened the reasoning: only the closing tag comes.
    #expect(split(["Hmm.", "</thi", "nk>Yes."], startsInReasoning: true) == ("Hmm.", "Yes."))
    // Cut off while thinking: everything so far is reasoning.
    #expect(split(["<think>still going"]) == ("still going", ""))
  }

  @Test func templatesSayWhetherTheyReason() throws {
    func template(_ name: String) throws -> ReasoningTemplate {
      ReasoningTemplate(try String(contentsOfFile: TestPaths.fixture("templates/\(name)"), encoding: .utf8))
    }
    let qwen3 = try template("Qwen-Qwen3-0.6B.jinja")
    #expect(qwen3.supportsReasoning && ToolCallFormat(templateSource: qwen3.source).reasoning != nil)
    guard case .bool(true)? = qwen3.variables(thinking: true)["enable_thinking"],
      case .bool(false)? = qwen3.variables(thinking: false)["enable_thinking"]
    else {
      Issue.record("enable_thinking is not passed as the switch says")
      return
    }
    let oss = try template("openai-gpt-oss-120b.jinja")
    #expect(oss.supportsReasoning)
    let smol = try template("HuggingFaceTB-SmolLM2-135M-Instruct.jinja")
    #expect(!smol.supportsReasoning && ToolCallFormat(templateSource: smol.source).reasoning == nil)
    #expect(smol.variables(thinking: true).isEmpty)
  }
}
