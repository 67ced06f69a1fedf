import ArgumentParser
import Foundation
import Hummingbird
import MuseEngine
import MuseKernels
import MuseModels
import MuseServer
import MuseStore

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// `muse bench serve`: C concurrent streamed completions per level against a server (ours
/// started in-process on loopback, or any OpenAI-compatible one such as llama-server), with
/// aggregate and per-stream output tokens/s and time to first token.
struct BenchServeCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "serve",
    abstract: "Measure a server under concurrent streamed requests: tokens/s and time to first token.")

  @Option(name: .shortAndLong, help: "GGUF model to serve in-process on loopback.") var model: String?
  @Option(
    name: .long, help: "Base URL of a running OpenAI-compatible server instead, e.g. http://127.0.0.1:8080")
  var url: String?
  @Option(name: .long, help: "API key for --url.") var key: String?
  @Option(name: .long, help: "Model name sent with --url (default: the server's first model).") var modelName:
    String?
  @Option(name: .long, help: "Concurrency levels, comma-separated.") var concurrency = "1,4,8,16"
  @Option(name: .long, help: "Approximate prompt tokens per request.") var promptTokens = 128
  @Option(name: .long, help: "Tokens to generate per request.") var genTokens = 64
  @Option(name: .long, help: "Threads for the in-process server (default: all cores).") var threads: Int?
  @Option(name: .long, help: "KV cache element type of the in-process server: f16 (as muse serve) or f32.")
  var kvCacheType: KVCacheType = .f16
  @Option(
    name: .long,
    help:
      "Instead of the levels: send one prompt of N tokens twice and compare the two requests' TTFT (prefix cache)."
  ) var sharedPrefixTokens: Int?
  @Flag(name: .long, help: "Send chat completions (the prompt as one user message) instead of completions.")
  var chat = false
  @Option(
    name: .long,
    help: "A JSON Schema file: every reply is constrained to it (chat completions with response_format).")
  var jsonSchema: String?
  @Option(
    name: .customLong("guard"),
    help: ArgumentHelp(
      "A guard rule STAGE:RAIL:ACTION (repeatable): the in-process server also serves the model under this policy, measured beside it.",
      valueName: "rule"))
  var guardRules: [String] = []
  @Option(name: .long, help: "The all-MiniLM-L6-v2 folder, for a moderation rule.") var moderationModel:
    String?
  @Flag(name: .long, help: "Print one JSON object.") var json = false

  func run() async throws {
    ProcessMemory.keepFreedMemory()
    do {
      try await benchmark()
    } catch let error as ExitCode {
      throw error
    } catch {
      printError("muse: error: \(error)")
      throw ExitCode.failure
    }
  }

  private func benchmark() async throws {
    let levels = try positiveIntegers(concurrency, option: "--concurrency", example: "1,4,8")
    guard (model == nil) != (url == nil) else {
      throw ValidationError("give either --model FILE (in-process server) or --url URL --key KEY")
    }
    guard promptTokens > 0, genTokens > 0 else {
      throw ValidationError("--prompt-tokens and --gen-tokens must be positive")
    }
    var schema: Any?
    if let jsonSchema {
      let data: Data
      do {
        data = try Data(contentsOf: URL(fileURLWithPath: jsonSchema))
      } catch {
        throw ValidationError("--json-schema: cannot read '\(jsonSchema)': \(error.localizedDescription)")
      }
      guard let object = try? JSONSerialization.jsonObject(with: data), object is [String: Any] else {
        throw ValidationError("--json-schema: '\(jsonSchema)' is not a JSON object")
      }
      schema = object
    }
    if let model {
      let policy = try GuardPolicyFile.policy(file: nil, rules: guardRules)
      let server = try await LoopbackServer.start(
        model: model, threads: threads, kvCacheType: kvCacheType, guardPolicy: policy,
        moderation: try ModerationSetup.classifier(folder: moderationModel, embedders: []))
      defer { server.stop() }
      let client = StreamingClient(
        baseURL: server.baseURL, key: server.key, model: server.modelID, genTokens: genTokens, chat: chat,
        jsonSchema: schema)
      if policy != nil {
        let guarded = StreamingClient(
          baseURL: server.baseURL, key: server.key, model: server.modelID + "-guarded", genTokens: genTokens,
          chat: chat, jsonSchema: schema)
        try await measureSideBySide(plain: client, guarded: guarded, levels: levels)
      } else {
        try await measure(client: client, levels: levels)
      }
    } else if let url {
      guard let key else { throw ValidationError("--url needs --key") }
      var name = modelName
      if name == nil { name = try await StreamingClient.firstModel(baseURL: url, key: key) }
      try await measure(
        client: StreamingClient(
          baseURL: url, key: key, model: name ?? "", genTokens: genTokens, chat: chat, jsonSchema: schema),
        levels: levels)
    }
  }

  /// Each level unguarded then guarded, alternating, so drift of the machine hits both alike.
  private func measureSideBySide(plain: StreamingClient, guarded: StreamingClient, levels: [Int]) async throws
  {
    _ = try await plain.complete(prompt: BenchPrompt.text(tokens: 8, variant: 0), maxTokens: 2)
    _ = try await guarded.complete(prompt: BenchPrompt.text(tokens: 8, variant: 1), maxTokens: 2)
    let run = Int.random(in: 100...999)
    for (index, level) in levels.enumerated() {
      for (name, client) in [("unguarded", plain), ("guarded", guarded)] {
        let result = try await ServeBenchResult.measure(
          client: client, concurrency: level, promptTokens: promptTokens,
          firstVariant: run * 1_000_000 + index * 10_000 + (name == "guarded" ? 5_000 : 0))
        print("\(name)\t\(result.row)")
      }
    }
  }

  private func measure(client: StreamingClient, levels: [Int]) async throws {
    if let shared = sharedPrefixTokens {
      let report = try await PrefixCacheBench.run(client: client, promptTokens: shared)
      print(json ? report.json : report.text)
      return
    }
    // One short request first, so the levels do not measure page-in of the weights.
    _ = try await client.complete(prompt: BenchPrompt.text(tokens: 8, variant: 0), maxTokens: 2)
    var results: [ServeBenchResult] = []
    // Prompts differ per run and per level: a level sent again, or a second run against the same
    // server, must not find its prompts in the prefix cache.
    let run = Int.random(in: 100...999)
    for (index, level) in levels.enumerated() {
      let result = try await ServeBenchResult.measure(
        client: client, concurrency: level, promptTokens: promptTokens,
        firstVariant: run * 1_000_000 + index * 10_000)
      results.append(result)
      if !json { print(result.row) }
    }
    if json {
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.sortedKeys]
      let report = ServeBenchReport(
        model: client.model, endpoint: client.chat || client.jsonSchema != nil ? "chat" : "completions",
        jsonSchema: jsonSchema, promptTokens: promptTokens, genTokens: genTokens, results: results)
      print(String(decoding: try encoder.encode(report), as: UTF8.self))
    }
  }
}

