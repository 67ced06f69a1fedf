import Foundation
import GRDB

extension SQLiteStore: ReceiptStore {
  /// Signed receipts, added after the guardrails' audit log.
  static func registerReceiptTables(in m: inout DatabaseMigrator) {
    m.registerMigration("v5-receipts") { db in
      try db.create(table: "receipt") { t in
        t.column("response_id", .text).notNull()
        t.column("choice_index", .integer).notNull()
        t.column("request_id", .text).notNull()
        t.column("key_id", .text).notNull().indexed()
        t.column("receipt", .text).notNull()
        t.column("prompt_token_ids", .text).notNull()
        t.column("completion_token_ids", .text).notNull()
        t.column("activations", .blob)
        t.column("created_at", .datetime).notNull().indexed()
        t.primaryKey(["response_id", "choice_index"])
      }
    }
  }

  public func record(_ r: StoredReceipt) throws {
    try db.write { db in
      try db.execute(
        sql: """
          INSERT OR REPLACE INTO receipt (response_id, choice_index, request_id, key_id, receipt,
            prompt_token_ids, completion_token_ids, activations, created_at)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
          """,
        arguments: [
          r.responseID, r.choiceIndex, r.requestID, r.keyID, r.receipt, r.promptTokenIDs,
          r.completionTokenIDs,
          r.activations, r.createdAt,
        ])
    }
  }

  public func receipts(responseID: String) throws -> [StoredReceipt] {
    try db.read { db in
      try Row.fetchAll(
        db, sql: "SELECT * FROM receipt WHERE response_id = ? ORDER BY choice_index", arguments: [responseID]
      ).compactMap { row in
        Self.decodeRow(row, table: "receipt") { r in
          try StoredReceipt(
            responseID: r.decode(forColumn: "response_id"), choiceIndex: r.decode(forColumn: "choice_index"),
            requestID: r.decode(forColumn: "request_id"), keyID: r.decode(forColumn: "key_id"),
            receipt: r.decode(forColumn: "receipt"), promptTokenIDs: r.decode(forColumn: "prompt_token_ids"),
            completionTokenIDs: r.decode(forColumn: "completion_token_ids"),
            activations: r.decode(forColumn: "activations"), createdAt: r.decode(forColumn: "created_at"))
        }
      }
    }
  }
}
