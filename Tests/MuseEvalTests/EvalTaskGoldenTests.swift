import Foundation
import MuseEval
import MuseTestSupport
import Testing

/// Each task's prompts, choices and scores against Tests/Fixtures/eval/golden.json, which
/// Scripts/eval/make_eval_golden.py makes with lm-evaluation-harness's own task code (ARC,
/// HellaSwag, MMLU, TruthfulQA), the upstream scripts' formats run with Python's `re`
/// (MMLU-Pro, HaluEval), scipy / statsmodels (intervals) and hashlib (data-set hash), over the
/// fixture data in Tests/Fixtures/eval/data.
@Suite struct EvalTaskGoldenTests {
  static let data = TestPaths.fixtures.appendingPathComponent("eval/data")
  static let golden: [String: Any] = {
    let url = TestPaths.fixtures.appendingPathComponent("eval/golden.json")
    return (try? JSONSerialization.jsonObject(with: Data(contentsOf: url))) as? [String: Any] ?? [:]
  }()

  static func cases(_ key: String) -> [[String: Any]] { golden[key] as? [[String: Any]] ?? [] }

  /// The items a task loads match lm-eval's requests, and its scores lm-eval's process_results.
  func checkMultipleChoice(_ task: any EvalTask, golden cases: [[String: Any]], shots: Int = 0) throws {
    let items = try task.loadItems(dataDirectory: Self.data, shots: shots)
    #expect(items.count == cases.count, "\(task.name): item count")
    #expect(!cases.isEmpty)
    for (item, expected) in zip(items, cases) {
      #expect(item.id == expected["id"] as? String)
      #expect([item.context] == expected["contexts"] as? [String], "\(task.name) \(item.id): context")
      #expect(
        item.choices.map { " " + $0 } == expected["continuations"] as? [String],
        "\(task.name) \(item.id): choices")
      #expect(item.gold == expected["gold"] as? Int)
      if let trueCount = expected["true_count"] as? Int { #expect(item.trueCount == trueCount) }
      let lls = (expected["loglikelihoods"] as? [Double] ?? []).map {
        ChoiceLoglikelihood(logprob: $0, isGreedy: false)
      }
      let score = task.score(item, loglikelihoods: lls)
      let metrics = expected["metrics"] as? [String: Double] ?? [:]
      #expect(Set(score.metrics.keys) == Set(metrics.keys), "\(task.name) \(item.id): metric names")
      for (name, value) in metrics {
        #expect(abs((score.metrics[name] ?? .nan) - value) < 1e-12, "\(task.name) \(item.id) \(name)")
      }
    }
  }

  @Test func arcChallenge() throws {
    try checkMultipleChoice(ARCChallengeTask(), golden: Self.cases("arc-challenge"))
  }
  @Test func hellaSwag() throws { try checkMultipleChoice(HellaSwagTask(), golden: Self.cases("hellaswag")) }
  @Test func mmluZeroShot() throws { try checkMultipleChoice(MMLUTask(), golden: Self.cases("mmlu")) }
  @Test func mmluFiveShot() throws {
    try checkMultipleChoice(MMLUTask(), golden: Self.cases("mmlu_5shot"), shots: 5)
  }

  @Test func truthfulQA() throws {
    let golden = Self.golden["truthfulqa"] as? [String: [[String: Any]]] ?? [:]
    try checkMultipleChoice(TruthfulQATask(variant: .mc1), golden: golden["mc1"] ?? [])
    try checkMultipleChoice(TruthfulQATask(variant: .mc2), golden: golden["mc2"] ?? [])
  }

