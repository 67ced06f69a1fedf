import Foundation
import HummingbirdTesting
import MuseStore
import MuseTestSupport
import Testing

@testable import MuseServer

/// Bad requests get OpenAI-shaped errors with the right status, and the server stays up.
@Suite(.serialized)
struct APIErrorTests {
  func expectError(
    _ r: TestResponse, _ status: Int, code: String?, type: String? = nil, param: String? = nil,
    sourceLocation: SourceLocation = #_sourceLocation
  ) {
    #expect(Int(r.status.code) == status, "\(r.text)", sourceLocation: sourceLocation)
    #expect(r.headers[.contentType] == "application/json", sourceLocation: sourceLocation)
    #expect(r.error["message"] is String, "\(r.text)", sourceLocation: sourceLocation)
    if let code { #expect(r.error["code"] as? String == code, "\(r.text)", sourceLocation: sourceLocation) }
    if let type { #expect(r.error["type"] as? String == type, sourceLocation: sourceLocation) }
    if let param {
      #expect(r.error["param"] as? String == param, "\(r.text)", sourceLocation: sourceLocation)
    }
  }

  @Test func authentication() async throws {
    let h = try ServerHarness()
    try await h.test { c in
      expectError(try await c.call("/v1/models", key: nil), 401, code: "missing_api_key")
      expectError(try await c.call("/v1/models", key: "muse-not-a-real-key"), 401, code: "invalid_api_key")
      expectError(try await c.call("/v1/models", key: h.weightsOnly), 403, code: "insufficient_permissions")
      expectError(try await c.call("/v1/admin/keys", key: h.user), 403, code: "insufficient_permissions")
    }
  }

  @Test func malformedBodies() async throws {
    let h = try ServerHarness()
    try await h.test { c in
      let path = "/v1/chat/completions"
      expectError(try await c.call(path, method: .post, key: h.user, json: "{not json"), 400, code: nil)
      expectError(
        try await c.call(path, method: .post, key: h.user, json: #"{"model": "smol"}"#), 400,
        code: "missing_required_parameter", param: "messages")
      expectError(
        try await c.call(path, method: .post, key: h.user, json: #"{"model": "smol", "messages": "hi"}"#),
        400,
        code: "invalid_type", param: "messages")
      expectError(
        try await c.call(
          path, method: .post, key: h.user,
          json: #"{"model": "smol", "messages": [{"role": "user", "content": "hi"}], "temperature": "hot"}"#),
        400,
        code: "invalid_type", param: "temperature")
      expectError(
        try await c.call(
          path, method: .post, key: h.user,
          json: #"{"model": "smol", "messages": [{"role": "wizard", "content": "hi"}]}"#), 400,
        code: "invalid_value", param: "messages[0].role")
      expectError(
        try await c.call(
          path, method: .post, key: h.user,
          json: #"{"model": "smol", "messages": [{"role": "user", "content": "hi"}], "temperature": 3}"#),
        400,
        code: "invalid_value", param: "temperature")
      let huge =
        #"{"model": "smol", "messages": [{"role": "user", "content": ""#
        + String(repeating: "a", count: 70_000) + "\"}]}"
      expectError(
        try await c.call(path, method: .post, key: h.user, json: huge), 413, code: "request_too_large")
      // Still serving after all that.
      #expect(try await c.call("/health", key: nil).status == .ok)
    }
  }

  @Test func unknownModelAndContextOverflow() async throws {
    let h = try ServerHarness()
    try await h.test { c in
      expectError(
        try await c.call(
          "/v1/chat/completions", method: .post, key: h.user,
          json: #"{"model": "gpt-9", "messages": [{"role": "user", "content": "hi"}]}"#), 404,
        code: "model_not_found", param: "model")
      expectError(
        try await c.call(
          "/v1/chat/completions", method: .post, key: h.user,
          json: #"{"model": "smol", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 100000}"#),
        400,
        code: "context_length_exceeded")
      expectError(try await c.call("/v1/nothing-here", key: h.user), 404, code: "unknown_url")
    }
  }

  @Test func modelAllowList() async throws {
    let h = try ServerHarness(userModels: ["tiny"])
    try await h.test { c in
      let models = try await c.call("/v1/models", key: h.user)
      #expect((models.json["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == ["tiny"])
      expectError(
        try await c.call(
          "/v1/chat/completions", method: .post, key: h.user,
          json: #"{"model": "smol", "messages": [{"role": "user", "content": "hi"}]}"#), 403,
        code: "model_not_allowed")
    }
  }

  @Test func requestRateLimit() async throws {
    let h = try ServerHarness(limits: KeyLimits(requestsPerMinute: 1))
    try await h.test { c in
      let body = #"{"model": "smol", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 1}"#
      #expect(try await c.call("/v1/chat/completions", method: .post, key: h.user, json: body).status == .ok)
      let r = try await c.call("/v1/chat/completions", method: .post, key: h.user, json: body)
      expectError(r, 429, code: "rate_limit_exceeded")
      #expect(Int(r.headers[.retryAfter] ?? "") ?? 0 >= 1)
    }
  }

  @Test func tokenBudget() async throws {
    let h = try ServerHarness(limits: KeyLimits(budgetTokens: 60))
    try await h.test { c in
      let body = #"{"model": "smol", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 5}"#
      #expect(try await c.call("/v1/chat/completions", method: .post, key: h.user, json: body).status == .ok)
      expectError(
        try await c.call("/v1/chat/completions", method: .post, key: h.user, json: body), 429,
        code: "insufficient_quota")
    }
  }
}

struct AdmissionTests {
  /// Two requests in flight at once may not together reserve more than the budget.
  @Test func concurrentRequestsCannotOverspend() async throws {
    let store = try SQLiteStore(
      path: try TestPaths.temporaryDirectory().appendingPathComponent("s.sqlite").path)
    let (_, key) = APIKey.generate(name: "k", scopes: [.inference], limits: KeyLimits(budgetTokens: 100))
    let admission = Admission(store: store)
    let first = try await admission.admit(key: key, tokens: 60, microdollars: 0)
    await #expect(throws: AdmissionError.self) {
      try await admission.admit(key: key, tokens: 60, microdollars: 0)
    }
    await admission.settle(first, tokensUsed: 0)
    _ = try await admission.admit(key: key, tokens: 60, microdollars: 0)
  }

  @Test func moneyBudgetUsesPrices() async throws {
    let store = try SQLiteStore(
      path: try TestPaths.temporaryDirectory().appendingPathComponent("s.sqlite").path)
    let (_, key) = APIKey.generate(
      name: "k", scopes: [.inference], limits: KeyLimits(budgetMicrodollars: 1000))
    let admission = Admission(store: store)
    _ = try await admission.admit(key: key, tokens: 1, microdollars: 900)
    await #expect(throws: AdmissionError.self) {
      try await admission.admit(key: key, tokens: 1, microdollars: 200)
    }
  }
}

@Suite(.serialized)
struct ChatTemplateRejectionTests {
  /// SmolLM2's template concatenates `content` as a string, so a message whose content is null
  /// (kept null because it carries `tool_calls`) is refused by the template itself, as
  /// transformers would refuse it; the client sees why. An assistant turn with calls and null
  /// content is fine: its calls become the text the generic tool format would have written.
  @Test func templateErrorsAreClientErrors() async throws {
    let h = try ServerHarness()
    try await h.test { c in
      let r = try await c.call(
        "/v1/chat/completions", method: .post, key: h.user,
        json:
          #"{"model": "smol", "messages": [{"role": "user", "content": null, "tool_calls": []}]}"#
      )
      #expect(r.status == .badRequest && r.error["code"] as? String == "invalid_messages", "\(r.text)")
      #expect((r.error["message"] as? String ?? "").contains("can only concatenate str"))
      let replayed = try await c.call(
        "/v1/chat/completions", method: .post, key: h.user,
        json:
          #"{"model": "smol", "max_tokens": 4, "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}, {"role": "tool", "tool_call_id": "c1", "content": "done"}]}"#
      )
      #expect(replayed.status == .ok, "\(replayed.text)")
    }
  }
}
