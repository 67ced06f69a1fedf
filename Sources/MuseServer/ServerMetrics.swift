import Foundation
import MuseEngine
import Prometheus

/// The Prometheus series `/metrics` exposes. Labels carry model ids and status codes only:
/// never keys, prompts or file paths.
public final class ServerMetrics: @unchecked Sendable {
  public let registry = PrometheusCollectorRegistry()

  private let lock = NSLock()
  /// Prefix-cache totals already added to the counters, per model (the pool keeps running
  /// totals; Prometheus counters only go up by increments).
  private var reportedPrefix: [String: (hits: Int, misses: Int)] = [:]
  private var reportedPreemptions: [String: Int] = [:]

  public init() {}
  private static let latencyBuckets: [Double] = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120]

  private func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
    MetricNameDescriptor(namespace: "muse", metricName: metric, unitName: unit, helpText: help)
  }

  func request(model: String, endpoint: String, status: Int) {
    registry.makeCounter(
      descriptor: name("requests", "total", "Requests by model, endpoint and HTTP status."),
      labels: [("model", model), ("endpoint", endpoint), ("status", String(status))]
    ).increment()
  }

  func error(code: String) {
    registry.makeCounter(
      descriptor: name("errors", "total", "Error responses by error code."), labels: [("code", code)]
    ).increment()
  }

  func tokens(model: String, prompt: Int, completion: Int) {
    let d = name("tokens", "total", "Tokens processed by model and kind.")
    registry.makeCounter(descriptor: d, labels: [("model", model), ("kind", "prompt")]).increment(
      by: Int64(prompt))
    registry.makeCounter(descriptor: d, labels: [("model", model), ("kind", "completion")]).increment(
      by: Int64(completion))
  }

  func latency(model: String, seconds: Double, timeToFirstToken: Double?) {
    registry.makeValueHistogram(
      descriptor: name("request_duration", "seconds", "Request latency."), labels: [("model", model)],
      buckets: Self.latencyBuckets
    ).record(seconds)
    if let timeToFirstToken {
      registry.makeValueHistogram(
        descriptor: name("time_to_first_token", "seconds", "Time to the first generated token."),
        labels: [("model", model)], buckets: Self.latencyBuckets
      ).record(timeToFirstToken)
    }
  }

  /// How long the receipt stage took for one reply (hashing, signing, storing).
  func receipt(seconds: Double) {
    registry.makeValueHistogram(
      descriptor: name("receipt_duration", "seconds", "Time to make, sign and store a reply's receipt."),
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05]
    ).record(seconds)
  }

  func queue(model: String, depth: Int, active: Int) {
    registry.makeGauge(
      descriptor: name("queue_depth", "requests", "Requests waiting for a model."), labels: [("model", model)]
    ).set(Double(depth))
    registry.makeGauge(
      descriptor: name("active_sequences", "sequences", "Sequences being generated."),
      labels: [("model", model)]
    ).set(Double(active))
  }

  /// The KV block pool's occupancy and the prefix cache's hits and misses, in prompt tokens.
  func kvCache(model: String, statistics s: KVBlockPool.Statistics) {
    registry.makeGauge(
      descriptor: name("kv_cache_blocks_in_use", "blocks", "KV cache blocks held by sequences."),
      labels: [("model", model)]
    ).set(Double(s.blocksInUse))
    registry.makeGauge(
      descriptor: name("kv_cache_blocks", "total", "KV cache blocks in the pool."), labels: [("model", model)]
    ).set(Double(s.blocksTotal))
    let (hits, misses, preemptions): (Int, Int, Int) = lock.withLock {
      let last = reportedPrefix[model] ?? (0, 0)
      reportedPrefix[model] = (s.prefixHitTokens, s.prefixMissTokens)
      let lastPreemptions = reportedPreemptions[model] ?? 0
      reportedPreemptions[model] = s.preemptions
      return (
        s.prefixHitTokens - last.hits, s.prefixMissTokens - last.misses, s.preemptions - lastPreemptions
      )
    }
    registry.makeCounter(
      descriptor: name(
        "kv_cache_preemptions", "total",
        "Running sequences that gave their KV blocks back for older ones to grow."),
      labels: [("model", model)]
    ).increment(by: Int64(max(preemptions, 0)))
    registry.makeCounter(
      descriptor: name("prefix_cache_hits", "total", "Prompt tokens whose KV came from the prefix cache."),
      labels: [("model", model)]
    ).increment(by: Int64(max(hits, 0)))
    registry.makeCounter(
      descriptor: name("prefix_cache_misses", "total", "Prompt tokens prefilled (not in the prefix cache)."),
      labels: [("model", model)]
    ).increment(by: Int64(max(misses, 0)))
  }

  public func render() -> String { registry.emitToString() }
}

extension ServerMetrics {
  private static let guardBuckets: [Double] = [
    0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 5,
  ]

  /// One guardrail decision: counted by model, rail, stage and verdict; the rail's time.
  func guardDecision(model: String, rail: String, stage: String, verdict: String, microseconds: Int) {
    registry.makeCounter(
      descriptor: MetricNameDescriptor(
        namespace: "muse", metricName: "guard_decisions", unitName: "total",
        helpText: "Guardrail decisions by model, rail, stage and verdict."),
      labels: [("model", model), ("rail", rail), ("stage", stage), ("verdict", verdict)]
    ).increment()
    registry.makeValueHistogram(
      descriptor: MetricNameDescriptor(
        namespace: "muse", metricName: "guard_duration", unitName: "seconds",
        helpText: "Time a guardrail took on one request (all its checks)."),
      labels: [("rail", rail), ("stage", stage)], buckets: Self.guardBuckets
    ).record(Double(microseconds) / 1e6)
  }
}
