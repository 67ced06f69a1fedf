import Foundation
import Hummingbird
import HummingbirdTesting
import MuseEngine
import MuseStore
import MuseTestSupport
import Testing

@testable import MuseServer

/// The app's Stop button over a real connection: the browser aborts the fetch, the server
/// notices at its next write, stops generating, and keeps the partial reply as "cancelled".
struct AppStopTests {
  @Test func abortingTheRequestStoresACancelledPartialReply() async throws {
    _ = try TestPaths.smolLM2()
    let smol = try #require(ServerHarness.smol)
    let dir = try TestPaths.temporaryDirectory()
    let store = try SQLiteStore(path: dir.appendingPathComponent("muse.sqlite").path)
    let runner = ModelRunner(
      entry: ModelEntry(id: "smol", path: smol.gguf!.path, defaultTemperature: 0.8), model: smol,
      weightsDigest: "0")
    let service = MuseService(
      runners: [runner], store: store, app: AppSettings(passwordHasher: PasswordHasher(iterations: 1000)))
    let user = try UserAccounts(store: store, hasher: service.app.passwordHasher).create(
      username: "alice", password: "alice-password")
    let (token, session) = AppSession.start(userID: user.id, lifetime: 3600)
    try store.insert(session)
    let conversation = Conversation(userID: user.id, title: "Story", model: "smol")
    try store.insert(conversation)

    let app = buildApplication(service: service, http: HTTPSettings(host: "127.0.0.1", port: 0))
    try await app.test(.live) { client in
      let port = try #require(client.port)
      // A raw connection, closed as soon as a few deltas have arrived, as a browser's abort
      // closes it: an HTTP client library closes when it gets round to it, by which time a fast
      // CPU may have finished the whole reply.
      let body = #"{"content": "Write a very long story about the sea."}"#
      let socket = try RawSocket(port: port)
      try socket.send(
        "POST /app/api/conversations/\(conversation.id)/messages HTTP/1.1\r\nHost: x\r\n"
          + "Cookie: muse_session=\(token)\r\nX-Muse-App: 1\r\nContent-Type: application/json\r\n"
          + "Content-Length: \(body.utf8.count)\r\n\r\n\(body)")
      let received = await socket.receive(
        until: { $0.components(separatedBy: #""type":"delta""#).count > 4 }, within: .seconds(60))
      socket.close()
      #expect(received.hasPrefix("HTTP/1.1 200"), "\(received.prefix(200))")
      var reply: ConversationMessage?
      for _ in 0..<200 where reply == nil {
        try await Task.sleep(for: .milliseconds(50))
        reply = try store.messages(conversationID: conversation.id).first { $0.role == "assistant" }
      }
      let stored = try #require(reply, "no reply was stored after the client left")
      #expect(stored.finishReason == "cancelled")
      #expect(!stored.content.isEmpty)
      let row = try #require(try store.usage(keyID: user.keyID, since: nil, limit: 1).first)
      #expect(row.status == 499 && row.finishReason == "cancelled" && row.endpoint == "app.chat")
      // Stopped long before max_tokens (the rest of the 8,192-token context); how many tokens
      // go out before the server sees the closed connection depends on the machine's load.
      #expect(row.completionTokens >= 4 && row.completionTokens < 1000, "\(row.completionTokens)")
    }
  }
}