  @Test func mmluProPromptAndExtraction() throws {
    let golden = Self.golden["mmlu-pro"] as? [String: Any] ?? [:]
    let cases = golden["items"] as? [[String: Any]] ?? []
    let task = MMLUProTask()
    let items = try task.loadItems(dataDirectory: Self.data, shots: 0)
    #expect(items.count == cases.count && !cases.isEmpty)
    for (item, expected) in zip(items, cases) {
      #expect(item.id == expected["id"] as? String)
      #expect(
        task.generationRequest(for: item)?.messages == [
          ChatMessage(role: "user", content: expected["prompt"] as? String ?? "")
        ])
      let gold = expected["gold"] as? String
      #expect(task.score(item, reply: "Thus the answer is (\(gold ?? "")).").metrics["acc"] == 1)
    }
    for example in golden["extraction"] as? [[String: Any]] ?? [] {
      let reply = example["reply"] as? String ?? ""
      #expect(
        MMLUProTask.extractAnswer(reply) == example["answer"] as? String, "reply \(reply.debugDescription)")
    }
    let shot = golden["shot_example"] as? [String: Any] ?? [:]
    #expect(
      MMLUProTask.formatExample(
        question: shot["question"] as? String ?? "", options: shot["options"] as? [String] ?? [],
        cotContent: shot["cot"] as? String ?? "") == shot["text"] as? String)
    // Five shots need the validation split, which the shared data lacks: refused, not faked.
    #expect(throws: EvalTaskError.self) { _ = try task.loadItems(dataDirectory: Self.data, shots: 5) }
  }

  @Test func haluEvalPromptsAndJudgement() throws {
    let golden = Self.golden["halueval"] as? [String: Any] ?? [:]
    let cases = golden["items"] as? [[String: Any]] ?? []
    let task = HaluEvalTask()
    let items = try task.loadItems(dataDirectory: Self.data, shots: 0)
    #expect(items.count == cases.count && !cases.isEmpty)
    for (item, expected) in zip(items, cases) {
      #expect(item.id == expected["id"] as? String)
      #expect(item.context == expected["prompt"] as? String)
      #expect(
        task.generationRequest(for: item)?.messages == [
          ChatMessage(role: "system", content: HaluEvalTask.systemMessage),
          ChatMessage(role: "user", content: expected["user"] as? String ?? ""),
        ])
      #expect(item.choices[item.gold] == expected["truth"] as? String)
    }
    for example in golden["judgements"] as? [[String: Any]] ?? [] {
      let reply = example["reply"] as? String ?? ""
      #expect(
        HaluEvalTask.judgement(reply) == example["judgement"] as? String, "reply \(reply.debugDescription)")
    }
  }

  @Test func intervalsMatchScipyAndStatsmodels() {
    let golden = Self.golden["intervals"] as? [String: Any] ?? [:]
    #expect(abs(ScoreInterval.z95 - (golden["z95"] as? Double ?? 0)) < 1e-12)
    let cases = golden["cases"] as? [[String: Any]] ?? []
    #expect(cases.count == 4)
    for expected in cases {
      let score = ScoreInterval(values: expected["values"] as? [Double] ?? [])
      #expect(abs(score.mean - (expected["mean"] as? Double ?? .nan)) < 1e-12)
      #expect(abs(score.stderr - (expected["stderr"] as? Double ?? .nan)) < 1e-12)
      for (mine, theirs) in zip(score.normal, expected["normal"] as? [Double] ?? []) {
        #expect(abs(mine - theirs) < 1e-12)
      }
      if let wilson = expected["wilson"] as? [Double] {
        #expect(score.wilson?.count == 2)
        for (mine, theirs) in zip(score.wilson ?? [], wilson) { #expect(abs(mine - theirs) < 1e-12) }
      } else {
        #expect(score.wilson == nil)
      }
    }
  }

  @Test func datasetHashMatchesHashlib() throws {
    let golden = Self.golden["dataset_sha256"] as? [String: String] ?? [:]
    for task in [ARCChallengeTask(), MMLUTask()] as [any EvalTask] {
      let hash = try EvalData.datasetHash(files: task.dataFiles(in: Self.data), in: Self.data)
      #expect(hash == golden[task.name], "\(task.name)")
    }
  }

  @Test func missingDataNamesTheFile() {
    let nowhere = URL(fileURLWithPath: "/nonexistent-eval-data")
    #expect(
      throws: EvalTaskError.missingData(
        file: "/nonexistent-eval-data/arc/arc_challenge_test.jsonl",
        hint: "pass --data-dir, or run Scripts/eval/copy-data.sh to fill the cache")
    ) { _ = try ARCChallengeTask().loadItems(dataDirectory: nowhere, shots: 0) }
  }
}
