import ArgumentParser
import Foundation
import MuseModels

struct TokenizeCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "tokenize", abstract: "Print the tokens of a text under a model's tokenizer.")

  @Option(name: .shortAndLong, help: "GGUF model (or vocabulary-only) file.") var model: String
  @Option(name: .long, help: "Text to tokenize.") var text: String?
  @Option(name: .long, help: "File whose contents to tokenize.") var file: String?
  @Flag(name: .long, help: "Print ids, one line, space-separated (default prints pieces).") var ids = false
  @Flag(name: .long, help: "Add BOS/EOS as the model does.") var addSpecial = false
  @Flag(name: .long, help: "Treat special-token text (e.g. <|im_start|>) as plain text.") var noParseSpecial =
    false

  func validate() throws {
    guard (text == nil) != (file == nil) else {
      throw ValidationError("give exactly one of --text or --file")
    }
  }

  func run() throws {
    try reportingErrors {
      let input: String
      if let file {
        guard let data = FileManager.default.contents(atPath: file) else {
          throw ValidationError("\(file): cannot read the file")
        }
        input = String(decoding: data, as: UTF8.self)
      } else {
        input = text ?? ""
      }
      let tokenizer = try Tokenizer(gguf: try GGUFFile(path: model))
      let tokens = tokenizer.encode(input, addSpecial: addSpecial, parseSpecial: !noParseSpecial)
      if ids {
        print(tokens.map(String.init).joined(separator: " "))
      } else {
        for t in tokens { print("\(t)\t\(tokenizer.piece(t).debugDescription)") }
      }
    }
  }
}
