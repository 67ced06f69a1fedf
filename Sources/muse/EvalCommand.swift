import ArgumentParser
import Foundation
import MuseEval
import MuseServer
import MuseStore

struct EvalCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "eval",
    abstract:
      "Run a benchmark (MMLU, MMLU-Pro, ARC, HellaSwag, TruthfulQA, HaluEval) against an OpenAI-compatible server.",
    discussion: """
      Scores by log-likelihood where the server returns prompt logprobs with echo (/v1/completions), \
      by generation (/v1/chat/completions) otherwise. Per-item results go to OUTPUT/items.jsonl as \
      they finish; running again with the same options resumes, other options are refused. Data: \
      --data-dir, else the cache Scripts/eval/copy-data.sh fills. See docs/EVAL.md.
      """)

  @Option(help: "The task: \(EvalTasks.all.map(\.name).joined(separator: ", ")).") var task: String
  @Option(help: "The server's base URL (with or without /v1), e.g. http://127.0.0.1:8080.") var baseURL:
    String
  @Option(help: "The model id to send.") var model: String
  @Option(help: "The API key (default: $OPENAI_API_KEY).") var apiKey: String?
  @Option(help: "auto, loglikelihood or generate.") var mode = "auto"
  @Option(help: "Items scored at once.") var concurrency = 4
  @Option(help: "Score at most this many items (the first ones, or a random sample with --sample-seed).")
  var limit: Int?
  @Option(help: "Draw the --limit items at random with this seed.") var sampleSeed: UInt64?
  @Option(help: "Few-shot examples (default: MMLU 0 as lm-eval, MMLU-Pro 5 as the official script).")
  var shots: Int?
  @Option(help: "Tokens a generated reply may use (default: 2048 for MMLU-Pro's chain of thought).")
  var maxTokens: Int?
  @Option(help: "The benchmark data (default: the cache, ~/.cache/muse/eval).") var dataDir: String?
  @Option(help: "The results directory (default: muse-eval/TASK).") var output: String?
  @Flag(help: "Print the summary as JSON.") var json = false
  @Option(
    help:
      "Sign an attestation of the run (OUTPUT/attestation.json) with the server identity in this data directory (muse serve's --data-dir)."
  ) var attest: String?
  @Option(help: "Items re-scored for the attestation, whose receipts it carries.") var attestSample = 5

  func run() async throws {
    do {
      try await evaluate()
    } catch let error as ExitCode {
      throw error
    } catch let error as ValidationError {
      throw error
    } catch {
      printError("muse: error: \(error)")
      throw ExitCode.failure
    }
  }

  private func evaluate() async throws {
    guard (1...256).contains(concurrency) else { throw ValidationError("--concurrency takes 1 to 256") }
    if let limit, limit < 1 { throw ValidationError("--limit takes a positive number") }
    if let shots, !(0...25).contains(shots) { throw ValidationError("--shots takes 0 to 25") }
    if let maxTokens, !(1...1_000_000).contains(maxTokens) {
      throw ValidationError("--max-tokens takes 1 to 1000000")
    }
    let requestedMode: ScoringMode?
    switch mode {
    case "auto": requestedMode = nil
    case let name:
      guard let chosen = ScoringMode(rawValue: name) else {
        throw ValidationError("--mode takes auto, loglikelihood or generate")
      }
      requestedMode = chosen
    }
    var task = try EvalTasks.named(task)
    if task is MMLUProTask { task = MMLUProTask(maxTokens: maxTokens ?? 2048) }
    let shots = shots ?? (task is MMLUProTask ? MMLUProTask.officialShots : 0)
    let dataDirectory = dataDir.map { URL(fileURLWithPath: $0) } ?? EvalData.defaultDirectory()
    let key = apiKey ?? ProcessInfo.processInfo.environment["OPENAI_API_KEY"]
    let client = try OpenAIClient(baseURL: baseURL, apiKey: key, model: model, concurrency: concurrency)
    let runner = EvalRunner(task: task, client: client, concurrency: concurrency)

    let all = try task.loadItems(dataDirectory: dataDirectory, shots: shots)
    let items = ItemSelection.select(all, limit: limit, seed: sampleSeed)
    guard let probe = items.first else {
      throw ValidationError("\(task.name): no items in \(dataDirectory.path)")
    }
    let (chosenMode, reason) = try await runner.resolveMode(requestedMode, probe: probe)
    let configuration = EvalConfiguration(
      task: task.name, mode: chosenMode, model: model, baseURL: client.baseURL, shots: shots, limit: limit,
      sampleSeed: sampleSeed,
      maxTokens: chosenMode == .generate ? items.first.flatMap(task.generationRequest)?.maxTokens : nil,
      datasetSHA256: try EvalData.datasetHash(files: task.dataFiles(in: dataDirectory), in: dataDirectory),
      promptFormatSHA256: JSONOutput.sha256(Data(task.promptFormat.utf8)))
    let directory = ResultsDirectory(directory: URL(fileURLWithPath: output ?? "muse-eval/\(task.name)"))
    let done = try await directory.open(for: configuration)
    printError(
      "\(task.name): \(items.count) items by \(chosenMode.rawValue) (\(reason)); \(done.count) already done")

    let bar = ProgressLines(label: task.name)
    let results = try await runner.run(items: items, mode: chosenMode, done: done, results: directory) {
      finished, total in
      bar.update(finished: finished, total: total)
    }
    try await directory.close()
    let summary = try EvalSummary(
      configuration: configuration, promptFormat: task.promptFormat, modeReason: reason,
      metricNames: task.metrics(mode: chosenMode), results: results)
    try await directory.writeSummary(summary)
    if let attest {
      let attestation = try await Self.attestation(
        summary: summary, results: results, items: items, mode: chosenMode, task: task, client: client,
        identityDirectory: attest, sample: attestSample)
      let file = directory.directory.appendingPathComponent("attestation.json")
      try attestation.json.write(to: file)
      printError("attestation signed by \(attestation.string("key_id") ?? "?"): \(file.path)")
    }
    if json {
      print(String(decoding: try JSONOutput.encode(summary), as: UTF8.self))
    } else {
      print(
        Self.report(summary, metricNames: task.metrics(mode: chosenMode), directory: directory.directory.path)
      )
    }
  }

  /// Signs the run: the model card's weights digests, and `sample` items (drawn by the results'
  /// hash) scored again to keep the receipts the server signs them with.
  static func attestation(
    summary: EvalSummary, results: [ItemResult], items: [EvalItem], mode: ScoringMode, task: any EvalTask,
    client: OpenAIClient, identityDirectory: String, sample: Int
  ) async throws -> Attestation {
    guard ServerIdentity.exists(in: identityDirectory) else {
      throw ValidationError(
        "\(identityDirectory): no server identity (identity/keys.json); give muse serve's --data-dir")
    }
    guard (0...100).contains(sample) else { throw ValidationError("--attest-sample takes 0 to 100") }
    let identity = try ServerIdentity(dataDirectory: identityDirectory)
    let card = try await client.get("/v1/models/\(summary.configuration.model)")
    let seed = UInt64(summary.resultsSHA256.prefix(16), radix: 16) ?? 0
    let ids = EvalAttestation.sample(results.map(\.id), count: sample, seed: seed)
    var collecting = client
    let log = ReceiptLog()
    collecting.receipts = log
    let runner = EvalRunner(task: task, client: collecting, concurrency: 1)
    for id in ids {
      guard let item = items.first(where: { $0.id == id }) else { continue }
      _ = try await runner.score(item, mode: mode)
    }
    let fields = EvalAttestation.fields(
      summary, weightsSHA256: card["weights_sha256"] as? String, weightsRoot: card["weights_root"] as? String,
      sampleIDs: ids)
    return try Attestation.sign(fields, sampleReceipts: log.all, by: identity)
  }

  static func report(_ summary: EvalSummary, metricNames: [String], directory: String) -> String {
    var lines = [
      "\(summary.configuration.task) (\(summary.configuration.mode.rawValue)), \(summary.items) items:"
    ]
    for name in metricNames {
      guard let score = summary.metrics[name] else { continue }
      let label = name.padding(toLength: max(name.count, 8), withPad: " ", startingAt: 0)
      var line =
        "  \(label) "
        + String(
          format: "%.4f ± %.4f stderr; 95%% normal [%.4f, %.4f]", score.mean, score.stderr, score.normal[0],
          score.normal[1])
      if let wilson = score.wilson { line += String(format: ", Wilson [%.4f, %.4f]", wilson[0], wilson[1]) }
      lines.append(line)
    }
    if summary.configuration.mode == .generate {
      lines.append("  no answer extracted: \(summary.unanswered)")
    }
    lines.append("  results: \(directory)/items.jsonl, summary.json")
    return lines.joined(separator: "\n")
  }
}

/// The progress bar, shared by the runner's concurrent item tasks.
final class ProgressLines: @unchecked Sendable {
  private var bar: ProgressBar
  private let lock = NSLock()

  init(label: String) { bar = ProgressBar(label: label, linesWhenNotTerminal: true) }

  func update(finished: Int, total: Int) {
    lock.lock()
    defer { lock.unlock() }
    bar.update(total == 0 ? 1 : Double(finished) / Double(total), detail: " (\(finished)/\(total))")
  }
}
