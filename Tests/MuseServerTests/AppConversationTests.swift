import Foundation
import Hummingbird
import HummingbirdTesting
import MuseStore
import Testing

@testable import MuseServer

struct AppConversationTests {
  @Test func createReadUpdateDelete() async throws {
    let h = try AppHarness()
    try await h.test { c in
      let session = try await c.signIn("alice")
      let created = try await c.app(
        "/app/api/conversations", method: .post, session: session,
        json: #"{"model": "scripted", "system_prompt": "Be brief.", "temperature": 0.5, "thinking": true}"#)
      #expect(created.status == .ok)
      let conv = created.json
      let id = try #require(conv["id"] as? String)
      #expect(conv["title"] as? String == "" && conv["model"] as? String == "scripted")
      #expect(conv["system_prompt"] as? String == "Be brief." && conv["temperature"] as? Double == 0.5)
      #expect(conv["thinking"] as? Bool == true)
      let now = Int(Date().timeIntervalSince1970)
      #expect(abs((conv["created_at"] as? Int ?? 0) - now) <= 2 && conv["updated_at"] as? Int != nil)

      let patched = try await c.app(
        "/app/api/conversations/\(id)", method: .patch, session: session,
        json: #"{"title": "Renamed", "model": "tiny", "system_prompt": null, "thinking": false}"#)
      #expect(patched.status == .ok)
      #expect(patched.json["title"] as? String == "Renamed" && patched.json["model"] as? String == "tiny")
      #expect(patched.json["system_prompt"] is NSNull && patched.json["temperature"] as? Double == 0.5)
      #expect(patched.json["thinking"] as? Bool == false)
      let bad = try await c.app(
        "/app/api/conversations/\(id)", method: .patch, session: session, json: #"{"temperature": 3}"#)
      #expect(bad.status == .badRequest && bad.error["param"] as? String == "temperature")

      let got = try await c.app("/app/api/conversations/\(id)", session: session).json
      #expect((got["conversation"] as? [String: Any])?["title"] as? String == "Renamed")
      #expect((got["messages"] as? [Any])?.isEmpty == true)

      let list = try await c.app("/app/api/conversations", session: session).json
      #expect((list["data"] as? [[String: Any]])?.map { $0["id"] as? String } == [id])

      #expect(
        try await c.app("/app/api/conversations/\(id)", method: .delete, session: session).status
          == .noContent)
      let gone = try await c.app("/app/api/conversations/\(id)", session: session)
      #expect(gone.status == .notFound && gone.error["code"] as? String == "conversation_not_found")
    }
  }

  @Test func listIsNewestFirstAndSearchesTitlesAndMessages() async throws {
    let h = try AppHarness()
    try await h.test { c in
      let session = try await c.signIn("alice")
      let a = try await c.newConversation(session, extra: #", "title": "Lisbon trip""#)
      let b = try await c.newConversation(session, extra: #", "title": "Recipes""#)
      _ = try await c.app(
        "/app/api/conversations/\(b)/messages", method: .post, session: session,
        json: #"{"content": "How do I bake sourdough?"}"#)
      func ids(_ q: String?) async throws -> [String] {
        let path = "/app/api/conversations" + (q.map { "?q=\($0)" } ?? "")
        let data = try await c.app(path, session: session).json["data"] as? [[String: Any]] ?? []
        return data.compactMap { $0["id"] as? String }
      }
      #expect(try await ids(nil) == [b, a])
      #expect(try await ids("lisbon") == [a])
      #expect(try await ids("sourdough") == [b])
      // Text of the model's reply is searchable too.
      #expect(try await ids("artifact") == [b])
      #expect(try await ids("nothing%20like%20this").isEmpty)
      let summary = try #require(
        (try await c.app("/app/api/conversations", session: session).json["data"] as? [[String: Any]])?.first)
      #expect(Set(summary.keys) == ["id", "title", "model", "updated_at", "created_at"])
    }
  }

  /// Another user's conversation is indistinguishable from one that does not exist.
  @Test func conversationsAreIsolatedBetweenUsers() async throws {
    let h = try AppHarness()
    try await h.test { c in
      let alice = try await c.signIn("alice")
      let id = try await c.newConversation(alice, extra: #", "title": "Private""#)
      _ = try await c.app(
        "/app/api/conversations/\(id)/messages", method: .post, session: alice,
        json: #"{"content": "secret"}"#)
      let bob = try await c.signIn("bob")
      let attempts: [(String, HTTPRequest.Method, String?)] = [
        ("/app/api/conversations/\(id)", .get, nil),
        ("/app/api/conversations/\(id)", .patch, #"{"title": "mine now"}"#),
        ("/app/api/conversations/\(id)", .delete, nil),
        ("/app/api/conversations/\(id)/messages", .post, #"{"content": "hi"}"#),
        ("/app/api/conversations/conv_doesnotexist", .get, nil),
      ]
      var bodies: Set<String> = []
      for (path, method, json) in attempts {
        let r = try await c.app(path, method: method, session: bob, json: json)
        #expect(r.status == .notFound, "\(method) \(path)")
        #expect(!r.text.contains("secret") && !r.text.contains("Private"))
        bodies.insert(r.text)
      }
      #expect(bodies.count == 1, "the same answer whether or not the conversation exists")
      let search = try await c.app("/app/api/conversations?q=secret", session: bob).json
      #expect((search["data"] as? [Any])?.isEmpty == true)
      let still = try h.store.conversation(id: id, userID: h.alice.id)
      #expect(still?.title == "Private")
      #expect(try h.store.messages(conversationID: id).count == 2)
    }
  }

  @Test func badRequestsAreExplained() async throws {
    let h = try AppHarness()
    try await h.test { c in
      let session = try await c.signIn("alice")
      let id = try await c.newConversation(session)
      let empty = try await c.app(
        "/app/api/conversations/\(id)/messages", method: .post, session: session, json: #"{"content": "  "}"#)
      #expect(empty.status == .badRequest && empty.error["param"] as? String == "content")
      let nothing = try await c.app(
        "/app/api/conversations/\(id)/messages", method: .post, session: session,
        json: #"{"regenerate": true}"#)
      #expect(nothing.status == .badRequest && nothing.error["code"] as? String == "nothing_to_regenerate")
      let broken = try await c.app(
        "/app/api/conversations", method: .post, session: session, json: #"{"model": "#)
      #expect(broken.status == .badRequest && broken.error["type"] as? String == "invalid_request_error")
      let noModel = try await c.app("/app/api/conversations", method: .post, session: session, json: "{}")
      #expect(noModel.status == .badRequest && noModel.error["param"] as? String == "model")
    }
  }

  @Test func titlesAreOneShortLine() {
    #expect(AppController.title("  Hello there  \nsecond line") == "Hello there")
    let long = String(repeating: "word ", count: 30)
    let t = AppController.title(long)
    #expect(t.count <= 61 && t.hasSuffix("…") && t.hasPrefix("word word"))
    #expect(
      AppController.title(String(repeating: "x", count: 100)) == String(repeating: "x", count: 60) + "…")
  }
}