/// Prompts of roughly N tokens that differ per request, so no two share a cached prefix
/// beyond their first words: a few common words, each about one token in BPE vocabularies.
enum BenchPrompt {
  static let words = [
    "the", "river", "stone", "light", "house", "green", "morning", "water", "city", "song", "table",
    "window", "garden", "paper", "summer", "road",
  ]

  static func text(tokens: Int, variant: Int) -> String {
    var rng = SeededGenerator(seed: UInt64(variant) &+ 1)
    let body = (0..<max(tokens - 8, 1)).map { _ in words[Int(rng.next() % UInt64(words.count))] }
    return "Request \(variant). Continue this text: " + body.joined(separator: " ")
  }
}

struct ServeBenchReport: Encodable {
  let model: String
  /// `completions` or `chat`.
  let endpoint: String
  /// The schema file every reply was constrained to, if any.
  let jsonSchema: String?
  let promptTokens: Int
  let genTokens: Int
  let results: [ServeBenchResult]
  // swiftlint:disable:next nesting
  enum CodingKeys: String, CodingKey {
    case model, results, endpoint
    case jsonSchema = "json_schema"
    case promptTokens = "prompt_tokens"
    case genTokens = "gen_tokens"
  }
}

struct ServeBenchResult: Encodable {
  let concurrency: Int
  let aggregateTPS: Double
  let perStreamTPS: Double
  let ttftP50Ms: Double
  let ttftP99Ms: Double
  let completionTokens: Int
  let seconds: Double

