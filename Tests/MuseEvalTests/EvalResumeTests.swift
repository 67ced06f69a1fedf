import Foundation
import MuseEval
import MuseTestSupport
import Testing

@Suite struct EvalResumeTests {
  static let data = TestPaths.fixtures.appendingPathComponent("eval/data")

  func temporaryDirectory() -> URL {
    FileManager.default.temporaryDirectory.appendingPathComponent("muse-eval-\(UUID().uuidString)")
  }

  func configuration(limit: Int) throws -> EvalConfiguration {
    let task = ARCChallengeTask()
    return EvalConfiguration(
      task: task.name, mode: .loglikelihood, model: "m", baseURL: "http://resume.test", shots: 0,
      limit: limit,
      sampleSeed: nil, maxTokens: nil,
      datasetSHA256: try EvalData.datasetHash(files: task.dataFiles(in: Self.data), in: Self.data),
      promptFormatSHA256: JSONOutput.sha256(Data(task.promptFormat.utf8)))
  }

  @Test func interruptedRunSendsOnlyTheMissingItems() async throws {
    let host = "resume-\(UUID().uuidString.prefix(8)).test"
    FakeServer.register(host: host) { _, body in
      .init(
        json: FakeServer.echoReply(prompt: body["prompt"] as? String ?? "") {
          -Double($0.unicodeScalars.count)
        })
    }
    let client = try OpenAIClient(
      baseURL: "http://\(host)", apiKey: nil, model: "m", concurrency: 3, protocolClasses: [FakeServer.self])
    let task = ARCChallengeTask()
    let items = ItemSelection.select(
      try task.loadItems(dataDirectory: Self.data, shots: 0), limit: 6, seed: nil)
    #expect(items.count == 6)
    let runner = EvalRunner(task: task, client: client, concurrency: 3)
    let output = temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: output) }

    // A complete run, for reference.
    let first = ResultsDirectory(directory: output)
    let complete = try await runner.run(
      items: items, mode: .loglikelihood, done: try await first.open(for: configuration(limit: 6)),
      results: first
    ) { _, _ in }
    try await first.close()
    let choices = items.map(\.choices.count).reduce(0, +)
    #expect(FakeServer.requests(host: host) == choices)

    // Interrupted after three items, the fourth line cut short.
    let itemsFile = output.appendingPathComponent("items.jsonl")
    let lines = try String(contentsOf: itemsFile, encoding: .utf8).split(separator: "\n")
    #expect(lines.count == 6)
    try (lines.prefix(3).joined(separator: "\n") + "\n" + lines[3].prefix(20)).write(
      to: itemsFile, atomically: true, encoding: .utf8)
    let kept = Set(
      try lines.prefix(3).map { try JSONDecoder().decode(ItemResult.self, from: Data($0.utf8)).id })

    let second = ResultsDirectory(directory: output)
    let done = try await second.open(for: configuration(limit: 6))
    #expect(done.map(\.id).sorted() == kept.sorted())
    let resumed = try await runner.run(items: items, mode: .loglikelihood, done: done, results: second) {
      _, _ in
    }
    try await second.close()
    let resent = items.filter { !kept.contains($0.id) }.map(\.choices.count).reduce(0, +)
    #expect(FakeServer.requests(host: host) == choices + resent)
    #expect(resumed == complete)
    let finalLines = try String(contentsOf: itemsFile, encoding: .utf8).split(separator: "\n")
    #expect(finalLines.count == 6)
    #expect(
      Set(try finalLines.map { try JSONDecoder().decode(ItemResult.self, from: Data($0.utf8)).id }).count == 6
    )
  }

  @Test func aChangedConfigurationIsRefused() async throws {
    let output = temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: output) }
    _ = try await ResultsDirectory(directory: output).open(for: configuration(limit: 6))
    var other = try configuration(limit: 6)
    other.model = "another"
    other.shots = 5
    do {
      _ = try await ResultsDirectory(directory: output).open(for: other)
      Issue.record("results of another configuration were mixed")
    } catch let error as EvalRunError {
      #expect(error == .configurationChanged(directory: output.path, fields: ["model", "shots"]))
    }
  }

  @Test func summaryHashesTheResultsInIdOrder() throws {
    let a = ItemResult(
      id: "a", gold: "x", prediction: "x", metrics: ["acc": 1], loglikelihoods: [-1, -2],
      greedy: [true, false])
    let b = ItemResult(
      id: "b", gold: "y", prediction: "x", metrics: ["acc": 0], loglikelihoods: [-1, -2],
      greedy: [true, false])
    let config = try configuration(limit: 2)
    let one = try EvalSummary(
      configuration: config, promptFormat: "p", modeReason: "r", metricNames: ["acc"], results: [a, b])
    let other = try EvalSummary(
      configuration: config, promptFormat: "p", modeReason: "r", metricNames: ["acc"], results: [b, a])
    #expect(one.resultsSHA256 == other.resultsSHA256)
    let lines = try JSONOutput.encode(a) + Data("\n".utf8) + JSONOutput.encode(b) + Data("\n".utf8)
    #expect(one.resultsSHA256 == JSONOutput.sha256(lines))
    #expect(one.metrics["acc"]?.mean == 0.5)
    // Stable JSON: sorted keys.
    let text = String(decoding: try JSONOutput.encode(a), as: UTF8.self)
    #expect(text.hasPrefix(#"{"gold":"x","greedy":[true,false],"id":"a","#))
  }

  @Test func seededSelectionIsReproducibleAndInDataOrder() {
    let items = (0..<100).map {
      EvalItem(id: "\($0)", context: "", choices: ["a"], gold: 0, question: "", options: [])
    }
    let one = ItemSelection.select(items, limit: 10, seed: 7)
    #expect(one == ItemSelection.select(items, limit: 10, seed: 7))
    #expect(one != ItemSelection.select(items, limit: 10, seed: 8))
    #expect(one.count == 10)
    #expect(one.map { Int($0.id)! } == one.map { Int($0.id)! }.sorted())
    #expect(ItemSelection.select(items, limit: 10, seed: nil).map(\.id) == (0..<10).map { "\($0)" })
    #expect(ItemSelection.select(items, limit: 500, seed: 1).count == 100)
  }
}

