import ArgumentParser
import Foundation
import MuseEngine
import MuseJinja

/// `muse schema check SCHEMA.json [--instances FILE.jsonl]`: whether Muse can enforce a JSON
/// Schema, and whether its grammar accepts given instances (one JSON value a line, the exact text).
struct SchemaCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "schema", abstract: "Check JSON Schemas against Muse's constrained decoding.",
    subcommands: [SchemaCheckCommand.self])
}

struct SchemaCheckCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "check",
    abstract: "Compile a JSON Schema to a grammar; print {\"accepted\": …} for each instance line.")

  @Argument(help: "JSON Schema file (with --gbnf: a GBNF grammar file).") var schema: String
  @Flag(
    name: .long, help: "The file is a GBNF grammar (as llama-server's `grammar` field), not a JSON Schema.")
  var gbnf = false
  @Option(name: .long, help: "File of instances, one JSON value a line (matched as written).") var instances:
    String?

  func run() throws {
    try reportingErrors {
      let (constraint, _) = try ConstraintFiles.load(
        jsonSchema: gbnf ? nil : schema, grammar: gbnf ? schema : nil)
      guard let grammar = constraint?.grammar else { return }
      guard let instances else {
        print("\(schema): compiles")
        return
      }
      guard let data = FileManager.default.contents(atPath: instances) else {
        throw ValidationError("\(instances): cannot read the file")
      }
      // Split on the byte 10 (not on Characters), so each line is exactly the bytes written.
      var lines = data.split(separator: 10, omittingEmptySubsequences: false)
      if lines.last?.isEmpty == true { lines.removeLast() }
      for line in lines {
        print(#"{"accepted": \#(grammar.accepts(String(decoding: line, as: UTF8.self)))}"#)
      }
    }
  }
}
