import ArgumentParser
import Foundation
import MuseEngine
import MuseModels

struct PerplexityCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "perplexity", abstract: "Measure a model's perplexity on a text file.")

  @Option(name: .shortAndLong, help: "GGUF model file.") var model: String
  @Option(name: .shortAndLong, help: "Text file.") var file: String
  @Option(name: .long, help: "Tokens per window (the second half of each is scored).") var window = 512
  @Option(name: .long, help: "Score at most this many windows.") var windows: Int?
  @Option(name: .long, help: "Experts used per token in MoE layers (default: the model's).") var experts: Int?
  @Option(name: .shortAndLong, help: "Threads (default: all cores).") var threads: Int?

  func run() throws {
    try reportingErrors {
      guard let data = FileManager.default.contents(atPath: file) else {
        throw ValidationError("\(file): cannot read the file")
      }
      let lm = try LanguageModel(
        path: model, options: ModelOptions(expertsPerToken: experts), threads: threads)
      let result = try lm.perplexity(
        of: String(decoding: data, as: UTF8.self), window: window, maxWindows: windows
      ) { done, total in
        printError("window \(done)/\(total)")
      }
      print(
        String(
          format: "perplexity: %.4f over %d tokens (%d windows of %d, %.1f s)", result.perplexity,
          result.scoredTokens, result.windows, window, result.seconds))
    }
  }
}
