import MuseEngine
import MuseJinja
import Testing

/// `Grammar.accepts` (the public check behind `muse schema check`) against what the `jsonschema`
/// package (4.26.0) says of the same instances.
struct GrammarAcceptanceTests {
  @Test func agreesWithJSONSchemaOnOneValidAndOneInvalidInstance() throws {
    let schema = try JinjaValue(
      json:
        ##"{"type":"object","properties":{"n":{"type":"integer","minimum":1}},"required":["n"],"additionalProperties":false}"##
    )
    let grammar = try JSONSchemaGrammar.grammar(for: schema)
    // jsonschema.validate({"n": 2}, schema) passes; {"n": "x"} fails ("'x' is not of type 'integer'").
    #expect(grammar.accepts(#"{"n":2}"#))
    #expect(!grammar.accepts(#"{"n":"x"}"#))
    // A prefix of a valid instance is not accepted: the text must end where the grammar may.
    #expect(!grammar.accepts(#"{"n":2"#))
  }
}
