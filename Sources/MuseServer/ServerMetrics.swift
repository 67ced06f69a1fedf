import Foundation
import Prometheus

/// The Prometheus series `/metrics` exposes. Labels carry model ids and status codes only:
/// never keys, prompts or file paths.
public final class ServerMetrics: @unchecked Sendable {
  public let registry = PrometheusCollectorRegistry()

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

  func queue(model: String, depth: Int, active: Int) {
    registry.makeGauge(
      descriptor: name("queue_depth", "requests", "Requests waiting for a model."), labels: [("model", model)]
    ).set(Double(depth))
    registry.makeGauge(
      descriptor: name("active_sequences", "sequences", "Sequences being generated."),
      labels: [("model", model)]
    ).set(Double(active))
  }

  public func render() -> String { registry.emitToString() }
}
