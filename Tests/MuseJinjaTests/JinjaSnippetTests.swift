import Foundation
import MuseTestSupport
import Testing

@testable import MuseJinja

/// The interpreter feature by feature (literals, operators, methods, filters, tests, loops,
/// macros, whitespace control, errors), each small template checked against jinja2's own
/// rendering in transformers' environment (snippets.json, written by Scripts/golden/template_golden.py).
struct JinjaSnippetTests {
  struct Snippet: CustomTestStringConvertible, Sendable {
    let index: Int
    let template: String
    let output: String?
    let error: String?
    var testDescription: String { "#\(index) \(PythonString.repr(String(template.prefix(60))))" }
  }

  static let file: JinjaDict? = {
    guard
      let data = try? Data(contentsOf: TestPaths.fixtures.appendingPathComponent("templates/snippets.json")),
      case .dict(let d)? = try? JinjaValue(json: data)
    else { return nil }
    return d
  }()

  static let snippets: [Snippet] = {
    guard case .array(let items)? = file?["snippets"] else { return [] }
    return items.enumerated().compactMap { i, item in
      guard case .dict(let d) = item, case .string(let template)? = d["template"] else { return nil }
      return Snippet(
        index: i, template: template, output: d["output"]?.stringValue, error: d["error"]?.stringValue)
    }
  }()

  @Test func snippetsAreLoaded() {
    #expect(Self.snippets.count > 60)
  }

  @Test(arguments: snippets)
  func rendersLikeJinja2(_ snippet: Snippet) throws {
    guard case .dict(let vars)? = Self.file?["variables"] else { throw GoldenFormatError() }
    var variables: [String: JinjaValue] = [:]
    for (k, v) in vars { variables[k.stringValue] = v }
    do {
      let text = try JinjaTemplate(snippet.template).render(variables)
      #expect(
        snippet.error == nil, "rendered \(PythonString.repr(text)), but jinja2 raises \(snippet.error ?? "")")
      if let want = snippet.output { #expect(text == want) }
    } catch let error as JinjaError {
      #expect(
        snippet.output == nil,
        "raised \(error), but jinja2 renders \(PythonString.repr(snippet.output ?? ""))")
      if let want = snippet.error { #expect(error.message == want) }
    }
  }

  struct GoldenFormatError: Error {}
}
