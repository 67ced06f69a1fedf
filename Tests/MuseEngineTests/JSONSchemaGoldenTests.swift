import Foundation
import MuseJinja
import MuseTestSupport
import Testing

@testable import MuseEngine

/// The JSON Schema grammar against the `jsonschema` package's verdicts
/// (Scripts/golden/json_schema_golden.py): for every feature, the grammar accepts exactly the
/// instances jsonschema calls valid, except the valid ones a documented policy never generates
/// (each named in the fixture); it never accepts an invalid one.
struct JSONSchemaGoldenTests {
  struct Golden: Decodable {
    struct Case: Decodable {
      let name: String
      let schema: String
      let instances: [Instance]
    }
    struct Instance: Decodable {
      let json: String
      let valid: Bool
      let grammar: Bool
      let policy: String?
    }
    let cases: [Case]
  }

  static let golden = try? TestPaths.golden("golden/json-schema.json", as: Golden.self)

  static func names() -> [String] { golden?.cases.map(\.name) ?? ["missing fixture"] }

  @Test(arguments: names())
  func grammarAcceptsExactlyTheValidInstances(name: String) throws {
    let golden = try #require(Self.golden, "Tests/Fixtures/golden/json-schema.json is missing or unreadable")
    let c = try #require(golden.cases.first { $0.name == name })
    let grammar = try JSONSchemaGrammar.grammar(for: JinjaValue(json: c.schema))
    for instance in c.instances {
      #expect(!instance.grammar || instance.valid, "fixture: \(instance.json) expected accepted but invalid")
      let matcher = GrammarMatcher(grammar: grammar)
      let accepted = matcher.accept(Array(instance.json.utf8)) && matcher.canEnd
      #expect(
        accepted == instance.grammar,
        "\(name): \(instance.json) — jsonschema says \(instance.valid ? "valid" : "invalid")\(instance.policy.map { " (policy: \($0))" } ?? ""), grammar \(accepted ? "accepts" : "refuses")"
      )
    }
  }
}
