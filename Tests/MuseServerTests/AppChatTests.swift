import Foundation
import Hummingbird
import HummingbirdTesting
import MuseEngine
import MuseModels
import MuseStore
import MuseTestSupport
import Testing

@testable import MuseServer

struct AppChatTests {
  @Test func aMessageStreamsTheReplyAndStoresBoth() async throws {
    let h = try AppHarness()
    try await h.test { c in
      let session = try await c.signIn("alice")
      let id = try await c.newConversation(session)
      let r = try await c.app(
        "/app/api/conversations/\(id)/messages", method: .post, session: session,
        json: #"{"content": "Show me what you render\nand more"}"#)
      #expect(r.status == .ok && r.headers[.contentType] == "text/event-stream")
      let events = r.events
      #expect(events.first?["type"] as? String == "user_message")
      let user = try #require(events.first?["message"] as? [String: Any])
      #expect(
        user["role"] as? String == "user" && user["content"] as? String == "Show me what you render\nand more"
      )
      let deltas = events.filter { $0["type"] as? String == "delta" }.compactMap { $0["text"] as? String }
      #expect(deltas.count > 10, "the reply streams in pieces")
      #expect(deltas.joined() == AppHarness.scriptedReply)
      let done = try #require(events.last)
      #expect(done["type"] as? String == "done")
      let reply = try #require(done["message"] as? [String: Any])
      #expect(reply["content"] as? String == AppHarness.scriptedReply)
      #expect(reply["finish_reason"] as? String == "stop" && reply["reasoning"] is NSNull)
      let usage = try #require(done["usage"] as? [String: Int])

      let got = try await c.app("/app/api/conversations/\(id)", session: session).json
      let messages = try #require(got["messages"] as? [[String: Any]])
      #expect(messages.map { $0["role"] as? String } == ["user", "assistant"])
      #expect(messages[1]["id"] as? String == reply["id"] as? String)
      #expect(messages[1]["content"] as? String == AppHarness.scriptedReply)
      // The first message names the conversation (its first line).
      #expect((got["conversation"] as? [String: Any])?["title"] as? String == "Show me what you render")

      // Billed to alice's key like an API call: one ledger row with the tokens the stream reported.
      let ledger = try h.store.usage(keyID: h.alice.keyID, since: nil, limit: 10)
      #expect(ledger.count == 1)
      let row = try #require(ledger.first)
      #expect(row.endpoint == "app.chat" && row.model == "scripted" && row.status == 200)
      #expect(
        row.promptTokens == usage["prompt_tokens"] && row.completionTokens == usage["completion_tokens"])
      #expect(row.completionTokens == AppHarness.scriptedCompletionTokens && row.finishReason == "stop")
      #expect(row.costMicrodollars == row.promptTokens * 1 + row.completionTokens * 2)
    }
  }

  /// With thinking on, the template gets enable_thinking (its system line lengthens the
  /// prompt) and the reply's <think>…</think> streams and is stored as reasoning.
  @Test func thinkingIsSwitchedAndSplitFromTheReply() async throws {
    struct Golden: Decodable {
      let reasoning: String
      let content: String
    }
    let golden = try TestPaths.golden("scripted/scripted-reasoning.json", as: Golden.self)
    let h = try AppHarness()
    try await h.test { c in
      let session = try await c.signIn("alice")
      var promptTokens: [Bool: Int] = [:]
      for thinking in [true, false] {
        let id = try await c.newConversation(session, model: "thinker", extra: #", "thinking": \#(thinking)"#)
        let r = try await c.app(
          "/app/api/conversations/\(id)/messages", method: .post, session: session,
          json: #"{"content": "hi"}"#)
        let events = r.events
        let reasoning = events.filter { $0["type"] as? String == "reasoning_delta" }.compactMap {
          $0["text"] as? String
        }
        let content = events.filter { $0["type"] as? String == "delta" }.compactMap { $0["text"] as? String }
        #expect(reasoning.joined() == golden.reasoning && content.joined() == golden.content)
        let done = try #require(events.last)
        let message = try #require(done["message"] as? [String: Any])
        #expect(message["reasoning"] as? String == golden.reasoning)
        #expect(message["content"] as? String == golden.content)
        promptTokens[thinking] = (done["usage"] as? [String: Int])?["prompt_tokens"]
        let stored = try h.store.messages(conversationID: id).last
        #expect(stored?.reasoning == golden.reasoning && stored?.content == golden.content)
        // The next turn sends the earlier reply without its reasoning, and still works.
        let next = try await c.app(
          "/app/api/conversations/\(id)/messages", method: .post, session: session,
          json: #"{"content": "again"}"#)
        #expect(next.events.last?["type"] as? String == "done")
      }
      let on = try #require(promptTokens[true])
      let off = try #require(promptTokens[false])
      // The system line: <|im_start|> and <|im_end|> are a token each, the rest a token per byte
      // (the fixture's vocabulary merges nothing but two spaces).
      #expect(on - off == 1 + "system\nThink step by step.".utf8.count + 1 + 1)
    }
  }

  @Test func regenerateReplacesTheLastReply() async throws {
    let h = try AppHarness()
    try await h.test { c in
      let session = try await c.signIn("alice")
      let id = try await c.newConversation(session)
      let first = try await c.app(
        "/app/api/conversations/\(id)/messages", method: .post, session: session, json: #"{"content": "hi"}"#)
      let firstReply = try #require((first.events.last?["message"] as? [String: Any])?["id"] as? String)
      let again = try await c.app(
        "/app/api/conversations/\(id)/messages", method: .post, session: session,
        json: #"{"content": "", "regenerate": true}"#)
      #expect(again.events.first?["type"] as? String == "delta", "no user_message for a regeneration")
      let secondReply = try #require((again.events.last?["message"] as? [String: Any])?["id"] as? String)
      #expect(secondReply != firstReply)
      let messages = try h.store.messages(conversationID: id)
      #expect(messages.map(\.role) == ["user", "assistant"])
      #expect(messages.map(\.id).last == secondReply && messages[0].content == "hi")
      #expect(try h.store.usage(keyID: h.alice.keyID, since: nil, limit: 10).count == 2)
    }
  }

  @Test func editingAMessageDropsEverythingAfterIt() async throws {
    let h = try AppHarness()
    try await h.test { c in
      let session = try await c.signIn("alice")
      let id = try await c.newConversation(session)
      for text in ["first question", "second question"] {
        _ = try await c.app(
          "/app/api/conversations/\(id)/messages", method: .post, session: session,
          json: #"{"content": "\#(text)"}"#)
      }
      let before = try h.store.messages(conversationID: id)
      #expect(before.count == 4)
      let r = try await c.app(
        "/app/api/conversations/\(id)/messages", method: .post, session: session,
        json: #"{"content": "first question, rephrased", "edit_message_id": "\#(before[0].id)"}"#)
      let user = try #require(r.events.first?["message"] as? [String: Any])
      #expect(
        user["id"] as? String == before[0].id && user["content"] as? String == "first question, rephrased")
      let after = try h.store.messages(conversationID: id)
      #expect(after.map(\.content) == ["first question, rephrased", AppHarness.scriptedReply])
      #expect(after[0].id == before[0].id && after[1].id != before[1].id)

      let wrong = try await c.app(
        "/app/api/conversations/\(id)/messages", method: .post, session: session,
        json: #"{"content": "x", "edit_message_id": "\#(after[1].id)"}"#)
      #expect(wrong.status == .notFound && wrong.error["code"] as? String == "message_not_found")
    }
  }

  /// A client that goes away mid-reply stops the generation; the partial reply is kept as
  /// "cancelled" and its tokens are billed. (SmolLM2 writing a story with 4,000 tokens allowed:
  /// far from finished when the client leaves, even when a loaded CI machine starves the
  /// test task for many seconds.)
  @Test func aClientThatLeavesLeavesACancelledPartialReply() async throws {
    let h = try AppHarness()
    _ = try TestPaths.smolLM2()
    let smol = try #require(ServerHarness.smol)
    let runner = ModelRunner(
      entry: ModelEntry(id: "smol", path: smol.gguf!.path, inputPricePerMillion: 1, outputPricePerMillion: 2),
      model: smol, weightsDigest: "0")
    let conversation = Conversation(userID: h.alice.id, model: "smol")
    try h.store.insert(conversation)
    let key = try #require(try h.store.key(id: h.alice.keyID))
    let prompt = try smol.chatPrompt([ChatMessage(role: "user", content: "Write a long story about the sea.")]
    )
    let job = GenerationJob(
      key: key, runner: runner, endpoint: "app.chat", prompt: prompt, maxTokens: 4000,
      sampling: SamplingParameters(temperature: 0.8, seed: 1))
    let generation = try await MeteredGeneration.start(job, service: h.service)
    let turn = AppChatTurn(
      service: h.service, generation: generation, conversationID: conversation.id,
      reader: ChatReplyReader())
    var received: [String] = []
    let stored = await turn.run { event in
      // The fourth write fails: the client has the first three pieces.
      if case .delta(let text) = event {
        if received.count == 3 { throw MeteredGeneration.ClientGone() }
        received.append(text)
      }
    }
    let message = try #require(stored)
    #expect(message.finishReason == "cancelled" && message.role == "assistant")
    #expect(message.content == received.joined() && !message.content.isEmpty)
    let kept = try h.store.messages(conversationID: conversation.id)
    #expect(kept.map(\.id) == [message.id] && kept.first?.finishReason == "cancelled")
    #expect(kept.first?.content == received.joined())
    // That the runner stops within a token of its consumer leaving is CancellationTests' part.
    let row = try #require(try h.store.usage(keyID: key.id, since: nil, limit: 1).first)
    #expect(row.finishReason == "cancelled" && row.status == 499 && row.endpoint == "app.chat")
    #expect(row.completionTokens == 3 && row.promptTokens == prompt.count)
    #expect(row.costMicrodollars == prompt.count + 2 * 3)
  }

  @Test func modelsTheKeyMayNotUseAreRefusedBeforeStreaming() async throws {
    let h = try AppHarness(aliceModels: ["scripted"])
    try await h.test { c in
      let session = try await c.signIn("alice")
      let create = try await c.app(
        "/app/api/conversations", method: .post, session: session, json: #"{"model": "tiny"}"#)
      #expect(create.status == .forbidden && create.error["code"] as? String == "model_not_allowed")
      #expect(create.error["message"] as? String == "Your account does not have access to the model 'tiny'.")
      let id = try await c.newConversation(session)
      let patch = try await c.app(
        "/app/api/conversations/\(id)", method: .patch, session: session, json: #"{"model": "tiny"}"#)
      #expect(patch.status == .forbidden && patch.error["code"] as? String == "model_not_allowed")
      // A conversation kept from before the key was restricted.
      let old = Conversation(userID: h.alice.id, model: "tiny")
      try h.store.insert(old)
      let r = try await c.app(
        "/app/api/conversations/\(old.id)/messages", method: .post, session: session,
        json: #"{"content": "hi"}"#)
      #expect(r.status == .forbidden && r.headers[.contentType] == "application/json")
      #expect(r.error["code"] as? String == "model_not_allowed")
      #expect(try h.store.messages(conversationID: old.id).isEmpty)
      let unknown = try await c.app(
        "/app/api/conversations", method: .post, session: session, json: #"{"model": "nope"}"#)
      #expect(unknown.status == .notFound && unknown.error["code"] as? String == "model_not_found")
    }
  }

  @Test func rateLimitsApplyAsForTheAPI() async throws {
    let h = try AppHarness(aliceLimits: KeyLimits(requestsPerMinute: 1))
    try await h.test { c in
      let session = try await c.signIn("alice")
      let id = try await c.newConversation(session)
      let ok = try await c.app(
        "/app/api/conversations/\(id)/messages", method: .post, session: session, json: #"{"content": "one"}"#
      )
      #expect(ok.status == .ok)
      let limited = try await c.app(
        "/app/api/conversations/\(id)/messages", method: .post, session: session, json: #"{"content": "two"}"#
      )
      #expect(limited.status == .tooManyRequests && limited.error["code"] as? String == "rate_limit_exceeded")
      #expect(limited.headers[.retryAfter] != nil)
      #expect(try h.store.messages(conversationID: id).map(\.content) == ["one", AppHarness.scriptedReply])
    }
  }

  @Test func usageReportsTheMonthAndTheLimits() async throws {
    let h = try AppHarness(aliceLimits: KeyLimits(budgetTokens: 100_000, budgetMicrodollars: 5_000_000))
    try await h.test { c in
      let bob = try await c.signIn("bob")
      let empty = try await c.app("/app/api/usage", session: bob).json
      #expect(empty["requests"] as? Int == 0 && empty["period"] as? String == "month")
      let bobLimits = try #require(empty["limits"] as? [String: Any])
      #expect(bobLimits["budget_tokens"] is NSNull && bobLimits["remaining_usd"] is NSNull)
      #expect(bobLimits["requests_per_minute"] is NSNull)

      let session = try await c.signIn("alice")
      let id = try await c.newConversation(session)
      _ = try await c.app(
        "/app/api/conversations/\(id)/messages", method: .post, session: session, json: #"{"content": "hi"}"#)
      let row = try #require(try h.store.usage(keyID: h.alice.keyID, since: nil, limit: 1).first)
      let u = try await c.app("/app/api/usage", session: session).json
      #expect(u["requests"] as? Int == 1)
      #expect(
        u["prompt_tokens"] as? Int == row.promptTokens
          && u["completion_tokens"] as? Int == row.completionTokens)
      #expect(abs((u["cost_usd"] as? Double ?? 0) - Double(row.costMicrodollars) / 1e6) < 1e-9)
      #expect(u["since"] as? Int == Int(BudgetPeriod.month.start(of: Date()).timeIntervalSince1970))
      let limits = try #require(u["limits"] as? [String: Any])
      #expect(limits["budget_tokens"] as? Int == 100_000)
      #expect(limits["remaining_tokens"] as? Int == 100_000 - row.promptTokens - row.completionTokens)
      #expect(
        abs((limits["remaining_usd"] as? Double ?? 0) - Double(5_000_000 - row.costMicrodollars) / 1e6) < 1e-9
      )
    }
  }

  @Test func theAdminListIsForAdminsOnly() async throws {
    let h = try AppHarness(aliceModels: ["scripted"], aliceLimits: KeyLimits(requestsPerMinute: 30))
    try await h.test { c in
      let alice = try await c.signIn("alice")
      let refused = try await c.app("/app/api/admin/users", session: alice)
      #expect(refused.status == .forbidden && refused.error["code"] as? String == "admin_required")
      let id = try await c.newConversation(alice)
      _ = try await c.app(
        "/app/api/conversations/\(id)/messages", method: .post, session: alice, json: #"{"content": "hi"}"#)
      let root = try await c.signIn("root")
      let list = try #require(
        try await c.app("/app/api/admin/users", session: root).json["data"] as? [[String: Any]])
      #expect(list.map { $0["username"] as? String } == ["alice", "bob", "root"])
      let a = list[0]
      #expect(a["is_admin"] as? Bool == false && a["disabled"] as? Bool == false)
      let key = try #require(a["key"] as? [String: Any])
      #expect(key["id"] as? String == h.alice.keyID && key["models"] as? [String] == ["scripted"])
      #expect((key["limits"] as? [String: Any])?["requests_per_minute"] as? Int == 30)
      #expect((key["prefix"] as? String)?.hasPrefix("muse-") == true)
      let usage = try #require(a["usage"] as? [String: Any])
      #expect(
        usage["requests"] as? Int == 1
          && (usage["completion_tokens"] as? Int ?? 0) == AppHarness.scriptedCompletionTokens)
      #expect((list[1]["usage"] as? [String: Any])?["requests"] as? Int == 0)
      #expect(list[2]["is_admin"] as? Bool == true)
    }
  }
}
