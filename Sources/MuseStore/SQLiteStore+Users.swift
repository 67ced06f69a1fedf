import Foundation
import GRDB

extension SQLiteStore {
  private static func user(from row: Row) throws -> User {
    try User(
      id: row.decode(forColumn: "id"), username: row.decode(forColumn: "username"),
      passwordHash: row.decode(forColumn: "password_hash"), isAdmin: row.decode(forColumn: "is_admin"),
      disabled: row.decode(forColumn: "disabled"), createdAt: row.decode(forColumn: "created_at"),
      keyID: row.decode(forColumn: "key_id"))
  }

  public func insert(_ user: User) throws {
    try User.validate(username: user.username)
    do {
      try db.write { db in
        try db.execute(
          sql: """
            INSERT INTO app_user (id, username, password_hash, is_admin, disabled, created_at, key_id)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """,
          arguments: [
            user.id, user.username, user.passwordHash, user.isAdmin, user.disabled, user.createdAt,
            user.keyID,
          ])
      }
    } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE {
      throw UserError.usernameTaken(user.username)
    }
  }

  public func user(id: String) throws -> User? {
    try db.read { db in
      try Row.fetchOne(db, sql: "SELECT * FROM app_user WHERE id = ?", arguments: [id]).map(Self.user(from:))
    }
  }

  public func user(username: String) throws -> User? {
    try db.read { db in
      try Row.fetchOne(db, sql: "SELECT * FROM app_user WHERE username = ?", arguments: [username]).map(
        Self.user(from:))
    }
  }

  public func users() throws -> [User] {
    try db.read { db in
      try Row.fetchAll(db, sql: "SELECT * FROM app_user ORDER BY created_at, username").compactMap {
        Self.decodeRow($0, table: "app_user", Self.user(from:))
      }
    }
  }

  public func setPasswordHash(_ hash: String, userID: String) throws -> Bool {
    try db.write { db in
      try db.execute(sql: "UPDATE app_user SET password_hash = ? WHERE id = ?", arguments: [hash, userID])
      let changed = db.changesCount > 0
      // A new password signs every browser out, as people expect after a change.
      try db.execute(sql: "DELETE FROM app_session WHERE user_id = ?", arguments: [userID])
      return changed
    }
  }

  public func disable(userID: String) throws -> Bool {
    try db.write { db in
      try db.execute(sql: "UPDATE app_user SET disabled = 1 WHERE id = ?", arguments: [userID])
      let changed = db.changesCount > 0
      try db.execute(sql: "DELETE FROM app_session WHERE user_id = ?", arguments: [userID])
      return changed
    }
  }
}