  // swiftlint:disable:next nesting
  enum CodingKeys: String, CodingKey {
    case concurrency, seconds
    case aggregateTPS = "aggregate_tps"
    case perStreamTPS = "per_stream_tps"
    case ttftP50Ms = "ttft_p50_ms"
    case ttftP99Ms = "ttft_p99_ms"
    case completionTokens = "completion_tokens"
  }

  /// C requests at once; aggregate = all output tokens / wall time of the level; per stream =
  /// mean over requests of tokens after the first / time from first to last token.
  static func measure(client: StreamingClient, concurrency: Int, promptTokens: Int, firstVariant: Int)
    async throws -> ServeBenchResult
  {
    let started = Date()
    let outcomes = try await withThrowingTaskGroup(of: StreamOutcome.self) { group in
      for i in 0..<concurrency {
        group.addTask {
          try await client.complete(
            prompt: BenchPrompt.text(tokens: promptTokens, variant: firstVariant + i),
            maxTokens: client.genTokens)
        }
      }
      var all: [StreamOutcome] = []
      for try await outcome in group { all.append(outcome) }
      return all
    }
    let wall = Date().timeIntervalSince(started)
    let tokens = outcomes.reduce(0) { $0 + $1.completionTokens }
    let ttfts = outcomes.compactMap(\.timeToFirstToken).sorted()
    let streams = outcomes.compactMap(\.decodeRate)
    return ServeBenchResult(
      concurrency: concurrency, aggregateTPS: Double(tokens) / wall,
      perStreamTPS: streams.isEmpty ? 0 : streams.reduce(0, +) / Double(streams.count),
      ttftP50Ms: percentile(ttfts, 0.5) * 1000, ttftP99Ms: percentile(ttfts, 0.99) * 1000,
      completionTokens: tokens, seconds: wall)
  }

  /// Nearest-rank percentile of sorted values.
  static func percentile(_ sorted: [Double], _ p: Double) -> Double {
    guard !sorted.isEmpty else { return 0 }
    let rank = Int((p * Double(sorted.count)).rounded(.up))
    return sorted[min(max(rank - 1, 0), sorted.count - 1)]
  }

  var row: String {
    String(
      format:
        "concurrency %3d | aggregate %8.2f tok/s | per stream %7.2f tok/s | TTFT p50 %8.1f ms, p99 %8.1f ms",
      concurrency, aggregateTPS, perStreamTPS, ttftP50Ms, ttftP99Ms)
  }
}

/// The prefix-cache check: the same long prompt twice, greedy; the second request's prompt
/// is served from cached blocks, so its time to first token drops and its text is the same.
enum PrefixCacheBench {
  struct Report {
    let promptTokens: Int
    let first: StreamOutcome
    let second: StreamOutcome

    var ratio: Double { (first.timeToFirstToken ?? 0) / max(second.timeToFirstToken ?? 0, 1e-9) }
    var identical: Bool { first.text == second.text }
    var text: String {
      String(
        format: "shared prefix ~%d tokens: TTFT first %.1f ms, second %.1f ms (%.1f× lower); outputs %@",
        promptTokens, (first.timeToFirstToken ?? 0) * 1000, (second.timeToFirstToken ?? 0) * 1000, ratio,
        identical ? "identical" : "DIFFER")
    }
    var json: String {
      String(
        format:
          #"{"shared_prefix_tokens":%d,"ttft_first_ms":%.3f,"ttft_second_ms":%.3f,"ratio":%.3f,"identical":%@}"#,
        promptTokens, (first.timeToFirstToken ?? 0) * 1000, (second.timeToFirstToken ?? 0) * 1000, ratio,
        identical ? "true" : "false")
    }
  }

  static func run(client: StreamingClient, promptTokens: Int) async throws -> Report {
    _ = try await client.complete(prompt: BenchPrompt.text(tokens: 8, variant: 0), maxTokens: 2)
    let prompt = BenchPrompt.text(tokens: promptTokens, variant: 424_242)
    let first = try await client.complete(prompt: prompt, maxTokens: client.genTokens, greedy: true)
    let second = try await client.complete(prompt: prompt, maxTokens: client.genTokens, greedy: true)
    return Report(promptTokens: promptTokens, first: first, second: second)
  }
}
