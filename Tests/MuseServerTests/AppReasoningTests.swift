import Foundation
import MuseModels
import MuseTestSupport
import Testing

@testable import MuseServer

struct AppReasoningTests {
  func split(_ pieces: [String], startsInReasoning: Bool = false) -> (reasoning: String, content: String) {
    var splitter = ReasoningSplitter(startsInReasoning: startsInReasoning)
    var reasoning = ""
    var content = ""
    for part in pieces.flatMap({ splitter.feed($0) }) + splitter.finish() {
      switch part {
      case .reasoning(let t): reasoning += t
      case .content(let t): content += t
      }
    }
    return (reasoning, content)
  }

  @Test func thinkTagsAreSplitWhereverThePiecesAreCut() {
    let text = "<think>\nLet me see: 2 + 2.\n</think>\n\nIt is 4."
    // Every way of cutting the text in two, and one character at a time.
    for cut in 0...text.count {
      let i = text.index(text.startIndex, offsetBy: cut)
      let r = split([String(text[..<i]), String(text[i...])])
      #expect(r.reasoning == "\nLet me see: 2 + 2.\n" && r.content == "It is 4.", "cut at \(cut)")
    }
    let r = split(text.map { String($0) })
    #expect(r.reasoning == "\nLet me see: 2 + 2.\n" && r.content == "It is 4.")
  }

  @Test func repliesWithoutThinkingAreLeftAlone() {
    #expect(split(["Hello ", "<b>world</b>"]) == ("", "Hello <b>world</b>"))
    #expect(split(["<thin", "g>"]) == ("", "<thing>"))
    #expect(split(["I said <think> later"]) == ("", "I said <think> later"))
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
    #expect(qwen3.supportsReasoning && qwen3.emitsThinkTags)
    guard case .bool(true)? = qwen3.variables(thinking: true)["enable_thinking"],
      case .bool(false)? = qwen3.variables(thinking: false)["enable_thinking"]
    else {
      Issue.record("enable_thinking is not passed as the switch says")
      return
    }
    let oss = try template("openai-gpt-oss-120b.jinja")
    #expect(oss.supportsReasoning)
    let smol = try template("HuggingFaceTB-SmolLM2-135M-Instruct.jinja")
    #expect(!smol.supportsReasoning && !smol.emitsThinkTags && smol.variables(thinking: true).isEmpty)
  }
}
