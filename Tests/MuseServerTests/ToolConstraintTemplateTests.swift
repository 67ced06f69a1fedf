import Foundation
import MuseJinja
import MuseModels
import MuseTestSupport
import Testing

@testable import MuseServer

/// Every real template's call syntax compiles into the grammar `ChatReplyPlan` gives the
/// engine, with the request's argument schemas: lazy for `auto` (each of the family's triggers a
/// valid start), from the first token for `required` and a named tool, with and without
/// parallel calls. A failure here would turn a valid request into a 400.
struct ToolConstraintTemplateTests {
  @Test func everyFamilysCallGrammarCompiles() throws {
    let folder = TestPaths.fixture("templates")
    let names = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".jinja") }
    #expect(names.count > 50)
    let tools = try #require(
      try ToolFields.check(tools: try JinjaValue(json: ToolCallRouteTests.tools), choice: nil))
    var families: Set<String> = []
    for name in names.sorted() {
      let source = try String(contentsOfFile: folder + "/" + name, encoding: .utf8)
      let format = ToolCallFormat(templateSource: source)
      families.insert(format.family.rawValue)
      for choice in [ToolRequest.Choice.auto, .required, .named("get_time")] {
        for parallel in [true, false] {
          var request = tools
          request.choice = choice
          request.parallel = parallel
          for close in [nil, format.reasoning?.close] {
            #expect(
              throws: Never.self, "\(name) \(choice) parallel \(parallel) after reasoning \(close ?? "-")"
            ) {
              try ChatReplyPlan.toolConstraint(request, format: format, afterReasoning: close)
            }
          }
        }
      }
    }
    #expect(families.count >= 20, "\(families.sorted())")
  }
}
