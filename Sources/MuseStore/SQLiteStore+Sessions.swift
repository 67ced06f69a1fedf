import Foundation
import GRDB

extension SQLiteStore {
  public func insert(_ session: AppSession) throws {
    try db.write { db in
      try db.execute(
        sql: """
          INSERT INTO app_session (token_hash, user_id, created_at, expires_at, last_seen_at)
          VALUES (?, ?, ?, ?, ?)
          """,
        arguments: [
          session.tokenHash, session.userID, session.createdAt, session.expiresAt, session.lastSeenAt,
        ])
    }
  }

  public func session(tokenHash: String) throws -> AppSession? {
    try db.read { db in
      try Row.fetchOne(db, sql: "SELECT * FROM app_session WHERE token_hash = ?", arguments: [tokenHash]).map
      {
        AppSession(
          tokenHash: $0["token_hash"], userID: $0["user_id"], createdAt: $0["created_at"],
          expiresAt: $0["expires_at"], lastSeenAt: $0["last_seen_at"])
      }
    }
  }

  public func touch(tokenHash: String, lastSeenAt: Date, expiresAt: Date) throws {
    try db.write { db in
      try db.execute(
        sql: "UPDATE app_session SET last_seen_at = ?, expires_at = ? WHERE token_hash = ?",
        arguments: [lastSeenAt, expiresAt, tokenHash])
    }
  }

  public func deleteSession(tokenHash: String) throws {
    try db.write { db in
      try db.execute(sql: "DELETE FROM app_session WHERE token_hash = ?", arguments: [tokenHash])
    }
  }

  @discardableResult public func purgeSessions(expiredBefore now: Date) throws -> Int {
    try db.write { db in
      try db.execute(sql: "DELETE FROM app_session WHERE expires_at <= ?", arguments: [now])
      return db.changesCount
    }
  }
}
