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
  @Option(name: .long, help: "OpenAI's frequency penalty, -2 to 2 (0 disables).") var frequencyPenalty:
    Float = 0
  @Option(name: .long, help: "OpenAI's presence penalty, -2 to 2 (0 disables).") var presencePenalty: Float =
    0
  @Option(name: .long, help: "Random seed for reproducible sampling.") var seed: UInt64?
  @Option(name: .shortAndLong, help: "Threads (default: all cores).") var threads: Int?
  @Option(name: .long, help: "Context window (default: the model's).") var context: Int?
  @Option(name: .long, help: "Experts used per token in MoE layers (default: the model's).") var experts: Int?
  @Option(name: .long, help: "Stop when this text appears (repeatable).") var stop: [String] = []
  @Option(name: .long, help: "A Jinja chat template file to use instead of the model's.") var chatTemplate:
    String?
  @Option(name: .long, help: "A JSON Schema file the output must follow (ends when the JSON is complete).")
  var jsonSchema: String?
  @Option(
    name: .long, help: "A GBNF grammar file (llama.cpp syntax, start rule 'root') the output must follow.")
  var grammar: String?
  @Option(
    name: .customLong("var"),
    help: "Template variable key=value, e.g. enable_thinking=false or reasoning_effort=high; repeatable.")
  var variables: [String] = []

  /// Every number in range before anything loads, each refusal naming its option.
  func validate() throws {
    func check(_ ok: Bool, _ option: String, _ range: String) throws {
      guard ok else { throw ValidationError("\(option) takes \(range)") }
    }
    try check((1...10_000_000).contains(maxTokens), "-n/--max-tokens", "a whole number from 1 to 10000000")
    try check(temp.isFinite && (0...10).contains(temp), "--temp", "a number from 0 to 10")
    try check(topK >= 0, "--top-k", "a whole number of at least 0")
    try check(topP > 0 && topP <= 1, "--top-p", "a number above 0 and at most 1")
    try check((0...1).contains(minP), "--min-p", "a number from 0 to 1")
    try check(repeatPenalty > 0 && repeatPenalty <= 10, "--repeat-penalty", "a number above 0 and at most 10")
    try check((-2...2).contains(frequencyPenalty), "--frequency-penalty", "a number from -2 to 2")
    try check((-2...2).contains(presencePenalty), "--presence-penalty", "a number from -2 to 2")
    try check(threads.map { (1...1024).contains($0) } ?? true, "--threads", "a whole number from 1 to 1024")
    try check(
      context.map { (1...10_000_000).contains($0) } ?? true, "--context", "a whole number from 1 to 10000000")
    try check(experts.map { $0 >= 1 } ?? true, "--experts", "a whole number of at least 1")
    try check(!stop.contains(""), "--stop", "a non-empty text")
    guard jsonSchema == nil || grammar == nil else {
      throw ValidationError("--json-schema and --grammar cannot be used together")
    }
  }

  func run() throws {
    ProcessMemory.keepFreedMemory()
    try reportingErrors {
      let (constraint, _) = try ConstraintFiles.load(jsonSchema: jsonSchema, grammar: grammar)
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
      var sampling = SamplingParameters(
        temperature: temp, topK: topK, topP: topP, minP: minP, repetitionPenalty: repeatPenalty, seed: seed)
      sampling.frequencyPenalty = frequencyPenalty
      sampling.presencePenalty = presencePenalty
      let result = try lm.generate(
        prompt: tokens, maxTokens: maxTokens, sampling: sampling, stop: stop, constraint: constraint
      ) { piece in
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
