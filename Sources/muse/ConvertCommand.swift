import ArgumentParser
import Foundation
import MuseModels

struct ConvertCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "convert",
    abstract: "Convert a Hugging Face checkpoint folder (config.json + safetensors) to a GGUF file.")

  @Argument(help: "Folder with config.json, *.safetensors and tokenizer.json.") var folder: String
  @Option(name: .long, help: "Output GGUF file.") var to: String
  @Option(name: .long, help: "Weight format: q8_0, q4_0, q4_k or f16.") var type: String = "q8_0"
  @Flag(name: .long, help: "Overwrite the output file if it exists.") var force = false

  func validate() throws {
    guard HuggingFaceConverter.Target(rawValue: type.lowercased()) != nil else {
      throw ValidationError(
        "--type must be one of \(HuggingFaceConverter.Target.allCases.map(\.rawValue).joined(separator: ", "))"
      )
    }
    if !force && FileManager.default.fileExists(atPath: to) {
      throw ValidationError("\(to) exists; pass --force to overwrite it")
    }
  }

  func run() throws {
    try reportingErrors {
      let target = HuggingFaceConverter.Target(rawValue: type.lowercased())!
      let converter = try HuggingFaceConverter(folder: folder, target: target)
      if converter.tokenizer == nil {
        printError("note: \(folder) has no tokenizer.json; the GGUF will have no tokenizer")
      }
      for p in converter.plan where p.note != nil { printError("note: \(p.name): \(p.note!)") }
      var bar = ProgressBar(label: "converting")
      let plan = try converter.write(to: to) { bar.update($0) }
      let arch = converter.checkpoint.architecture ?? "?"
      print("wrote \(to): \(arch), \(plan.count) tensors, \(target.rawValue)")
    }
  }
}
