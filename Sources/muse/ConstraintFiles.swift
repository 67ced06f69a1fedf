import ArgumentParser
import Foundation
import MuseEngine
import MuseJinja

/// `--json-schema F.json` and `--grammar F.gbnf`: read and compiled before the model loads, so a
/// bad file is refused at once, its message naming the file and what is wrong.
enum ConstraintFiles {
  /// The constraint the options ask for (nil: none) and how long compiling it took.
  static func load(jsonSchema: String?, grammar: String?) throws -> (GenerationConstraint?, seconds: Double) {
    if jsonSchema != nil && grammar != nil {
      throw ValidationError("--json-schema and --grammar cannot be used together")
    }
    guard let path = jsonSchema ?? grammar else { return (nil, 0) }
    guard let data = FileManager.default.contents(atPath: path) else {
      throw ValidationError("\(path): cannot read the file")
    }
    guard let text = String(data: data, encoding: .utf8) else {
      throw ValidationError("\(path): not UTF-8 text")
    }
    let start = ContinuousClock.now
    let compiled: Grammar
    if jsonSchema != nil {
      let schema: JinjaValue
      do {
        schema = try JinjaValue(json: text)
      } catch {
        throw ValidationError("\(path): not JSON: \(error)")
      }
      do {
        compiled = try JSONSchemaGrammar.grammar(for: schema)
      } catch {
        throw ValidationError("\(path): \(error)")
      }
    } else {
      do {
        compiled = try Grammar(gbnf: text)
      } catch {
        throw ValidationError("\(path): \(error)")
      }
    }
    let elapsed = ContinuousClock.now - start
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    return (GenerationConstraint(grammar: compiled), seconds)
  }
}
