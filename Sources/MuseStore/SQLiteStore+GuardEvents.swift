import Foundation
import GRDB

extension SQLiteStore: GuardEventStore {
  /// The guardrails' audit log, added after the app's tables.
  static func registerGuardTables(in m: inout DatabaseMigrator) {
    m.registerMigration("v4-guard-events") { db in
      try db.create(table: "guard_event") { t in
        t.autoIncrementedPrimaryKey("seq")
        t.column("id", .text).notNull().unique()
        t.column("request_id", .text).notNull().indexed()
        t.column("key_id", .text).notNull().indexed()
        t.column("model", .text).notNull()
        t.column("rail", .text).notNull()
        t.column("stage", .text).notNull()
        t.column("verdict", .text).notNull()
        t.column("category", .text)
        t.column("score", .double)
        t.column("latency_us", .integer).notNull()
        t.column("redacted", .boolean).notNull()
        t.column("created_at", .datetime).notNull().indexed()
      }
    }
  }

  public func record(_ events: [GuardEvent]) throws {
    guard !events.isEmpty else { return }
    try db.write { db in
      for e in events {
        try db.execute(
          sql: """
            INSERT INTO guard_event (id, request_id, key_id, model, rail, stage, verdict, category, score,
              latency_us, redacted, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
          arguments: [
            e.id, e.requestID, e.keyID, e.model, e.rail, e.stage, e.verdict, e.category,
            e.score.flatMap { $0.isFinite ? $0 : nil }, e.latencyMicroseconds, e.redacted, e.createdAt,
          ])
      }
    }
  }

  public func guardEvents(_ q: GuardEventQuery) throws -> [GuardEvent] {
    try db.read { db in
      var sql = "SELECT * FROM guard_event WHERE 1 = 1"
      var args: [any DatabaseValueConvertible] = []
      for (column, value) in [
        ("request_id", q.requestID), ("key_id", q.keyID), ("model", q.model), ("rail", q.rail),
      ] {
        guard let value else { continue }
        sql += " AND \(column) = ?"
        args.append(value)
      }
      if q.onlyActions { sql += " AND verdict <> 'pass'" }
      if let since = q.since {
        sql += " AND created_at >= ?"
        args.append(since)
      }
      sql += " ORDER BY seq DESC LIMIT ?"
      args.append(max(0, q.limit))
      return try Row.fetchAll(db, sql: sql, arguments: StatementArguments(args)).compactMap { row in
        Self.decodeRow(row, table: "guard_event") { r in
          try GuardEvent(
            id: r.decode(forColumn: "id"), requestID: r.decode(forColumn: "request_id"),
            keyID: r.decode(forColumn: "key_id"), model: r.decode(forColumn: "model"),
            rail: r.decode(forColumn: "rail"), stage: r.decode(forColumn: "stage"),
            verdict: r.decode(forColumn: "verdict"), category: r.decode(forColumn: "category"),
            score: r.decode(forColumn: "score"), latencyMicroseconds: r.decode(forColumn: "latency_us"),
            redacted: r.decode(forColumn: "redacted"), createdAt: r.decode(forColumn: "created_at"))
        }
      }
    }
  }
}