@Suite struct EvalGenerationRunTests {
  @Test func mmluProByGenerationScoresTheExtractedLetter() async throws {
    let host = "gen-\(UUID().uuidString.prefix(8)).test"
    FakeServer.register(host: host) { path, body in
      #expect(path == "/v1/chat/completions")
      #expect(body["temperature"] as? Int == 0)
      return .init(json: [
        "choices": [["message": ["role": "assistant", "content": "Thinking… **The answer is (A)**."]]]
      ])
    }
    let client = try OpenAIClient(
      baseURL: "http://\(host)", apiKey: nil, model: "m", concurrency: 2, protocolClasses: [FakeServer.self])
    let task = MMLUProTask(maxTokens: 64)
    let items = try task.loadItems(dataDirectory: EvalResumeTests.data, shots: 0)
    let output = FileManager.default.temporaryDirectory.appendingPathComponent(
      "muse-eval-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: output) }
    let results = ResultsDirectory(directory: output)
    let config = EvalConfiguration(
      task: task.name, mode: .generate, model: "m", baseURL: client.baseURL, shots: 0, limit: nil,
      sampleSeed: nil,
      maxTokens: 64, datasetSHA256: "", promptFormatSHA256: "")
    let runner = EvalRunner(task: task, client: client, concurrency: 2)
    let scored = try await runner.run(
      items: items, mode: .generate, done: try await results.open(for: config), results: results
    ) { _, _ in }
    try await results.close()
    #expect(scored.count == items.count)
    for (result, item) in zip(scored, items) {
      #expect(result.prediction == "A")
      #expect(result.metrics["acc"] == (item.gold == 0 ? 1 : 0))
      #expect(result.gold == LetteredQuestion.letter(item.gold))
      #expect(result.reply == "Thinking… **The answer is (A)**.")
    }
  }
}
