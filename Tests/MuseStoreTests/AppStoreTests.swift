import Foundation
import GRDB
import MuseTestSupport
import Testing

@testable import MuseStore

struct AppStoreTests {
  func store() throws -> SQLiteStore {
    try SQLiteStore(path: try TestPaths.temporaryDirectory().appendingPathComponent("muse.sqlite").path)
  }

  /// A user with a key, the way UserAccounts creates them (fewer iterations: this is not
  /// what is being measured here).
  func makeUser(_ store: SQLiteStore, _ name: String) throws -> User {
    try UserAccounts(store: store, hasher: PasswordHasher(iterations: 1000)).create(
      username: name, password: "password-\(name)")
  }

  @Test func usersAreUniqueAndValidated() throws {
    let s = try store()
    let alice = try makeUser(s, "alice")
    #expect(try s.user(username: "alice") == alice)
    #expect(try s.user(id: alice.id) == alice)
    #expect(try s.key(id: alice.keyID)?.scopes == [.inference])
    #expect(throws: UserError.usernameTaken("alice")) { try makeUser(s, "alice") }
    #expect(throws: UserError.invalidUsername("a b")) { try makeUser(s, "a b") }
    #expect(throws: UserError.invalidUsername("")) { try makeUser(s, "") }
    #expect(throws: UserError.passwordTooShort(minimum: 8)) {
      try UserAccounts(store: s).create(username: "bob", password: "short")
    }
    #expect(try s.users().map(\.username) == ["alice"])
  }

  @Test func disablingAndNewPasswordsEndSessions() throws {
    let s = try store()
    let alice = try makeUser(s, "alice")
    let accounts = UserAccounts(store: s, hasher: PasswordHasher(iterations: 1000))
    let (_, first) = AppSession.start(userID: alice.id, lifetime: 3600)
    try s.insert(first)
    try accounts.setPassword(username: "alice", password: "a-new-password")
    #expect(try s.session(tokenHash: first.tokenHash) == nil)
    let stored = try #require(try s.user(username: "alice"))
    #expect(accounts.hasher.verify("a-new-password", against: stored.passwordHash))
    #expect(!accounts.hasher.verify("password-alice", against: stored.passwordHash))
    let (_, second) = AppSession.start(userID: alice.id, lifetime: 3600)
    try s.insert(second)
    try accounts.disable(username: "alice")
    #expect(try s.session(tokenHash: second.tokenHash) == nil)
    #expect(try s.user(username: "alice")?.disabled == true)
    #expect(throws: UserError.noSuchUser("nobody")) { try accounts.disable(username: "nobody") }
  }

  @Test func sessionsSlideAndExpiredOnesArePurged() throws {
    let s = try store()
    let alice = try makeUser(s, "alice")
    let now = Date(timeIntervalSince1970: 1_800_000_000)
    let (token, live) = AppSession.start(userID: alice.id, lifetime: 3600, now: now)
    let (_, old) = AppSession.start(userID: alice.id, lifetime: 60, now: now.addingTimeInterval(-120))
    try s.insert(live)
    try s.insert(old)
    #expect(live.tokenHash == AppSession.hashToken(token) && !live.tokenHash.contains(token))
    try s.touch(
      tokenHash: live.tokenHash, lastSeenAt: now.addingTimeInterval(10),
      expiresAt: now.addingTimeInterval(7200))
    #expect(try s.session(tokenHash: live.tokenHash)?.expiresAt == now.addingTimeInterval(7200))
    #expect(try s.purgeSessions(expiredBefore: now) == 1)
    #expect(try s.session(tokenHash: old.tokenHash) == nil)
    #expect(try s.session(tokenHash: live.tokenHash) != nil)
  }

  @Test func conversationsAreSearchedAndKeptApartByOwner() throws {
    let s = try store()
    let alice = try makeUser(s, "alice")
    let bob = try makeUser(s, "bob")
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    let trip = Conversation(userID: alice.id, title: "Trip to Lisbon", model: "m", createdAt: t0)
    let maths = Conversation(
      userID: alice.id, title: "Maths", model: "m", createdAt: t0.addingTimeInterval(10))
    let bobs = Conversation(
      userID: bob.id, title: "Trip to Oslo", model: "m", createdAt: t0.addingTimeInterval(20))
    for c in [trip, maths, bobs] { try s.insert(c) }
    try s.append(
      ConversationMessage(conversationID: maths.id, role: "user", content: "What is 100% of 7_000?"))
    #expect(try s.conversations(userID: alice.id, matching: nil).map(\.id) == [maths.id, trip.id])
    #expect(try s.conversations(userID: alice.id, matching: "trip").map(\.id) == [trip.id])
    #expect(try s.conversations(userID: alice.id, matching: "100%").map(\.id) == [maths.id])
    // '%' and '_' match themselves, not any text.
    #expect(try s.conversations(userID: alice.id, matching: "7_0").map(\.id) == [maths.id])
    #expect(try s.conversations(userID: alice.id, matching: "%").map(\.id) == [maths.id])
    #expect(try s.conversations(userID: alice.id, matching: "Oslo").isEmpty)
    #expect(try s.conversation(id: bobs.id, userID: alice.id) == nil)
    #expect(try !s.deleteConversation(id: bobs.id, userID: alice.id))
    #expect(try s.conversation(id: bobs.id, userID: bob.id) != nil)
    #expect(try s.deleteConversation(id: maths.id, userID: alice.id))
    #expect(try s.messages(conversationID: maths.id).isEmpty)
  }

  @Test func messagesKeepOrderAndTruncateFromAMessage() throws {
    let s = try store()
    let alice = try makeUser(s, "alice")
    let c = Conversation(userID: alice.id, model: "m")
    try s.insert(c)
    let same = Date(timeIntervalSince1970: 1_800_000_000)
    let messages = (0..<5).map {
      ConversationMessage(
        conversationID: c.id, role: $0 % 2 == 0 ? "user" : "assistant", content: "m\($0)", createdAt: same)
    }
    for m in messages { try s.append(m) }
    #expect(try s.messages(conversationID: c.id).map(\.content) == ["m0", "m1", "m2", "m3", "m4"])
    var edited = messages[2]
    edited.content = "m2 edited"
    try s.update(edited)
    try s.deleteMessages(from: messages[3].id, conversationID: c.id)
    #expect(try s.messages(conversationID: c.id).map(\.content) == ["m0", "m1", "m2 edited"])
  }

  /// A database written before the app existed (only the v1 tables) keeps its keys and
  /// ledger when the app's migration runs.
  @Test func migrationKeepsExistingKeysAndUsage() throws {
    let path = try TestPaths.temporaryDirectory().appendingPathComponent("muse.sqlite").path
    let (_, key) = APIKey.generate(name: "old", scopes: [.inference])
    do {
      let queue = try DatabaseQueue(path: path)
      try queue.write { db in
        try db.execute(
          sql: """
            CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY);
            INSERT INTO grdb_migrations VALUES ('v1');
            CREATE TABLE api_key (id TEXT PRIMARY KEY, name TEXT NOT NULL, prefix TEXT NOT NULL,
              hash TEXT NOT NULL UNIQUE, scopes TEXT NOT NULL, models TEXT NOT NULL, limits TEXT NOT NULL,
              created_at DATETIME NOT NULL, expires_at DATETIME, revoked_at DATETIME);
            CREATE TABLE usage (id TEXT PRIMARY KEY, key_id TEXT NOT NULL, model TEXT NOT NULL,
              endpoint TEXT NOT NULL, prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL,
              cost_microdollars INTEGER NOT NULL, latency_ms INTEGER NOT NULL, ttft_ms INTEGER,
              status INTEGER NOT NULL, finish_reason TEXT, created_at DATETIME NOT NULL);
            """)
        try db.execute(
          sql: """
            INSERT INTO api_key VALUES (?, 'old', ?, ?, '["inference"]', '[]', '{"budgetPeriod":"month"}', ?, NULL, NULL)
            """, arguments: [key.id, key.prefix, key.hash, key.createdAt])
        try db.execute(
          sql: "INSERT INTO usage VALUES ('u1', ?, 'm', 'chat.completions', 3, 4, 5, 6, 7, 200, 'stop', ?)",
          arguments: [key.id, Date()])
      }
    }
    let s = try SQLiteStore(path: path)
    #expect(try s.key(id: key.id) == key)
    #expect(try s.totals(keyID: key.id, since: nil, groupedBy: []).first?.completionTokens == 4)
    _ = try makeUser(s, "alice")
    #expect(try s.users().count == 1)
  }
}
