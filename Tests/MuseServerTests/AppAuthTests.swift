import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import MuseStore
import MuseTestSupport
import Testing

@testable import MuseServer

struct AppAuthTests {
  @Test func signInSetsAStrictHttpOnlySessionCookie() async throws {
    let h = try AppHarness()
    try await h.test { c in
      let r = try await c.app(
        "/app/api/login", method: .post, session: nil,
        json: #"{"username": "alice", "password": "alice-password"}"#)
      #expect(r.status == .ok)
      let user = try #require(r.json["user"] as? [String: Any])
      #expect(user["username"] as? String == "alice" && user["is_admin"] as? Bool == false)
      #expect(user["id"] as? String == h.alice.id)
      let cookie = r.cookieHeader
      #expect(cookie.hasPrefix("muse_session="))
      for attribute in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=604800"] {
        #expect(cookie.contains(attribute), "\(cookie)")
      }
      #expect(!cookie.contains("Secure"), "plain HTTP: a Secure cookie would never come back")
      // The token itself is not what the store keeps.
      let token = String(cookie.dropFirst("muse_session=".count).prefix { $0 != ";" })
      #expect(try h.store.session(tokenHash: AppSession.hashToken(token))?.userID == h.alice.id)
      #expect(try h.store.session(tokenHash: token) == nil)

      let behindTLS = try await c.app(
        "/app/api/login", method: .post, session: nil,
        json: #"{"username": "alice", "password": "alice-password"}"#,
        headers: [HTTPField.Name("X-Forwarded-Proto")!: "https"])
      #expect(behindTLS.cookieHeader.contains("Secure"))
    }
  }

