import ArgumentParser
import Foundation
import MuseEngine
import MuseKernels

/// `muse bench verify`: what signed answers cost and what checking them costs — decode with
/// and without the activation commitment, and checking a reply by its commitment (one prefill
/// pass) against generating it again.
struct BenchVerifyCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "verify",
    abstract: "Measure the activation commitment's cost and verification by commitment vs re-generation.")

  @Option(name: .shortAndLong, help: "GGUF model file (default: SmolLM2-135M-Instruct).") var model: String?
  @Option(name: .long, help: "Threads.") var threads = ProcessInfo.processInfo.activeProcessorCount
  @Option(name: .long, help: "Prompt tokens.") var promptTokens = 128
  @Option(name: .long, help: "Generated tokens.") var genTokens = 256
  @Option(name: .long, help: "Repetitions (each runs every measurement once, alternating).") var repetitions =
    3
  @Flag(name: .long, help: "Print one JSON object.") var json = false

  func run() throws {
    try reportingErrors {
      guard threads > 0, promptTokens > 0, genTokens > 0, repetitions > 0 else {
        throw ValidationError("--threads, --prompt-tokens, --gen-tokens and --repetitions must be positive")
      }
      let path = try DefaultModel.resolve(model)
      let lm = try LanguageModel(path: path, threads: threads)
      lm.kvCacheType = .f16
      let sample = try lm.measureVerification(
        promptTokens: promptTokens, generatedTokens: genTokens, repetitions: repetitions)
      if json {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        print(String(decoding: try encoder.encode(sample), as: UTF8.self))
        return
      }
      func median(_ v: [Double]) -> Double {
        let s = v.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
      }
      let on = median(sample.decodeWithCommitment)
      let off = median(sample.decodeWithoutCommitment)
      let check = median(sample.checkSeconds)
      let again = median(sample.regenerateSeconds)
      print(
        "model: \((path as NSString).lastPathComponent), \(threads) threads, \(KernelDispatch.cpuDescription)"
      )
      print("prompt \(sample.promptTokens) tokens, \(genTokens) generated, medians of \(repetitions)")
      print(String(format: "decode with commitment:    %8.2f tok/s", on))
      print(
        String(
          format: "decode without commitment: %8.2f tok/s  (commitment costs %.2f %%)", off,
          (off - on) / off * 100))
      print(
        String(
          format:
            "recording the commitment:  %8.2f µs per token (%.3f %% of a token at the decode rate above)",
          sample.recorderMicrosecondsPerToken, sample.recorderMicrosecondsPerToken * on / 1e4))
      print(String(format: "check by commitment:       %8.1f ms", check * 1000))
      print(
        String(format: "re-generate and compare:   %8.1f ms  (%.1f× the check)", again * 1000, again / check))
      print("every check passed and every re-generation matched: \(sample.allVerified)")
      if !sample.allVerified { throw ExitCode.failure }
    }
  }
}
