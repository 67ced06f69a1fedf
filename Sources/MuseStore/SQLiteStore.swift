import Foundation
import GRDB

/// The default store: one SQLite file in the data directory, in WAL mode so the CLI can read
/// and write keys while the server runs.
public final class SQLiteStore: Store {
  let db: DatabasePool

  public init(path: String) throws {
    var config = Configuration()
    config.busyMode = .timeout(5)
    db = try DatabasePool(path: path, configuration: config)
    try Self.migrator.migrate(db)
  }

  private static var migrator: DatabaseMigrator {
    var m = DatabaseMigrator()
    m.registerMigration("v1") { db in
      try db.create(table: "api_key") { t in
        t.primaryKey("id", .text)
        t.column("name", .text).notNull()
        t.column("prefix", .text).notNull()
        t.column("hash", .text).notNull().unique()
        t.column("scopes", .text).notNull()
        t.column("models", .text).notNull()
        t.column("limits", .text).notNull()
        t.column("created_at", .datetime).notNull()
        t.column("expires_at", .datetime)
        t.column("revoked_at", .datetime)
      }
      try db.create(table: "usage") { t in
        t.primaryKey("id", .text)
        t.column("key_id", .text).notNull().indexed()
        t.column("model", .text).notNull()
        t.column("endpoint", .text).notNull()
        t.column("prompt_tokens", .integer).notNull()
        t.column("completion_tokens", .integer).notNull()
        t.column("cost_microdollars", .integer).notNull()
        t.column("latency_ms", .integer).notNull()
        t.column("ttft_ms", .integer)
        t.column("status", .integer).notNull()
        t.column("finish_reason", .text)
        t.column("created_at", .datetime).notNull().indexed()
      }
    }
    registerAppTables(in: &m)
    return m
  }

  static func json<T: Encodable>(_ v: T) throws -> String {
    String(decoding: try JSONEncoder().encode(v), as: UTF8.self)
  }

  static func decode<T: Decodable>(_ s: String, as: T.Type) throws -> T {
    try JSONDecoder().decode(T.self, from: Data(s.utf8))
  }

  private static func key(from row: Row) throws -> APIKey {
    APIKey(
      id: row["id"], name: row["name"], prefix: row["prefix"], hash: row["hash"],
      scopes: try decode(row["scopes"], as: [KeyScope].self),
      models: try decode(row["models"], as: [String].self),
      limits: try decode(row["limits"], as: KeyLimits.self), createdAt: row["created_at"],
      expiresAt: row["expires_at"], revokedAt: row["revoked_at"])
  }

  public func insert(_ key: APIKey) throws {
    try db.write { db in
      try db.execute(
        sql: """
          INSERT INTO api_key (id, name, prefix, hash, scopes, models, limits, created_at, expires_at, revoked_at)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
          """,
        arguments: [
          key.id, key.name, key.prefix, key.hash, try Self.json(key.scopes), try Self.json(key.models),
          try Self.json(key.limits), key.createdAt, key.expiresAt, key.revokedAt,
        ])
    }
  }

  public func key(hash: String) throws -> APIKey? {
    try db.read { db in
      try Row.fetchOne(db, sql: "SELECT * FROM api_key WHERE hash = ?", arguments: [hash]).map(
        Self.key(from:))
    }
  }

  public func key(id: String) throws -> APIKey? {
    try db.read { db in
      try Row.fetchOne(db, sql: "SELECT * FROM api_key WHERE id = ?", arguments: [id]).map(Self.key(from:))
    }
  }

  public func keys() throws -> [APIKey] {
    try db.read { db in
      try Row.fetchAll(db, sql: "SELECT * FROM api_key ORDER BY created_at").map(Self.key(from:))
    }
  }

  public func revoke(id: String, at date: Date) throws -> Bool {
    try db.write { db in
      try db.execute(
        sql: "UPDATE api_key SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?", arguments: [date, id])
      return db.changesCount > 0
    }
  }

  public func record(_ u: UsageRecord) throws {
    try db.write { db in
      try db.execute(
        sql: """
          INSERT INTO usage (id, key_id, model, endpoint, prompt_tokens, completion_tokens, cost_microdollars,
            latency_ms, ttft_ms, status, finish_reason, created_at)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
          """,
        arguments: [
          u.id, u.keyID, u.model, u.endpoint, u.promptTokens, u.completionTokens, u.costMicrodollars,
          u.latencyMilliseconds, u.timeToFirstTokenMilliseconds, u.status, u.finishReason, u.createdAt,
        ])
    }
  }

  public func usage(keyID: String?, since: Date?, limit: Int) throws -> [UsageRecord] {
    try db.read { db in
      var sql = "SELECT * FROM usage WHERE 1 = 1"
      var args: [any DatabaseValueConvertible] = []
      if let keyID {
        sql += " AND key_id = ?"
        args.append(keyID)
      }
      if let since {
        sql += " AND created_at >= ?"
        args.append(since)
      }
      sql += " ORDER BY created_at DESC LIMIT ?"
      args.append(limit)
      return try Row.fetchAll(db, sql: sql, arguments: StatementArguments(args)).map { r in
        UsageRecord(
          id: r["id"], keyID: r["key_id"], model: r["model"], endpoint: r["endpoint"],
          promptTokens: r["prompt_tokens"], completionTokens: r["completion_tokens"],
          costMicrodollars: r["cost_microdollars"], latencyMilliseconds: r["latency_ms"],
          timeToFirstTokenMilliseconds: r["ttft_ms"], status: r["status"], finishReason: r["finish_reason"],
          createdAt: r["created_at"])
      }
    }
  }

  public func totals(keyID: String?, since: Date?, groupedBy grouping: UsageGrouping) throws -> [UsageTotal] {
    var columns: [String] = []
    if grouping.contains(.key) { columns.append("key_id") }
    if grouping.contains(.model) { columns.append("model") }
    if grouping.contains(.day) { columns.append("substr(created_at, 1, 10) AS day") }
    let groupBy = columns.map { $0.hasSuffix(" AS day") ? "day" : $0 }
    var sql =
      "SELECT "
      + (columns + [
        "COUNT(*) AS requests", "SUM(prompt_tokens) AS prompt_tokens",
        "SUM(completion_tokens) AS completion_tokens", "SUM(cost_microdollars) AS cost",
      ]).joined(separator: ", ") + " FROM usage WHERE 1 = 1"
    var args: [any DatabaseValueConvertible] = []
    if let keyID {
      sql += " AND key_id = ?"
      args.append(keyID)
    }
    if let since {
      sql += " AND created_at >= ?"
      args.append(since)
    }
    if !groupBy.isEmpty {
      sql += " GROUP BY " + groupBy.joined(separator: ", ") + " ORDER BY " + groupBy.joined(separator: ", ")
    }
    return try db.read { db in
      try Row.fetchAll(db, sql: sql, arguments: StatementArguments(args)).compactMap { r in
        let requests: Int = r["requests"]
        guard requests > 0 else { return nil }
        return UsageTotal(
          keyID: grouping.contains(.key) ? r["key_id"] : nil,
          model: grouping.contains(.model) ? r["model"] : nil,
          day: grouping.contains(.day) ? r["day"] : nil, requests: requests,
          promptTokens: r["prompt_tokens"] ?? 0, completionTokens: r["completion_tokens"] ?? 0,
          costMicrodollars: r["cost"] ?? 0)
      }
    }
  }
}
