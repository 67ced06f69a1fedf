import AsyncHTTPClient
import Foundation
import HummingbirdTesting
import MuseStore
import MuseTestSupport
import NIOCore
import Testing

@testable import MuseServer

/// Issue #15's findings, each sent exactly as the probe sent it: a clear 4xx naming the field,
/// and the server keeps answering.
@Suite(.serialized)
struct HardeningTests {
  private func chat(_ extra: String, model: String = "tiny") -> String {
    #"{"model": "\#(model)", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 2, \#(extra)}"#
  }

  private func expect400(
    _ r: TestResponse, param: String, sourceLocation: SourceLocation = #_sourceLocation
  ) {
    #expect(r.status.code == 400, "\(r.text)", sourceLocation: sourceLocation)
    #expect(r.error["param"] as? String == param, "\(r.text)", sourceLocation: sourceLocation)
    #expect(r.error["type"] as? String == "invalid_request_error", sourceLocation: sourceLocation)
  }

  @Test func hugeAndOutOfRangeNumbersAreRefusedNamingTheField() async throws {
    let h = try ServerHarness()
    try await h.test { c in
      let path = "/v1/chat/completions"
      let big = "9223372036854775807"
      let cases: [(String, String)] = [
        (#""max_tokens": 1, "max_completion_tokens": \#(big)"#, "max_completion_tokens"),
        (#""temperature": 1e39"#, "temperature"), (#""seed": -2"#, "seed"),
        (#""seed": 18446744073709551616"#, "seed"), (#""top_k": -1"#, "top_k"), (#""min_p": -5"#, "min_p"),
        (#""min_p": 5"#, "min_p"), (#""repetition_penalty": 0"#, "repetition_penalty"),
        (#""repetition_penalty": -1"#, "repetition_penalty"), (#""stop": [""]"#, "stop"),
        (#""tools": "x""#, "tools"), (#""tools": [1]"#, "tools[0]"),
        (#""tools": [{"type": "function"}]"#, "tools[0].function"),
        (#""chat_template_kwargs": "x""#, "chat_template_kwargs"),
        (#""top_logprobs": 21, "logprobs": true"#, "top_logprobs"),
      ]
      for (field, param) in cases {
        expect400(try await c.call(path, method: .post, key: h.user, json: chat(field)), param: param)
      }
      // max_tokens of 2^63 − 1 used to overflow prompt + max_tokens and kill the process.
      let body = #"{"model": "tiny", "messages": [{"role": "user", "content": "hi"}], "max_tokens": \#(big)}"#
      expect400(try await c.call(path, method: .post, key: h.user, json: body), param: "max_tokens")
      let completion = #"{"model": "tiny", "prompt": "hi", "max_tokens": \#(big)}"#
      expect400(
        try await c.call("/v1/completions", method: .post, key: h.user, json: completion), param: "max_tokens"
      )
      let huge = #"{"model": "tiny", "prompt": "hi", "max_tokens": 18446744073709551616}"#
      expect400(
        try await c.call("/v1/completions", method: .post, key: h.user, json: huge), param: "max_tokens")
      // seed -1 is llama-server's "no seed".
      let ok = try await c.call(path, method: .post, key: h.user, json: chat(#""seed": -1"#))
      #expect(ok.status == .ok, "\(ok.text)")
      // A content part without a type is text, as the spec allows.
      let parts = try await c.call(
        path, method: .post, key: h.user,
        json:
          #"{"model": "smol", "messages": [{"role": "user", "content": [{"text": "Hi"}, {"type": "text", "text": " there"}]}], "max_tokens": 2}"#
      )
      #expect(parts.status == .ok, "\(parts.text)")
      #expect(try await c.call("/health", key: nil).status == .ok)
    }
  }

  @Test func invalidUTF8IsNamedAsSuch() async throws {
    let h = try ServerHarness()
    try await h.test { c in
      var body = ByteBuffer(string: #"{"model": "tiny", "messages": [{"role": "user", "content": ""#)
      body.writeBytes([0xff, 0xfe])
      body.writeString(#""}]}"#)
      let r = try await c.execute(
        uri: "/v1/chat/completions", method: .post,
        headers: [.authorization: "Bearer \(h.user)", .contentType: "application/json"], body: body)
      #expect(r.status == .badRequest)
      #expect((r.error["message"] as? String)?.contains("UTF-8") == true, "\(r.text)")
    }
  }

  @Test func wrongMethodOnAKnownPathIs405WithAllow() async throws {
    let h = try ServerHarness()
    try await h.test { c in
      let r = try await c.call("/v1/chat/completions", method: .delete, key: h.user)
      #expect(r.status == .methodNotAllowed, "\(r.text)")
      #expect(r.headers[.allow] == "POST")
      let trace = try await c.call("/v1/models/tiny", method: .init("TRACE")!, key: h.user)
      #expect(trace.status == .methodNotAllowed)
      #expect(trace.headers[.allow] == "GET")
      #expect(try await c.call("/v1/nothing", key: h.user).status == .notFound)
    }
  }

  @Test func keyExpiryIsBoundedAndLimitsAreSnakeCase() async throws {
    let h = try ServerHarness()
    try await h.test { c in
      let far = try await c.call(
        "/v1/admin/keys", method: .post, key: h.admin, json: #"{"name": "far", "expires_in_days": 2940000}"#)
      expect400(far, param: "expires_in_days")
      let negative = try await c.call(
        "/v1/admin/keys", method: .post, key: h.admin,
        json: #"{"name": "n", "limits": {"budget_tokens": -1}}"#)
      expect400(negative, param: "limits.budget_tokens")
      // budget_period may be left out (a month), as the spec says.
      let made = try await c.call(
        "/v1/admin/keys", method: .post, key: h.admin,
        json: #"{"name": "ok", "limits": {"budget_tokens": 1000}, "expires_in_days": 2900000}"#)
      #expect(made.status == .created, "\(made.text)")
      let record = try #require(made.json["record"] as? [String: Any])
      let limits = try #require(record["limits"] as? [String: Any])
      #expect(limits["budget_tokens"] as? Int == 1000 && limits["budget_period"] as? String == "month")
      // Unix seconds, like every other timestamp of the API.
      let created = try #require(record["created_at"] as? Double)
      #expect(abs(created - Date().timeIntervalSince1970) < 600)
      let list = try await c.call("/v1/admin/keys", key: h.admin)
      #expect(list.status == .ok)
      expect400(try await c.call("/v1/usage?days=-3", key: h.user), param: "days")
    }
  }
}