  @Test func wrongPasswordAndUnknownUserGetTheSameAnswer() async throws {
    let h = try AppHarness()
    try await h.test { c in
      for body in [
        #"{"username": "alice", "password": "not-her-password"}"#,
        #"{"username": "mallory", "password": "x"}"#,
        #"{"username": "ALICE", "password": "alice-password"}"#,
      ] {
        let r = try await c.app("/app/api/login", method: .post, session: nil, json: body)
        #expect(r.status == .unauthorized)
        #expect(r.error["code"] as? String == "invalid_credentials")
        #expect(r.error["message"] as? String == "Wrong username or password.")
        #expect(r.headers[.setCookie] == nil)
      }
      let missing = try await c.app(
        "/app/api/login", method: .post, session: nil, json: #"{"username": "alice"}"#)
      #expect(missing.status == .badRequest && missing.error["param"] as? String == "password")
    }
  }

  @Test func disabledUsersCannotSignInAndTheirSessionsEnd() async throws {
    let h = try AppHarness()
    try await h.test { c in
      let session = try await c.signIn("bob")
      #expect(try await c.app("/app/api/me", session: session).status == .ok)
      try UserAccounts(store: h.store).disable(username: "bob")
      let me = try await c.app("/app/api/me", session: session)
      #expect(me.status == .unauthorized && me.error["code"] as? String == "session_expired")
      let r = try await c.app(
        "/app/api/login", method: .post, session: nil,
        json: #"{"username": "bob", "password": "bob-password-1"}"#)
      #expect(r.status == .forbidden && r.error["code"] as? String == "account_disabled")
      #expect(r.headers[.setCookie] == nil)
    }
  }

  @Test func stateChangingRequestsNeedTheAppHeader() async throws {
    let h = try AppHarness()
    try await h.test { c in
      let login = try await c.app(
        "/app/api/login", method: .post, session: nil,
        json: #"{"username": "alice", "password": "alice-password"}"#,
        csrf: false)
      #expect(login.status == .forbidden && login.error["code"] as? String == "csrf_check_failed")
      let session = try await c.signIn("alice")
      let id = try await c.newConversation(session)
      let attempts: [(String, HTTPRequest.Method, String?)] = [
        ("/app/api/conversations", .post, #"{"model": "scripted"}"#),
        ("/app/api/conversations/\(id)", .patch, #"{"title": "x"}"#),
        ("/app/api/conversations/\(id)", .delete, nil),
        ("/app/api/conversations/\(id)/messages", .post, #"{"content": "hi"}"#),
        ("/app/api/logout", .post, nil),
      ]
      for (path, method, json) in attempts {
        let r = try await c.app(path, method: method, session: session, json: json, csrf: false)
        #expect(r.status == .forbidden, "\(method) \(path)")
        #expect(r.error["code"] as? String == "csrf_check_failed")
      }
      // Nothing changed: the conversation is there, untitled, without messages.
      let got = try await c.app("/app/api/conversations/\(id)", session: session, csrf: false)
      #expect(got.status == .ok && (got.json["messages"] as? [Any])?.isEmpty == true)
      #expect(try h.store.conversations(userID: h.alice.id, matching: nil).count == 1)
    }
  }

  @Test func expiredOrMissingSessionsAreRefused() async throws {
    let h = try AppHarness()
    try await h.test { c in
      let none = try await c.app("/app/api/me", session: nil)
      #expect(none.status == .unauthorized && none.error["code"] as? String == "not_signed_in")
      let forged = try await c.app("/app/api/me", session: "not-a-real-token")
      #expect(forged.status == .unauthorized && forged.error["code"] as? String == "session_expired")
      #expect(forged.error["message"] as? String == "Your session has expired. Please sign in again.")

      let session = try await c.signIn("alice")
      let hash = AppSession.hashToken(session)
      #expect(try await c.app("/app/api/conversations", session: session).status == .ok)
      try h.store.touch(
        tokenHash: hash, lastSeenAt: Date(timeIntervalSinceNow: -86400),
        expiresAt: Date(timeIntervalSinceNow: -1))
      let expired = try await c.app("/app/api/conversations", session: session)
      #expect(expired.status == .unauthorized && expired.error["code"] as? String == "session_expired")
      #expect(try h.store.session(tokenHash: hash) == nil, "an expired session is deleted")
    }
  }

  @Test func activitySlidesTheExpiry() async throws {
    let h = try AppHarness()
    try await h.test { c in
      let session = try await c.signIn("alice")
      let hash = AppSession.hashToken(session)
      let soon = Date(timeIntervalSinceNow: 30)
      try h.store.touch(tokenHash: hash, lastSeenAt: Date(timeIntervalSinceNow: -3600), expiresAt: soon)
      let me = try await c.app("/app/api/me", session: session)
      #expect(me.status == .ok)
      // The browser's cookie is renewed with it.
      #expect(
        me.cookieHeader.hasPrefix("muse_session=\(session);") && me.cookieHeader.contains("Max-Age=604800"))
      let expiry = try #require(try h.store.session(tokenHash: hash)?.expiresAt)
      #expect(expiry.timeIntervalSinceNow > 7 * 86400 - 60)
    }
  }

  @Test func signOutDeletesTheSession() async throws {
    let h = try AppHarness()
    try await h.test { c in
      let session = try await c.signIn("alice")
      let out = try await c.app("/app/api/logout", method: .post, session: session)
      #expect(out.status == .noContent)
      #expect(out.cookieHeader.hasPrefix("muse_session=;") && out.cookieHeader.contains("Max-Age=0"))
      #expect(try h.store.session(tokenHash: AppSession.hashToken(session)) == nil)
      let me = try await c.app("/app/api/me", session: session)
      #expect(me.status == .unauthorized && me.error["code"] as? String == "session_expired")
    }
  }

  @Test func meListsModelsWithAccess() async throws {
    let h = try AppHarness(aliceModels: ["scripted"])
    try await h.test { c in
      let session = try await c.signIn("alice")
      let me = try await c.app("/app/api/me", session: session).json
      #expect((me["user"] as? [String: Any])?["username"] as? String == "alice")
      let models = try #require(me["models"] as? [[String: Any]])
      #expect(models.map { $0["id"] as? String } == ["scripted", "tiny", "thinker", "tools"])
      #expect(models[2]["supports_reasoning"] as? Bool == true)
      #expect(models[0]["visibility"] as? String == "closed" && models[0]["download_url"] is NSNull)
      #expect(models[0]["display_name"] as? String == "Scripted" && models[0]["allowed"] as? Bool == true)
      #expect(
        models[0]["context_length"] as? Int == 4096 && models[0]["supports_reasoning"] as? Bool == false)
      #expect(models[1]["visibility"] as? String == "open")
      #expect(models[1]["download_url"] as? String == "/v1/models/tiny/weights")
      #expect(models[1]["allowed"] as? Bool == false)
      #expect(models[1]["display_name"] as? String == "tiny")
      // Closed weights never leave: no file path in what the app sees.
      let text = try await c.app("/app/api/me", session: session).text
      #expect(!text.contains(".gguf"))
    }
  }

  /// Passwords, session tokens and API keys never reach the log, even at trace level.
  @Test func secretsNeverReachTheLog() async throws {
    let sink = LogSink()
    var logger = Logger(label: "muse") { _ in CapturingLogHandler(sink: sink) }
    logger.logLevel = .trace
    let h = try AppHarness(logger: logger)
    try await h.test { c in
      _ = try await c.app(
        "/app/api/login", method: .post, session: nil,
        json: #"{"username": "alice", "password": "wrong-password"}"#)
      let session = try await c.signIn("alice")
      let id = try await c.newConversation(session)
      let r = try await c.app(
        "/app/api/conversations/\(id)/messages", method: .post, session: session,
        json: #"{"content": "hello"}"#)
      #expect(r.status == .ok)
      _ = try await c.app("/app/api/logout", method: .post, session: session)
      let log = sink.text
      #expect(log.contains("app sign-in"), "the log was captured")
      for secret in ["alice-password", "wrong-password", session, AppSession.hashToken(session)] {
        #expect(!log.contains(secret))
      }
      let key = try #require(try h.store.key(id: h.alice.keyID))
      #expect(!log.contains(key.hash))
    }
  }
}

final class LogSink: @unchecked Sendable {
  private let lock = NSLock()
  private var lines: [String] = []
  func append(_ line: String) { lock.withLock { lines.append(line) } }
  var text: String { lock.withLock { lines.joined(separator: "\n") } }
}

struct CapturingLogHandler: LogHandler {
  let sink: LogSink
  var metadata: Logger.Metadata = [:]
  var logLevel: Logger.Level = .trace

  subscript(metadataKey key: String) -> Logger.Metadata.Value? {
    get { metadata[key] }
    set { metadata[key] = newValue }
  }

  // swiftlint:disable:next function_parameter_count
  func log(
    level: Logger.Level, message: Logger.Message, metadata explicit: Logger.Metadata?, source: String,
    file: String, function: String, line: UInt
  ) {
    let all = metadata.merging(explicit ?? [:]) { _, b in b }
    sink.append("\(level) \(message) \(all)")
  }
}
