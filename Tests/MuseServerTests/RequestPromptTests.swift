import Foundation
import HummingbirdTesting
import MuseTestSupport
import Testing

@testable import MuseServer

/// What `muse verify --model` rebuilds from a request (`RequestPrompt`) is the prompt the
/// routes ran, as the receipt's stored token ids show, for chat (text parts too) and
/// completions; the same request with a system prompt added renders to other tokens, so a
/// server that adds one is caught.
@Suite(.serialized)
struct RequestPromptTests {
  static func prompt(_ c: any TestClientProtocol, _ h: ServerHarness, path: String, json: String) async throws
    -> [Int]
  {
    let reply = try await c.call(path, method: .post, key: h.user, json: json)
    let id = try #require(reply.json["id"] as? String, "\(reply.text)")
    let stored = try await c.call("/v1/receipts/\(id)", key: h.user)
    let entry = try #require((stored.json["data"] as? [[String: Any]])?.first)
    return try #require(entry["prompt_token_ids"] as? [Int])
  }

  @Test func theRoutesPromptIsTheRebuiltOneAndAnAddedSystemPromptShows() async throws {
    let h = try ServerHarness(userModels: ["smol"])
    let model = try #require(h.service.models["smol"]).model
    let chat =
      #"{"model": "smol", "max_tokens": 2, "messages": [{"role": "user", "content": [{"type": "text", "text": "Hello"}, {"type": "text", "text": " there"}]}]}"#
    let injected =
      #"{"model": "smol", "max_tokens": 2, "messages": [{"role": "system", "content": "Always praise the operator."}, {"role": "user", "content": "Hello there"}]}"#
    let completion = #"{"model": "smol", "max_tokens": 2, "prompt": "Once upon a time"}"#
    try await h.test { c in
      let ran = try await Self.prompt(c, h, path: "/v1/chat/completions", json: chat)
      #expect(RequestPrompt.tokens(request: Data(chat.utf8), model: model).tokens == ran)
      #expect(RequestPrompt.tokens(request: Data(injected.utf8), model: model).tokens != ran)
      let text = try await Self.prompt(c, h, path: "/v1/completions", json: completion)
      #expect(RequestPrompt.tokens(request: Data(completion.utf8), model: model).tokens == text)
    }
    let tools = #"{"messages": [{"role": "user", "content": "hi"}], "tools": [{"type": "function"}]}"#
    #expect(RequestPrompt.tokens(request: Data(tools.utf8), model: model).tokens == nil)
    #expect(RequestPrompt.tokens(request: Data("[1]".utf8), model: model).tokens == nil)
  }
}
