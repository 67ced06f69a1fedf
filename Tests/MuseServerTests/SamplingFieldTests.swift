import Foundation
import HummingbirdTesting
import MuseTestSupport
import Testing

@testable import MuseServer

/// OpenAI's `logit_bias`, `frequency_penalty` and `presence_penalty` on both generation routes:
/// they change what is generated (SmolLM2, greedy), and bad values are refused naming the field.
@Suite(.serialized)
struct SamplingFieldTests {
  /// The generated tokens (their text, from `logprobs`) of a greedy completion.
  private func tokens(_ c: any TestClientProtocol, _ h: ServerHarness, _ prompt: String, _ extra: String)
    async throws
    -> [String]
  {
    let body =
      #"{"model": "smol", "prompt": \#(prompt), "max_tokens": 12, "temperature": 0, "logprobs": 0, "#
      + #""ignore_eos": true\#(extra)}"#
    let r = try await c.call("/v1/completions", method: .post, key: h.admin, json: body)
    #expect(r.status == .ok, "\(r.text)")
    let choice = (r.json["choices"] as? [[String: Any]])?.first
    return (choice?["logprobs"] as? [String: Any])?["tokens"] as? [String] ?? []
  }

  private func mostRepeated(_ tokens: [String]) -> Int {
    Dictionary(grouping: tokens, by: { $0 }).values.map(\.count).max() ?? 0
  }

  @Test func penaltiesCountTheCompletionNotThePrompt() async throws {
    let h = try ServerHarness()
    try await h.test { c in
      let prompt = #""Fruits: apple, banana, apple, banana, apple, banana,""#
      let plain = try await tokens(c, h, prompt, "")
      #expect(plain.count == 12 && mostRepeated(plain) >= 5, "\(plain)")  // " apple", ",", " banana", ","…
      for field in ["frequency_penalty", "presence_penalty"] {
        let penalised = try await tokens(c, h, prompt, #", "\#(field)": 2"#)
        #expect(penalised.count == 12, "\(field): \(penalised)")
        // The prompt's " apple"s are not counted: the first token is the unpenalised one.
        #expect(penalised.first == plain.first, "\(field): \(penalised) vs \(plain)")
        #expect(mostRepeated(penalised) < mostRepeated(plain), "\(field): \(penalised) vs \(plain)")
      }
    }
  }

  @Test func logitBiasForcesATokenOnBothRoutes() async throws {
    let h = try ServerHarness()
    try await h.test { c in
      let t = try await c.call(
        "/tokenize", method: .post, key: h.admin,
        json: #"{"model": "smol", "prompt": " banana", "add_special_tokens": false}"#)
      let id = try #require((t.json["tokens"] as? [Int])?.first)
      let d = try await c.call(
        "/detokenize", method: .post, key: h.admin,
        json: #"{"model": "smol", "tokens": [\#(id), \#(id), \#(id)]}"#)
      let expected = try #require(d.json["prompt"] as? String)
      let bias = #""logit_bias": {"\#(id)": 100}, "max_tokens": 3, "temperature": 0, "ignore_eos": true"#
      let completion = try await c.call(
        "/v1/completions", method: .post, key: h.admin, json: #"{"model": "smol", "prompt": "Hi", \#(bias)}"#)
      #expect((completion.json["choices"] as? [[String: Any]])?.first?["text"] as? String == expected)
      let chat = try await c.call(
        "/v1/chat/completions", method: .post, key: h.admin,
        json: #"{"model": "smol", "messages": [{"role": "user", "content": "Hi"}], \#(bias)}"#)
      let message = (chat.json["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any]
      #expect(message?["content"] as? String == expected, "\(chat.text)")
    }
  }

  @Test func badSamplingFieldsAreRefusedNamingTheField() async throws {
    let h = try ServerHarness()
    try await h.test { c in
      let many = (0..<301).map { #""\#($0)": 1"# }.joined(separator: ", ")
      let cases: [(String, String)] = [
        (#""logit_bias": {"abc": 1}"#, "logit_bias"), (#""logit_bias": {"-1": 1}"#, "logit_bias"),
        (#""logit_bias": {"007": 1}"#, "logit_bias"), (#""logit_bias": {"49152": 1}"#, "logit_bias"),
        (#""logit_bias": {"99999999999999999999": 1}"#, "logit_bias"),
        (#""logit_bias": {"5": 101}"#, "logit_bias[5]"), (#""logit_bias": {"5": "1"}"#, "logit_bias[5]"),
        (#""logit_bias": {"5": -1e39}"#, "logit_bias[5]"),
        (#""logit_bias": {\#(many)}"#, "logit_bias"), (#""logit_bias": [1]"#, "logit_bias"),
        (#""frequency_penalty": 2.5"#, "frequency_penalty"), (#""presence_penalty": -3"#, "presence_penalty"),
      ]
      for route in ["/v1/completions", "/v1/chat/completions"] {
        for (field, param) in cases {
          let input =
            route == "/v1/completions"
            ? #""prompt": "hi""# : #""messages": [{"role": "user", "content": "hi"}]"#
          let r = try await c.call(
            route, method: .post, key: h.admin,
            json: #"{"model": "smol", \#(input), "max_tokens": 1, \#(field)}"#)
          #expect(
            r.status.code == 400 && r.error["param"] as? String == param, "\(route) \(field): \(r.text)")
        }
      }
      for (field, param) in [
        (#""best_of": 2"#, "best_of"), (#""best_of": 0"#, "best_of"), (#""suffix": " end""#, "suffix"),
      ] {
        let r = try await c.call(
          "/v1/completions", method: .post, key: h.admin,
          json: #"{"model": "smol", "prompt": "hi", "max_tokens": 1, \#(field)}"#)
        #expect(r.status.code == 400 && r.error["param"] as? String == param, "\(field): \(r.text)")
      }
      let ok = try await c.call(
        "/v1/completions", method: .post, key: h.admin,
        json: #"{"model": "smol", "prompt": "hi", "max_tokens": 1, "logit_bias": {"0": -100, "49151": 100}, "#
          + #""best_of": 1, "suffix": ""}"#)
      #expect(ok.status == .ok, "\(ok.text)")
    }
  }

  /// /openapi.json's pattern for `logit_bias`'s keys accepts exactly the ids the server takes.
  @Test func theKeyPatternIsTheRangeOfTokenIds() throws {
    for max in [0, 1, 9, 10, 11, 99, 100, 101, 190, 999, 1000, 4096, 49151, 151_935] {
      let regex = try NSRegularExpression(pattern: OpenAPIDocument.decimalPattern(upTo: max))
      func matches(_ s: String) -> Bool {
        regex.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) != nil
      }
      let limit = min(max * 10 + 20, 200_000)
      for n in 0...limit where matches(String(n)) != (n <= max) {
        Issue.record("max \(max): \(n) \(n <= max ? "refused" : "accepted")")
        break
      }
      for bad in ["", "-1", "01", "+1", " 1", "1 ", "1.0", "١"] {
        #expect(!matches(bad), "max \(max): '\(bad)'")
      }
    }
  }
}
