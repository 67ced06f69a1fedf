import ArgumentParser
import Foundation
import MuseKernels
import MuseModels

struct InspectCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "inspect",
    abstract: "Describe a GGUF model: architecture, size, quantization, tokenizer, template.")

  @Argument(help: "GGUF file.") var file: String
  @Flag(name: .long, help: "Also list every metadata key and tensor.") var all = false

  func run() throws {
    try reportingErrors {
      let gguf = try GGUFFile(path: file)
      let summary = ModelSummary(file: gguf)
      print("file:           \(file) (GGUF v\(gguf.version), \(formatBytes(gguf.fileSize)))")
      print("architecture:   \(gguf.architecture ?? "(none)")")
      if let name = gguf.metadata["general.name"]?.string { print("name:           \(name)") }
      if summary.totalParameters > 0 {
        print("parameters:     \(formatCount(summary.totalParameters)) total", terminator: "")
        if summary.activeParameters != summary.totalParameters {
          print(", \(formatCount(summary.activeParameters)) active per token", terminator: "")
        }
        print("")
      }
      if let config = summary.config {
        print(
          "shape:          \(config.layerCount) layers, width \(config.embeddingLength), "
            + "\(config.headCount) query / \(config.kvHeadCount) KV heads of \(config.headDim), "
            + "context \(config.contextLength), vocabulary \(config.vocabularySize)")
        if config.isMixtureOfExperts {
          print(
            "experts:        \(config.expertCount) experts, \(config.expertsPerToken) per token, "
              + "FFN \(config.expertFeedForwardLength)"
              + (config.sharedExpertFeedForwardLength > 0
                ? ", shared expert \(config.sharedExpertFeedForwardLength)" : "")
              + (config.normalizeTopK ? ", top-k renormalised" : ""))
        }
      } else if let reason = summary.configError {
        print("model:          not runnable: \(reason)")
      }
      print(
        "quantization:   "
          + summary.quantizationMix.map { "\($0.type.name) \($0.tensors) tensors (\(formatBytes($0.bytes)))" }
          .joined(separator: ", "))
      let m = gguf.metadata
      if let model = m["tokenizer.ggml.model"]?.string {
        let vocab = m["tokenizer.ggml.tokens"]?.array?.count ?? 0
        let pre = m["tokenizer.ggml.pre"]?.string.map { ", pre-tokenizer \($0)" } ?? ""
        let bos = m["tokenizer.ggml.bos_token_id"]?.int.map { ", BOS \($0)" } ?? ""
        let eos = m["tokenizer.ggml.eos_token_id"]?.int.map { ", EOS \($0)" } ?? ""
        print("tokenizer:      \(model), \(vocab) tokens\(pre)\(bos)\(eos)")
      }
      if let template = m["tokenizer.chat_template"]?.string {
        let parses = (try? ChatTemplate(source: template)) != nil
        print("chat template:  \(template.count) characters\(parses ? "" : " (does not parse)")")
        print(
          template.split(separator: "\n", omittingEmptySubsequences: false).map { "    " + $0 }.joined(
            separator: "\n"))
      }
      if all {
        print("\nmetadata:")
        for key in gguf.metadataKeys { print("  \(key) = \(gguf.metadata[key]!.summary)") }
        print("\ntensors:")
        for name in gguf.tensorNames {
          let t = gguf.tensors[name]!
          print("  \(name) \(t.shape) \(t.type.name)")
        }
      }
    }
  }
}

func formatBytes(_ n: Int) -> String {
  let units = ["B", "KiB", "MiB", "GiB", "TiB"]
  var v = Double(n)
  var i = 0
  while v >= 1024 && i < units.count - 1 {
    v /= 1024
    i += 1
  }
  return i == 0 ? "\(n) B" : String(format: "%.1f %@", v, units[i])
}

func formatCount(_ n: Int) -> String {
  switch n {
  case 1_000_000_000...: String(format: "%.2f B", Double(n) / 1e9)
  case 1_000_000...: String(format: "%.1f M", Double(n) / 1e6)
  case 1_000...: String(format: "%.1f K", Double(n) / 1e3)
  default: "\(n)"
  }
}
