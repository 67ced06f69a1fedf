import Foundation

/// Which items a run scores: the first `limit`, or with a seed `limit` drawn at random (a
/// SplitMix64-driven Fisher–Yates shuffle, the same on every platform), kept in the data's
/// order. (Items, or anything else drawn the same way: an attestation's sample of item ids.)
public enum ItemSelection {
  public static func select<Item>(_ items: [Item], limit: Int?, seed: UInt64?) -> [Item] {
    guard let limit, limit < items.count else { return items }
    guard let seed else { return Array(items.prefix(max(limit, 0))) }
    var order = Array(items.indices)
    var generator = SplitMix64(seed: seed)
    for i in stride(from: order.count - 1, to: 0, by: -1) {
      let j = Int(generator.next() % UInt64(i + 1))
      order.swapAt(i, j)
    }
    return order.prefix(max(limit, 0)).sorted().map { items[$0] }
  }
}

/// SplitMix64 (Steele, Lea, Flood 2014): a fixed, portable sequence for a seed.
public struct SplitMix64: RandomNumberGenerator {
  var state: UInt64
  public init(seed: UInt64) { state = seed }
  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

/// Runs a task's items against a server: `concurrency` items at a time, each result appended
/// to the output directory as it finishes; items already there are not sent again.
public struct EvalRunner: Sendable {
  public let task: any EvalTask
  public let client: OpenAIClient
  public let concurrency: Int

  public init(task: any EvalTask, client: OpenAIClient, concurrency: Int) {
    self.task = task
    self.client = client
    self.concurrency = max(concurrency, 1)
  }

  /// The mode to score in: the requested one, or for `auto` log-likelihood when the server
  /// returns the prompt's logprobs for `probe` (else generation, if the task has it). The
  /// second value says why.
  public func resolveMode(_ requested: ScoringMode?, probe: EvalItem) async throws -> (ScoringMode, String) {
    if let requested {
      guard task.modes.contains(requested) else {
        throw EvalTaskError.modeUnsupported(task: task.name, mode: requested)
      }
      if requested == .loglikelihood {
        _ = try await client.loglikelihood(context: probe.context, continuation: " " + probe.choices[0])
      }
      return (requested, "--mode \(requested.rawValue)")
    }
    guard task.modes.contains(.loglikelihood) else {
      return (.generate, "\(task.name) is scored by generation only")
    }
    do {
      _ = try await client.loglikelihood(context: probe.context, continuation: " " + probe.choices[0])
      return (.loglikelihood, "the server returns prompt logprobs with echo")
    } catch let error as EvalClientError {
      guard task.modes.contains(.generate) else { throw error }
      switch error {
      // No prompt logprobs, or no completions endpoint / no echo (400, 404, 405, 422, 501). A
      // refused key (401, 403) or a rate limit is the same for chat: it is reported, not
      // taken as a reason to switch.
      case .noPromptLogprobs, .badResponse, .http(_, 400, _), .http(_, 404, _), .http(_, 405, _),
        .http(_, 422, _), .http(_, 501, _):
        return (.generate, "log-likelihood unavailable: \(error)")
      default: throw error
      }
    }
  }

  /// Scores one item.
  public func score(_ item: EvalItem, mode: ScoringMode) async throws -> ItemResult {
    let gold = item.choices.indices.contains(item.gold) ? item.choices[item.gold] : "\(item.gold)"
    switch mode {
    case .loglikelihood:
      var scores: [ChoiceLoglikelihood] = []
      for choice in item.choices {
        // lm-eval's target_delimiter: the choice follows the context after one space.
        scores.append(try await client.loglikelihood(context: item.context, continuation: " " + choice))
      }
      let score = task.score(item, loglikelihoods: scores)
      return ItemResult(
        id: item.id, gold: gold, prediction: score.prediction, metrics: score.metrics,
        loglikelihoods: scores.map(\.logprob), greedy: scores.map(\.isGreedy), reply: nil)
    case .generate:
      guard let request = task.generationRequest(for: item) else {
        throw EvalTaskError.modeUnsupported(task: task.name, mode: mode)
      }
      let reply = try await client.chat(request)
      let score = task.score(item, reply: reply)
      let goldAnswer = score.expected ?? gold
      return ItemResult(
        id: item.id, gold: goldAnswer, prediction: score.prediction, metrics: score.metrics,
        loglikelihoods: nil,
        greedy: nil, reply: reply)
    }
  }

  /// Scores the items not yet in `done`, appending each result to `results`; `progress` gets
  /// (finished, total) after each. Returns every result, old and new, in the items' order.
  public func run(
    items: [EvalItem], mode: ScoringMode, done: [ItemResult], results: ResultsDirectory,
    progress: @escaping @Sendable (Int, Int) -> Void
  ) async throws -> [ItemResult] {
    let finished = Dictionary(done.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
    let pending = items.filter { finished[$0.id] == nil }
    var collected = finished
    var count = items.count - pending.count
    progress(count, items.count)
    try await withThrowingTaskGroup(of: ItemResult.self) { group in
      var next = 0
      func launch() {
        guard next < pending.count else { return }
        let item = pending[next]
        next += 1
        group.addTask { try await self.score(item, mode: mode) }
      }
      for _ in 0..<concurrency { launch() }
      while let result = try await group.next() {
        try await results.append(result)
        collected[result.id] = result
        count += 1
        progress(count, items.count)
        launch()
      }
    }
    return items.compactMap { collected[$0.id] }
  }
}
