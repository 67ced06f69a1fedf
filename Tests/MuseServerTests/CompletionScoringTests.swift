import Foundation
import HTTPTypes
import HummingbirdTesting
import MuseModels
import MuseTestSupport
import Testing

@testable import MuseServer

/// Scoring through `POST /v1/completions` as OpenAI's legacy API did it (lm-evaluation-harness's
/// `local-completions`): token-id prompts, `echo` with `logprobs`, `max_tokens: 0`, the end of
/// sequence's entry, and `/tokenize` / `/detokenize`.
@Suite(.serialized)
struct CompletionScoringTests {
  struct Golden: Decodable {
    let tokens: [Int]
    // swiftlint:disable:next identifier_name
    let max_logit: Double
    let logprobs: [Double]
    let top: [[[Double]]]
  }

  static func logprobs(_ r: TestResponse) -> [String: Any] {
    ((r.json["choices"] as? [[String: Any]])?.first?["logprobs"] as? [String: Any]) ?? [:]
  }

  /// The prompt's log-probabilities from one prefill equal the numpy reference's log-softmax of
  /// each row (Scripts/golden/prompt_logprobs_golden.py). Tolerance: the fixture golden tests
  /// hold logits within 1e-4 of the largest |logit|; a log-probability is a logit less the
  /// log-sum-exp, which is off by at most as much again, so 2e-4 × the largest |logit|
  /// (0.0023 here; measured: 5e-6).
  @Test func echoedPromptLogprobsMatchTheReference() async throws {
    let golden = try TestPaths.golden("golden/prompt-logprobs.json", as: Golden.self)
    let tolerance = 2e-4 * golden.max_logit
    let h = try ServerHarness()
    try await h.test { c in
      let ids = golden.tokens.map(String.init).joined(separator: ", ")
      let r = try await c.call(
        "/v1/completions", method: .post, key: h.user,
        json: #"{"model": "tiny", "prompt": [\#(ids)], "echo": true, "max_tokens": 0, "logprobs": 5}"#)
      #expect(r.status == .ok, "\(r.text)")
      let choice = try #require((r.json["choices"] as? [[String: Any]])?.first)
      #expect(choice["finish_reason"] as? String == "length")
      let usage = try #require(r.json["usage"] as? [String: Any])
      #expect(
        usage["prompt_tokens"] as? Int == golden.tokens.count && usage["completion_tokens"] as? Int == 0)
      let lp = Self.logprobs(r)
      let values = try #require(lp["token_logprobs"] as? [Any])
      let tops = try #require(lp["top_logprobs"] as? [Any])
      #expect(values.count == golden.tokens.count && tops.count == golden.tokens.count)
      #expect(values.first is NSNull && tops.first is NSNull)
      for (i, expected) in golden.logprobs.enumerated() {
        let got = try #require(values[i + 1] as? Double)
        #expect(abs(got - expected) <= tolerance, "token \(i + 1): \(got) vs \(expected)")
        let top = try #require(tops[i + 1] as? [String: Double])
        #expect(top.count <= 5)
        #expect(abs((top.values.max() ?? 0) - golden.top[i][0][1]) <= tolerance, "top of token \(i + 1)")
      }
      // The echoed text is what the ids decode to, and each offset points into it.
      let text = try #require(choice["text"] as? String)
      let tokens = try #require(lp["tokens"] as? [String])
      let offsets = try #require(lp["text_offset"] as? [Int])
      #expect(offsets.count == tokens.count && offsets.first == 0)
      #expect(zip(offsets, offsets.dropFirst()).allSatisfy { $0 <= $1 })
      #expect(offsets.allSatisfy { $0 <= text.unicodeScalars.count })
    }
    // Billed through the ledger like any other completion: the prompt only.
    let row = try #require(
      try h.store.usage(keyID: nil, since: nil, limit: 10).first { $0.endpoint == "completions" })
    #expect(row.promptTokens == golden.tokens.count && row.completionTokens == 0 && row.status == 200)
  }

  /// `text_offset` of a text prompt: each prompt token starts where the text of the tokens
  /// before it ends, and the completion's continue from the end of the echo.
  @Test func echoedOffsetsFollowTheText() async throws {
    let h = try ServerHarness()
    try await h.test { c in
      let r = try await c.call(
        "/v1/completions", method: .post, key: h.user,
        json:
          #"{"model": "tiny", "prompt": "Hello world, how are you", "echo": true, "max_tokens": 3, "logprobs": 1, "temperature": 0, "ignore_eos": true}"#
      )
      #expect(r.status == .ok, "\(r.text)")
      let choice = try #require((r.json["choices"] as? [[String: Any]])?.first)
      let text = Array(try #require(choice["text"] as? String).unicodeScalars)
      let lp = Self.logprobs(r)
      let tokens = try #require(lp["tokens"] as? [String])
      let offsets = try #require(lp["text_offset"] as? [Int])
      let promptCount = "Hello world, how are you".unicodeScalars.count
      #expect(text.prefix(promptCount).map(String.init).joined() == "Hello world, how are you")
      // The completion's tokens spell the text after the echo, from its end.
      let completion = tokens.suffix(3)
      #expect(offsets.suffix(3).first == promptCount)
      #expect(String(String.UnicodeScalarView(text.dropFirst(promptCount))) == completion.joined())
      // Between a prompt token's offset and the next is that token's text (less a prefix space
      // the decoder drops, or nothing for a special token such as BOS).
      let promptTokens = tokens.count - 3
      for i in 0..<promptTokens {
        let end = i + 1 < offsets.count ? offsets[i + 1] : promptCount
        let span = String(String.UnicodeScalarView(text[offsets[i]..<end]))
        #expect(
          span.isEmpty || span == tokens[i] || " " + span == tokens[i],
          "'\(tokens[i])' at \(offsets[i]): '\(span)'")
      }
    }
  }

  @Test func tokenPromptsSingleAndBatched() async throws {
    let h = try ServerHarness()
    try await h.test { c in
      let t = try await c.call(
        "/tokenize", method: .post, key: h.user, json: #"{"model": "tiny", "prompt": "Hello world"}"#)
      #expect(t.status == .ok, "\(t.text)")
      let ids = try #require(t.json["tokens"] as? [Int]).map(String.init).joined(separator: ",")
      let sampling = #""max_tokens": 4, "temperature": 0, "ignore_eos": true"#
      let byText = try await c.call(
        "/v1/completions", method: .post, key: h.user,
        json: #"{"model": "tiny", "prompt": "Hello world", \#(sampling)}"#)
      let byIDs = try await c.call(
        "/v1/completions", method: .post, key: h.user,
        json: #"{"model": "tiny", "prompt": [\#(ids)], \#(sampling)}"#)
      let batched = try await c.call(
        "/v1/completions", method: .post, key: h.user,
        json: #"{"model": "tiny", "prompt": [[\#(ids)], [\#(ids)]], \#(sampling)}"#)
      #expect(byIDs.status == .ok && batched.status == .ok, "\(byIDs.text) \(batched.text)")
      let expected = (byText.json["choices"] as? [[String: Any]])?.first?["text"] as? String
      #expect(
        expected != nil && (byIDs.json["choices"] as? [[String: Any]])?.first?["text"] as? String == expected)
      let choices = try #require(batched.json["choices"] as? [[String: Any]])
      #expect(choices.count == 2 && choices.map { $0["index"] as? Int } == [0, 1])
      #expect(choices.allSatisfy { $0["text"] as? String == expected })
      // lm-evaluation-harness's log-likelihood request: several id lists, echo, one logprob each.
      let scored = try await c.call(
        "/v1/completions", method: .post, key: h.user,
        json:
          #"{"model": "tiny", "prompt": [[\#(ids)], [\#(ids), 300]], "echo": true, "max_tokens": 0, "logprobs": 1}"#
      )
      let lists = (scored.json["choices"] as? [[String: Any]] ?? []).compactMap {
        ($0["logprobs"] as? [String: Any])?["token_logprobs"] as? [Any]
      }
      #expect(lists.count == 2 && lists[1].count == lists[0].count + 1, "\(scored.text)")
      #expect(lists.count == 2 && "\(lists[0])" == "\(lists[1].dropLast())")
      #expect(
        (batched.json["usage"] as? [String: Any])?["prompt_tokens"] as? Int == 2
          * ids.split(separator: ",").count)
    }
  }

  @Test func refusals() async throws {
    let h = try ServerHarness()
    try await h.test { c in
      let cases: [(String, String)] = [
        (#""prompt": [1, 99999]"#, "prompt[1]"),
        (#""prompt": [1, -1]"#, "prompt[1]"),
        (#""prompt": [[1, 2], [3, 1.5]]"#, "prompt[1][1]"),
        (#""prompt": ["hello", 1]"#, "prompt[1]"),
        (#""prompt": [[1], 2]"#, "prompt[1]"),
        (#""prompt": [[]]"#, "prompt[0]"),
        (#""prompt": [{"a": 1}]"#, "prompt[0]"),
        (#""prompt": []"#, "prompt"),
        (#""prompt": "hi", "max_tokens": 0"#, "max_tokens"),
        (#""prompt": "hi", "max_tokens": 0, "echo": false"#, "max_tokens"),
      ]
      for (fields, param) in cases {
        let r = try await c.call(
          "/v1/completions", method: .post, key: h.user, json: #"{"model": "tiny", \#(fields)}"#)
        #expect(r.status == .badRequest, "\(fields): \(r.text)")
        #expect(r.error["param"] as? String == param, "\(fields): \(r.text)")
      }
    }
  }

  /// On the fixture, BOS then token 167 makes `<|im_end|>` (the end of sequence) the top next
  /// token (the numpy reference's margin: 0.11): the reply is empty, and the step's entry —
  /// the EOS piece, its log-probability, its alternatives — is still returned, streamed or not.
  @Test func endOfSequenceStepKeepsItsLogprobs() async throws {
    let h = try ServerHarness()
    try await h.test { c in
      let body = #""model": "tiny", "prompt": [509, 167], "max_tokens": 5, "temperature": 0, "logprobs": 2"#
      let r = try await c.call("/v1/completions", method: .post, key: h.user, json: "{\(body)}")
      #expect(r.status == .ok, "\(r.text)")
      let choice = try #require((r.json["choices"] as? [[String: Any]])?.first)
      #expect(choice["finish_reason"] as? String == "stop" && choice["text"] as? String == "")
      #expect((r.json["usage"] as? [String: Any])?["completion_tokens"] as? Int == 0)
      let lp = Self.logprobs(r)
      #expect(lp["tokens"] as? [String] == ["<|im_end|>"])
      let values = try #require(lp["token_logprobs"] as? [Double])
      let tops = try #require(lp["top_logprobs"] as? [[String: Double]])
      #expect(values.count == 1 && values[0] < 0 && tops.count == 1 && tops[0].count == 2)
      #expect(tops[0]["<|im_end|>"] == values[0])
      // Streamed, the entry comes with the finish.
      let s = try await c.call(
        "/v1/completions", method: .post, key: h.user, json: "{\(body), \"stream\": true}")
      let last = Self.chunks(s).last { $0["finish_reason"] is String }
      let streamed = try #require(last?["logprobs"] as? [String: Any])
      #expect(
        streamed["tokens"] as? [String] == ["<|im_end|>"] && streamed["token_logprobs"] as? [Double] == values
      )
    }
  }

  static func chunks(_ r: TestResponse) -> [[String: Any]] {
    r.text.components(separatedBy: "\n\n").compactMap { event -> [String: Any]? in
      guard event.hasPrefix("data: {") else { return nil }
      let json = try? JSONSerialization.jsonObject(with: Data(event.dropFirst(6).utf8)) as? [String: Any]
      return (json?["choices"] as? [[String: Any]])?.first
    }
  }

  @Test func streamedEchoLogprobsEqualTheReply() async throws {
    let h = try ServerHarness()
    try await h.test { c in
      let body =
        #""model": "tiny", "prompt": "Hello world, how are you", "echo": true, "logprobs": 3, "max_tokens": 5, "temperature": 0, "ignore_eos": true"#
      let whole = try await c.call("/v1/completions", method: .post, key: h.user, json: "{\(body)}")
      let s = try await c.call(
        "/v1/completions", method: .post, key: h.user, json: "{\(body), \"stream\": true}")
      #expect(whole.status == .ok && s.status == .ok)
      let expected = Self.logprobs(whole)
      let chunks = Self.chunks(s)
      let parts = chunks.compactMap { $0["logprobs"] as? [String: Any] }
      let promptCount = try #require(whole.json["usage"] as? [String: Any])["prompt_tokens"] as? Int
      // The first chunk carries the echo and every prompt token's entry.
      #expect((parts.first?["tokens"] as? [String])?.count == promptCount)
      #expect(chunks.first?["text"] as? String == "Hello world, how are you")
      func joined(_ key: String) -> [String] { parts.flatMap { ($0[key] as? [Any] ?? []).map { "\($0)" } } }
      for key in ["tokens", "token_logprobs", "text_offset"] {
        #expect(joined(key) == (expected[key] as? [Any] ?? []).map { "\($0)" }, "\(key)")
      }
      #expect(
        chunks.compactMap { $0["text"] as? String }.joined() == (whole.json["choices"] as? [[String: Any]])?
          .first?["text"] as? String)
    }
  }

  /// Scoring only, streamed: one chunk with the echo and every prompt entry, then the finish;
  /// a token prompt's echo without logprobs is the text its ids decode to.
  @Test func streamedScoringAndEchoOfIDs() async throws {
    let h = try ServerHarness()
    try await h.test { c in
      let body = #""model": "tiny", "prompt": [461, 272, 111, 429, 312], "echo": true, "max_tokens": 0"#
      let s = try await c.call(
        "/v1/completions", method: .post, key: h.user, json: "{\(body), \"logprobs\": 1, \"stream\": true}")
      let chunks = Self.chunks(s)
      #expect(chunks.count == 2 && chunks.last?["finish_reason"] as? String == "length", "\(s.text)")
      let first = try #require(chunks.first?["logprobs"] as? [String: Any])
      #expect(
        (first["tokens"] as? [String])?.count == 5 && (first["token_logprobs"] as? [Any])?.first is NSNull)
      #expect(chunks.first?["text"] as? String == "Hello world")
      let plain = try await c.call("/v1/completions", method: .post, key: h.user, json: "{\(body)}")
      let choice = (plain.json["choices"] as? [[String: Any]])?.first
      #expect(choice?["text"] as? String == "Hello world" && choice?["logprobs"] is NSNull, "\(plain.text)")
    }
  }

  @Test func tokenizeAndDetokenize() async throws {
    let h = try ServerHarness(userModels: ["tiny"])
    try await h.test { c in
      let t = try await c.call(
        "/tokenize", method: .post, key: h.user, json: #"{"model": "tiny", "prompt": "Hello world"}"#)
      #expect(t.status == .ok, "\(t.text)")
      let ids = try #require(t.json["tokens"] as? [Int])
      #expect(t.json["count"] as? Int == ids.count && (t.json["max_model_len"] as? Int ?? 0) > 0)
      let bare = try await c.call(
        "/tokenize", method: .post, key: h.user,
        json: #"{"model": "tiny", "prompt": "Hello world", "add_special_tokens": false}"#)
      #expect((bare.json["tokens"] as? [Int] ?? []).count <= ids.count)
      let pieces = try await c.call(
        "/tokenize", method: .post, key: h.user,
        json: #"{"model": "tiny", "content": "Hello world", "with_pieces": true}"#)
      let list = try #require(pieces.json["tokens"] as? [[String: Any]])
      #expect(list.compactMap { $0["id"] as? Int } == ids && list.allSatisfy { $0["piece"] is String })
      let list2 = ids.map(String.init).joined(separator: ",")
      let d = try await c.call(
        "/detokenize", method: .post, key: h.user, json: #"{"model": "tiny", "tokens": [\#(list2)]}"#)
      #expect(d.status == .ok && d.json["prompt"] as? String == "Hello world", "\(d.text)")
      // Refusals.
      let bad = try await c.call(
        "/detokenize", method: .post, key: h.user, json: #"{"model": "tiny", "tokens": [1, 99999]}"#)
      #expect(bad.status == .badRequest && bad.error["param"] as? String == "tokens[1]")
      let none = try await c.call("/tokenize", method: .post, key: h.user, json: #"{"model": "tiny"}"#)
      #expect(none.status == .badRequest && none.error["param"] as? String == "prompt")
      let null = try await c.call(
        "/tokenize", method: .post, key: h.user, json: #"{"model": "tiny", "prompt": null, "content": "a"}"#)
      #expect(null.status == .badRequest && null.error["param"] as? String == "prompt", "\(null.text)")
      let both = try await c.call(
        "/tokenize", method: .post, key: h.user, json: #"{"model": "tiny", "prompt": "a", "content": "b"}"#)
      #expect(both.status == .badRequest)
      let anonymous = try await c.call(
        "/tokenize", method: .post, key: nil, json: #"{"model": "tiny", "prompt": "a"}"#)
      #expect(anonymous.status == .unauthorized)
      let weights = try await c.call(
        "/tokenize", method: .post, key: h.weightsOnly, json: #"{"model": "tiny", "prompt": "a"}"#)
      #expect(weights.status == .forbidden)
      let other = try await c.call(
        "/tokenize", method: .post, key: h.user, json: #"{"model": "smol", "prompt": "a"}"#)
      #expect(other.status == .forbidden || other.status == .notFound, "\(other.text)")
    }
  }

  /// What lm-evaluation-harness's remote tokenizer asks: `/tokenizer_info` and `/tokenize`
  /// without a model, answered for the one model the key may use and refused when it may use
  /// several (never with another model's tokenizer).
  @Test func tokenizerInfoAndTheModelLeftOut() async throws {
    let h = try ServerHarness(userModels: ["tiny"])
    try await h.test { c in
      let info = try await c.call("/tokenizer_info", method: .get, key: h.user)
      #expect(info.status == .ok, "\(info.text)")
      let tokenizer = try Tokenizer(gguf: GGUFFile(path: h.fixturePath))
      let eos = tokenizer.vocabulary.tokens[tokenizer.eosToken!]
      #expect(info.json["model"] as? String == "tiny" && info.json["eos_token"] as? String == eos)
      #expect(info.json["add_bos_token"] as? Bool == tokenizer.addsBOS)
      #expect((info.json["vocab_size"] as? Int) == tokenizer.vocabularySize)
      let named = try await c.call("/tokenizer_info?model=tiny", method: .get, key: h.user)
      #expect(named.text == info.text)
      let plain = try await c.call(
        "/tokenize", method: .post, key: h.user,
        json: #"{"prompt": "Hello world", "add_special_tokens": false}"#)
      #expect(
        plain.status == .ok
          && plain.json["tokens"] as? [Int] == tokenizer.encode("Hello world", addSpecial: false))
      let back = try await c.call("/detokenize", method: .post, key: h.user, json: #"{"tokens": [1, 2]}"#)
      #expect(back.status == .ok, "\(back.text)")
      // The admin key may use both language models: which tokenizer is meant must be said.
      for (path, method, json) in [
        ("/tokenizer_info", HTTPRequest.Method.get, nil as String?),
        ("/tokenize", .post, #"{"prompt": "a"}"#), ("/detokenize", .post, #"{"tokens": [1]}"#),
      ] {
        let r = try await c.call(path, method: method, key: h.admin, json: json)
        #expect(r.status == .badRequest && r.error["param"] as? String == "model", "\(path): \(r.text)")
        #expect((r.error["message"] as? String ?? "").contains("smol, tiny"))
      }
      let forbidden = try await c.call("/tokenizer_info?model=smol", method: .get, key: h.user)
      #expect(forbidden.status == .forbidden)
      let missing = try await c.call("/tokenizer_info?model=nope", method: .get, key: h.admin)
      #expect(missing.status == .notFound)
    }
  }
}
