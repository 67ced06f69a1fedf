import Foundation
import GRDB

extension SQLiteStore: ClaimStore {
  /// The operator's claims, added after the receipts.
  static func registerClaimTables(in m: inout DatabaseMigrator) {
    m.registerMigration("v6-claims") { db in
      try db.create(table: "claim") { t in
        t.primaryKey("id", .text)
        t.column("model", .text).notNull().indexed()
        t.column("statement", .text).notNull()
        t.column("attestation", .text).notNull()
        t.column("items", .text).notNull()
        t.column("created_at", .datetime).notNull()
      }
    }
  }

  public func insert(_ c: Claim) throws {
    try db.write { db in
      try db.execute(
        sql:
          "INSERT INTO claim (id, model, statement, attestation, items, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        arguments: [c.id, c.model, c.statement, c.attestation, c.items, c.createdAt])
    }
  }

  public func claims(model: String) throws -> [Claim] {
    try fetchClaims("SELECT * FROM claim WHERE model = ? ORDER BY created_at, id", [model])
  }

  public func claim(id: String) throws -> Claim? {
    try fetchClaims("SELECT * FROM claim WHERE id = ?", [id]).first
  }

  public func removeClaim(id: String) throws -> Bool {
    try db.write { db in
      try db.execute(sql: "DELETE FROM claim WHERE id = ?", arguments: [id])
      return db.changesCount > 0
    }
  }

  private func fetchClaims(_ sql: String, _ arguments: StatementArguments) throws -> [Claim] {
    try db.read { db in
      try Row.fetchAll(db, sql: sql, arguments: arguments).compactMap { row in
        Self.decodeRow(row, table: "claim") { r in
          try Claim(
            id: r.decode(forColumn: "id"), model: r.decode(forColumn: "model"),
            statement: r.decode(forColumn: "statement"), attestation: r.decode(forColumn: "attestation"),
            items: r.decode(forColumn: "items"), createdAt: r.decode(forColumn: "created_at"))
        }
      }
    }
  }
}
