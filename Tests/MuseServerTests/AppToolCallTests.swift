import Foundation
import HummingbirdTesting
import MuseStore
import MuseTestSupport
import Testing

@testable import MuseServer

/// Tool calls in the chat app (issue #18): a conversation's tools reach the template, the
/// model's calls stream as events and are stored on its reply, and the user's results go back
/// as tool messages for the next reply.
struct AppToolCallTests {
  static let tools =
    #"[{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}}, "required": ["city", "unit"], "additionalProperties": false}}}, {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}}}]"#

  @Test func callsAreShownStoredAndAnswered() async throws {
    let h = try AppHarness()
    try await h.test { c in
      let session = try await c.signIn("alice")
      let id = try await c.newConversation(session, model: "tools", extra: #", "tools": \#(Self.tools)"#)
      let conversation = try await c.app("/app/api/conversations/\(id)", session: session).json
      let stored = try #require(
        (conversation["conversation"] as? [String: Any])?["tools"] as? [[String: Any]])
      #expect(stored.count == 2)

      // Nothing to answer yet.
      let early = try await c.app(
        "/app/api/conversations/\(id)/messages", method: .post, session: session,
        json: #"{"tool_results": [{"tool_call_id": "call_x", "content": "x"}]}"#)
      #expect(
        early.status == .badRequest && early.error["code"] as? String == "no_tool_calls", "\(early.text)")
      let r = try await c.app(
        "/app/api/conversations/\(id)/messages", method: .post, session: session,
        json: #"{"content": "Weather and time in Paris?"}"#)
      let events = r.events
      let starts = events.filter { $0["type"] as? String == "tool_call" }
      #expect(starts.compactMap { $0["name"] as? String } == ["get_weather", "get_time"])
      let arguments = events.filter { $0["type"] as? String == "tool_arguments" && $0["index"] as? Int == 0 }
        .compactMap { $0["text"] as? String }.joined()
      #expect(arguments.contains(#""city""#) && arguments.contains("Paris"))
      let done = try #require(events.last)
      let reply = try #require(done["message"] as? [String: Any])
      #expect(reply["finish_reason"] as? String == "tool_calls")
      let calls = try #require(reply["tool_calls"] as? [[String: Any]])
      let ids = calls.compactMap { $0["id"] as? String }
      #expect(ids.count == 2 && ids.allSatisfy { $0.hasPrefix("call_") })
      #expect(starts.compactMap { $0["id"] as? String } == ids)

      // Results answering one call only, or an unknown one, are refused and change nothing.
      for bad in [
        #"[{"tool_call_id": "\#(ids[0])", "content": "21 C"}]"#,
        #"[{"tool_call_id": "call_nope", "content": "x"}, {"tool_call_id": "\#(ids[1])", "content": "y"}]"#,
      ] {
        let refused = try await c.app(
          "/app/api/conversations/\(id)/messages", method: .post, session: session,
          json: #"{"tool_results": \#(bad)}"#)
        #expect(refused.status == .badRequest, "\(refused.text)")
        #expect((refused.error["param"] as? String)?.hasPrefix("tool_results") == true)
      }
      #expect(try h.store.messages(conversationID: id).count == 2)

      let answered = try await c.app(
        "/app/api/conversations/\(id)/messages", method: .post, session: session,
        json:
          #"{"tool_results": [{"tool_call_id": "\#(ids[1])", "content": "12:00"}, {"tool_call_id": "\#(ids[0])", "content": "21 C"}]}"#
      )
      let next = answered.events
      #expect(next.first?["type"] as? String == "tool_messages")
      #expect(next.last?["type"] as? String == "done", "\(answered.text)")
      let messages = try h.store.messages(conversationID: id)
      #expect(messages.map(\.role) == ["user", "assistant", "tool", "tool", "assistant"])
      #expect(messages[2].toolCallID == ids[1] && messages[2].content == "12:00")
      #expect(messages[3].toolCallID == ids[0])
      // The second reply's prompt held both results: it is longer than the first by at least them.
      let ledger = try h.store.usage(keyID: h.alice.keyID, since: nil, limit: 10)
      #expect(ledger.count == 2)
      let prompts = ledger.map(\.promptTokens).sorted()
      #expect(prompts[1] - prompts[0] > "12:00".utf8.count + "21 C".utf8.count)

      // Clearing the tools: the next reply gets none.
      let cleared = try await c.app(
        "/app/api/conversations/\(id)", method: .patch, session: session, json: #"{"tools": null}"#)
      #expect((cleared.json["tools"]) is NSNull, "\(cleared.text)")
      let badTools = try await c.app(
        "/app/api/conversations/\(id)", method: .patch, session: session, json: #"{"tools": [{"type": "x"}]}"#
      )
      #expect(badTools.status == .badRequest && badTools.error["param"] as? String == "tools[0].type")
    }
  }
}
