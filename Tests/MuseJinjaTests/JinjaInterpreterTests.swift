import Foundation
import Testing

@testable import MuseJinja

/// What jinja2 goldens cannot check: error positions, the Swift API, JSON conversion and
/// Python number formatting at its edges.
struct JinjaInterpreterTests {
  private func render(_ source: String, _ variables: [String: JinjaValue] = [:]) throws -> String {
    try JinjaTemplate(source).render(variables)
  }

  private func error(_ source: String, _ variables: [String: JinjaValue] = [:]) -> JinjaError? {
    do {
      _ = try render(source, variables)
      return nil
    } catch {
      return error as? JinjaError
    }
  }

  @Test func syntaxErrorsNameLineAndColumn() throws {
    let e = try #require(error("line one\n{% if x %}\n  {{ 1 + }}\n{% endif %}"))
    #expect(e.kind == .syntax)
    #expect(e.position == JinjaPosition(line: 3, column: 10))
    let unclosed = try #require(error("a\n{% for x in y %}{{ x }}"))
    #expect(unclosed.message.contains("endfor"))
    #expect(unclosed.position?.line == 2)
    #expect(error("{% frobnicate %}")?.message == "Encountered unknown tag 'frobnicate'.")
    #expect(error("{{ 'abc }}")?.kind == .syntax)
  }

  @Test func runtimeErrorsNameTheirPosition() throws {
    let e = try #require(error("ok\n  {{ raise_exception('bad role') }}"))
    #expect(e.kind == .raised)
    #expect(e.message == "bad role")
    #expect(e.position == JinjaPosition(line: 2, column: 6))
    let u = try #require(
      error("{% for m in messages %}\n{{ m.content.strip() }}{% endfor %}", ["messages": [["role": "user"]]]))
    #expect(u.kind == .undefined)
    #expect(u.message == "'dict object' has no attribute 'content'")
    #expect(u.position?.line == 2)
  }

  @Test func jsonKeepsKeyOrderAndNumberKinds() throws {
    let v = try JinjaValue(json: #"{"z": 1, "a": [1.0, 2.5e3, -3, true, null, "é\n\u00e9\ud83d\ude00"]}"#)
    #expect(try v.jsonString() == #"{"z": 1, "a": [1.0, 2500.0, -3, true, null, "é\né😀"]}"#)
    #expect(v.repr == #"{'z': 1, 'a': [1.0, 2500.0, -3, True, None, 'é\né😀']}"#)
    #expect(
      try v.jsonString(indent: "  ")
        == "{\n  \"z\": 1,\n  \"a\": [\n    1.0,\n    2500.0,\n    -3,\n    true,\n    null,\n    \"é\\né😀\"\n  ]\n}"
    )
  }

  @Test func foundationObjectsConvert() throws {
    let object = try JSONSerialization.jsonObject(
      with: Data(#"{"n": 3, "f": 1.5, "b": false, "s": "x"}"#.utf8))
    let v = JinjaValue(any: object)
    #expect(try render("{{ v.n }} {{ v.f }} {{ v.b }} {{ v.s }}", ["v": v]) == "3 1.5 False x")
  }

  @Test func floatsPrintLikePython() {
    let cases: [(Double, String)] = [
      (1, "1.0"), (0.1, "0.1"), (1e16, "1e+16"), (9.5e15, "9500000000000000.0"), (1e-5, "1e-05"),
      (0.0001, "0.0001"), (-2.5, "-2.5"), (123456.789, "123456.789"), (1.5e300, "1.5e+300"),
    ]
    for (d, want) in cases { #expect(PythonFloat.repr(d) == want) }
  }

  @Test func strftimeUsesTheInjectedClock() throws {
    var c = DateComponents()
    (c.year, c.month, c.day) = (2025, 3, 9)
    let date = Calendar(identifier: .gregorian).date(from: c)!
    let text = try JinjaTemplate("{{ strftime_now('%d %b %Y') }}|{{ strftime_now('%B %d, %Y') }}").render(
      [:], now: date)
    #expect(text == "09 Mar 2025|March 09, 2025")
  }

  @Test func namespacesSurviveLoopsButPlainSetsDoNot() throws {
    let source =
      "{% set ns = namespace(n=0) %}{% set plain = 0 %}{% for i in range(4) %}"
      + "{% set ns.n = ns.n + i %}{% set plain = plain + i %}{% endfor %}{{ ns.n }}/{{ plain }}"
    #expect(try render(source) == "6/0")
  }
}
