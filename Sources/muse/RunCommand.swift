import ArgumentParser
import Foundation
import MuseEngine
import MuseKernels
import MuseModels

struct RunCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "run", abstract: "Generate text from a prompt, streaming it as it is produced.")

  @Option(name: .shortAndLong, help: "GGUF model file (default: SmolLM2-135M-Instruct).") var model: String?
  @Option(name: .shortAndLong, help: "The prompt (sent as a user message unless --raw).") var prompt: String
  @Option(name: .long, help: "A system message to put before the prompt.") var system: String?
  @Flag(name: .long, help: "Send the prompt as is, without the chat template.") var raw = false
  @Option(name: [.customShort("n"), .long], help: "Maximum tokens to generate.") var maxTokens = 256
  @Option(name: .long, help: "Sampling temperature (0 = greedy).") var temp: Float = 0.8
  @Option(name: .long, help: "Top-k (0 disables).") var topK = 40
  @Option(name: .long, help: "Top-p nucleus (1 disables).") var topP: Float = 0.95
  @Option(name: .long, help: "Min-p (0 disables).") var minP: Float = 0.05
  @Option(name: .long, help: "Repetition penalty (1 disables).") var repeatPenalty: Float = 1.0
  @Option(name: .long, help: "Random seed for reproducible sampling.") var seed: UInt64?
  @Option(name: .shortAndLong, help: "Threads (default: all cores).") var threads: Int?
  @Option(name: .long, help: "Context window (default: the model's).") var context: Int?
  @Option(name: .long, help: "Experts used per token in MoE layers (default: the model's).") var experts: Int?
  @Option(name: .long, help: "Stop when this text appears (repeatable).") var stop: [String] = []
  @Option(name: .long, help: "A Jinja chat template file to use instead of the model's.") var chatTemplate:
    String?
  @Option(
    name: .customLong("var"),
    help: "Template variable key=value, e.g. enable_thinking=false or reasoning_effort=high; repeatable.")
  var variables: [String] = []

  func run() throws {
    ProcessMemory.keepFreedMemory()
    try reportingErrors {
      let path = try DefaultModel.resolve(model)
      var bar = ProgressBar(label: "loading \((path as NSString).lastPathComponent)")
      let lm = try LanguageModel(
        path: path, options: ModelOptions(expertsPerToken: experts, contextLength: context), threads: threads,
        progress: { bar.update($0) })
      if let chatTemplate {
        guard let source = FileManager.default.contents(atPath: chatTemplate) else {
          throw ValidationError("\(chatTemplate): cannot read the template file")
        }
        let current = lm.chatTemplate
        lm.chatTemplate = try ChatTemplate(
          source: String(decoding: source, as: UTF8.self), bosToken: current?.bosToken ?? "",
          eosToken: current?.eosToken ?? "")
      }
      var messages: [ChatMessage] = []
      if let system { messages.append(ChatMessage(role: "system", content: system)) }
      messages.append(ChatMessage(role: "user", content: prompt))
      let tokens =
        raw
        ? lm.tokenizer.encode(prompt, addSpecial: true, parseSpecial: true)
        : try lm.chatPrompt(messages, extra: templateVariables(variables))
      let sampling = SamplingParameters(
        temperature: temp, topK: topK, topP: topP, minP: minP, repetitionPenalty: repeatPenalty, seed: seed)
      let result = try lm.generate(prompt: tokens, maxTokens: maxTokens, sampling: sampling, stop: stop) {
        piece in
        FileHandle.standardOutput.write(Data(piece.utf8))
        return true
      }
      print("")
      printError(
        String(
          format: "\nprompt: %d tokens, %.2f tok/s | generation: %d tokens, %.2f tok/s | finish: %@",
          result.promptTokens, result.prefillRate, result.tokens.count, result.decodeRate,
          result.finishReason.rawValue))
    }
  }
}
