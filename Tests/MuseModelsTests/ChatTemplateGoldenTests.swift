import Foundation
import MuseTestSupport
import Testing

@testable import MuseJinja
@testable import MuseModels

/// Every template in Tests/Fixtures/templates rendered for every conversation, against jinja2
/// in transformers' chat-template environment (golden.json, written by
/// Scripts/golden/template_golden.py). Byte-for-byte output, or the same error message.
struct ChatTemplateGoldenTests {
  struct Case: CustomTestStringConvertible, Sendable {
    let template: String
    let conversation: String
    var testDescription: String { "\(template) × \(conversation)" }
  }

  /// golden.json parsed with Muse's own JSON reader, which keeps key order as Python does.
  static let golden: JinjaDict? = {
    guard
      let data = try? Data(contentsOf: TestPaths.fixtures.appendingPathComponent("templates/golden.json")),
      case .dict(let d)? = try? JinjaValue(json: data)
    else { return nil }
    return d
  }()

  static let cases: [Case] = {
    guard let golden, case .dict(let templates)? = golden["templates"] else { return [] }
    return templates.flatMap { template, results -> [Case] in
      guard case .dict(let r) = results else { return [] }
      return r.stringKeys.map { Case(template: template.stringValue, conversation: $0) }
    }
  }()

  static let now: Date = {
    var c = DateComponents()
    (c.year, c.month, c.day, c.hour, c.minute, c.second) = (2024, 7, 26, 14, 30, 5)
    return Calendar(identifier: .gregorian).date(from: c)!
  }()

  @Test func goldenFileCoversEveryTemplate() throws {
    let files = try FileManager.default.contentsOfDirectory(atPath: TestPaths.fixture("templates"))
      .filter { $0.hasSuffix(".jinja") }
    #expect(Set(Self.cases.map(\.template)) == Set(files))
    #expect(Self.cases.count == files.count * 9)
    #expect(files.count >= 56)
  }

  @Test(arguments: cases)
  func rendersLikeJinja2(_ c: Case) throws {
    let golden = try #require(Self.golden)
    guard case .dict(let conversations)? = golden["conversations"],
      case .dict(let conversation)? = conversations[c.conversation],
      case .dict(let templates)? = golden["templates"], case .dict(let results)? = templates[c.template],
      case .dict(let expected)? = results[c.conversation],
      case .array(let messages)? = conversation["messages"]
    else { throw GoldenFormatError() }
    var tools: [JinjaValue]?
    if case .array(let t)? = conversation["tools"] { tools = t }
    var extra: [String: JinjaValue] = [:]
    if case .dict(let e)? = conversation["extra"] { for (k, v) in e { extra[k.stringValue] = v } }

    let source = try String(contentsOfFile: TestPaths.fixture("templates/" + c.template), encoding: .utf8)
    let outcome: Result<String, Error> = Result {
      try ChatTemplate(source: source).render(
        messages: messages, tools: tools,
        addGenerationPrompt: conversation["add_generation_prompt"]?.isTruthy ?? false,
        bosToken: golden["bos_token"]?.stringValue, eosToken: golden["eos_token"]?.stringValue, extra: extra,
        now: Self.now)
    }
    switch (outcome, expected["output"], expected["error"]) {
    case (.success(let text), .string(let want)?, _):
      #expect(text == want, "\(firstDifference(text, want))")
    case (.failure(let error as JinjaError), _, .string(let want)?):
      #expect(error.message == want)
    case (.success(let text), _, .string(let want)?):
      Issue.record("rendered \(text.count) characters, but jinja2 raises: \(want)")
    case (.failure(let error), _, _):
      Issue.record(
        "raised \(error), but jinja2 renders: \(expected["output"]?.stringValue.prefix(200) ?? "")")
    default:
      throw GoldenFormatError()
    }
  }

  struct GoldenFormatError: Error {}

  /// Where two renderings part, with a little context, so a failure says what differs.
  private func firstDifference(_ a: String, _ b: String) -> String {
    let x = Array(a.unicodeScalars)
    let y = Array(b.unicodeScalars)
    let i = zip(x, y).prefix { $0 == $1 }.count
    func around(_ s: [Unicode.Scalar]) -> String {
      PythonString.repr(String(String.UnicodeScalarView(s[max(0, i - 40)..<min(s.count, i + 40)])))
    }
    return "first difference at scalar \(i): got \(around(x)) want \(around(y))"
  }
}
