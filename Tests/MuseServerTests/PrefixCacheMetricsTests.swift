import Foundation
import HummingbirdTesting
import MuseTestSupport
import Testing

@testable import MuseEngine
@testable import MuseServer

/// The same long prompt twice: the second request's full prompt blocks come from the prefix
/// cache, its text is the same, and /metrics counts the hit and the KV blocks.
@Suite(.serialized)
struct PrefixCacheMetricsTests {
  @Test func repeatedPromptIsCountedAsHitsInMetrics() async throws {
    let h = try ServerHarness()
    let prompt = String(repeating: "The river runs past the old stone house. ", count: 8)
    let body = #"{"model": "tiny", "prompt": "\#(prompt)", "max_tokens": 4, "temperature": 0}"#
    try await h.test { c in
      let first = try await c.call("/v1/completions", method: .post, key: h.user, json: body)
      let second = try await c.call("/v1/completions", method: .post, key: h.user, json: body)
      #expect(first.status == .ok && second.status == .ok)
      let text = { (r: TestResponse) in ((r.json["choices"] as? [[String: Any]])?.first?["text"] as? String) }
      #expect(text(first) != nil && text(first) == text(second))
      let metrics = try await c.call("/metrics", key: nil).text
      let hits = Self.value(of: #"muse_prefix_cache_hits_total{model="tiny"}"#, in: metrics)
      let misses = Self.value(of: #"muse_prefix_cache_misses_total{model="tiny"}"#, in: metrics)
      let promptTokens = try #require(
        (second.json["usage"] as? [String: Any])?["prompt_tokens"] as? Int)
      let reused = (promptTokens - 1) / 16 * 16
      #expect(reused >= 32)
      #expect(hits == Double(reused))
      #expect(misses == Double(2 * promptTokens - reused))
      #expect(Self.value(of: #"muse_kv_cache_blocks_total{model="tiny"}"#, in: metrics) ?? 0 > 0)
      #expect(Self.value(of: #"muse_kv_cache_blocks_in_use_blocks{model="tiny"}"#, in: metrics) == 0)
    }
  }

  /// Preemptions are a running total in the pool; the counter goes up by what is new at each
  /// scrape, per model.
  @Test func preemptionsAreCountedPerModel() {
    let metrics = ServerMetrics()
    var statistics = KVBlockPool.Statistics(
      blocksTotal: 8, blocksInUse: 2, prefixHitTokens: 0, prefixMissTokens: 0, preemptions: 2)
    metrics.kvCache(model: "a", statistics: statistics)
    statistics.preemptions = 5
    metrics.kvCache(model: "a", statistics: statistics)
    metrics.kvCache(
      model: "b", statistics: .init(blocksTotal: 8, blocksInUse: 0, prefixHitTokens: 0, prefixMissTokens: 0))
    let text = metrics.render()
    #expect(Self.value(of: #"muse_kv_cache_preemptions_total{model="a"}"#, in: text) == 5)
    #expect(Self.value(of: #"muse_kv_cache_preemptions_total{model="b"}"#, in: text) == 0)
  }

  static func value(of series: String, in text: String) -> Double? {
    for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
      return Double(line.dropFirst(series.count + 1))
    }
    return nil
  }
}
