import Foundation
import HummingbirdTesting
import MuseTestSupport
import Testing

@testable import MuseServer

@Suite(.serialized)
struct LogprobTests {
  struct Golden: Decodable {
    struct Case: Decodable {
      let logits: [Double]
      let greedy: [Int]
    }
    let cases: [Case]
  }

  /// The first token's log-probability equals log-softmax of the reference logits
  /// (Scripts/golden/smollm2_golden.py), and greedy tokens are the top alternative.
  @Test func chatLogprobsMatchTheReference() async throws {
    let golden = try TestPaths.golden("golden/smollm2.json", as: Golden.self).cases[0]
    let maxLogit = golden.logits.max()!
    let logZ = maxLogit + log(golden.logits.reduce(0) { $0 + exp($1 - maxLogit) })
    let expected = golden.logits[golden.greedy[0]] - logZ
    let h = try ServerHarness()
    try await h.test { c in
      let r = try await c.call(
        "/v1/chat/completions", method: .post, key: h.user,
        json:
          #"{"model": "smol", "messages": [{"role": "user", "content": "What is the capital of France?"}], "temperature": 0, "max_tokens": 8, "logprobs": true, "top_logprobs": 3}"#
      )
      #expect(r.status == .ok)
      let choice = (r.json["choices"] as? [[String: Any]])?.first
      let content = try #require((choice?["logprobs"] as? [String: Any])?["content"] as? [[String: Any]])
      #expect(content.count == 7)
      let first = try #require(content.first)
      #expect(first["token"] as? String == "The")
      #expect(
        abs((first["logprob"] as? Double ?? 0) - expected) < 1e-3, "\(first["logprob"] ?? "-") vs \(expected)"
      )
      for entry in content {
        let top = try #require(entry["top_logprobs"] as? [[String: Any]])
        #expect(top.count == 3)
        #expect(top[0]["token"] as? String == entry["token"] as? String)
        let lps = top.compactMap { $0["logprob"] as? Double }
        #expect(lps == lps.sorted(by: >) && lps.allSatisfy { $0 <= 0 })
      }
      let text = content.compactMap { $0["token"] as? String }.joined()
      #expect(text == "The capital of France is Paris.")
    }
  }

  @Test func completionLogprobsAndValidation() async throws {
    let h = try ServerHarness()
    try await h.test { c in
      let r = try await c.call(
        "/v1/completions", method: .post, key: h.user,
        json:
          #"{"model": "smol", "prompt": "The capital of France is", "max_tokens": 3, "temperature": 0, "logprobs": 2}"#
      )
      let lp = try #require((r.json["choices"] as? [[String: Any]])?.first?["logprobs"] as? [String: Any])
      #expect((lp["tokens"] as? [String])?.count == 3 && (lp["token_logprobs"] as? [Double])?.count == 3)
      #expect((lp["top_logprobs"] as? [[String: Double]])?.allSatisfy { $0.count <= 2 } == true)
      #expect((lp["text_offset"] as? [Int])?.first == 0)
      let bad = try await c.call(
        "/v1/chat/completions", method: .post, key: h.user,
        json:
          #"{"model": "smol", "messages": [{"role": "user", "content": "hi"}], "top_logprobs": 50, "logprobs": true}"#
      )
      #expect(bad.status == .badRequest && bad.error["param"] as? String == "top_logprobs")
    }
  }
}
