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
    registerGuardTables(in: &m)
    registerReceiptTables(in: &m)
    registerClaimTables(in: &m)
    return m
  }

  static func json<T: Encodable>(_ v: T) throws -> String {
    String(decoding: try JSONEncoder().encode(v), as: UTF8.self)
  }

  static func decode<T: Decodable>(_ s: String, as: T.Type) throws -> T {
    try JSONDecoder().decode(T.self, from: Data(s.utf8))
  }

  private static func key(from row: Row) throws -> APIKey {
    try APIKey(
      id: row.decode(forColumn: "id"), name: row.decode(forColumn: "name"),
      prefix: row.decode(forColumn: "prefix"), hash: row.decode(forColumn: "hash"),
      scopes: decode(row.decode(forColumn: "scopes"), as: [KeyScope].self),
      models: decode(row.decode(forColumn: "models"), as: [String].self),
      limits: decode(row.decode(forColumn: "limits"), as: KeyLimits.self),
      createdAt: row.decode(forColumn: "created_at"), expiresAt: row.decode(forColumn: "expires_at"),
      revokedAt: row.decode(forColumn: "revoked_at"))
  }

  /// Decodes one stored row; a row that cannot be read (a value written by an older or broken
  /// version, edited by hand) is reported on standard error and skipped, so one bad row never
  /// stops the server from starting or a list from loading.
  static func decodeRow<T>(_ row: Row, table: String, _ decode: (Row) throws -> T) -> T? {
    do {
      return try decode(row)
    } catch {
      let id = (try? row.decode(String.self, forColumn: "id")) ?? "?"
      FileHandle.standardError.write(
        Data("muse: skipped an unreadable \(table) row (id \(id)): \(error)\n".utf8))
      return nil
    }
  }

  public func insert(_ key: APIKey) throws {
    if let expiry = key.expiresAt, expiry > APIKey.latestExpiry {
      throw KeyFieldError.outOfRange(field: "expires_at", allowed: "must not be later than 9999-12-31")
    }
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
      try Row.fetchOne(db, sql: "SELECT * FROM api_key WHERE hash = ?", arguments: [hash]).flatMap {
        Self.decodeRow($0, table: "api_key", Self.key(from:))
      }
    }
  }

  public func key(id: String) throws -> APIKey? {
    try db.read { db in
      try Row.fetchOne(db, sql: "SELECT * FROM api_key WHERE id = ?", arguments: [id]).flatMap {
        Self.decodeRow($0, table: "api_key", Self.key(from:))
      }
    }
  }

  public func keys() throws -> [APIKey] {
    try db.read { db in
      try Row.fetchAll(db, sql: "SELECT * FROM api_key ORDER BY created_at").compactMap {
        Self.decodeRow($0, table: "api_key", Self.key(from:))
      }
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
          ON CONFLICT(id) DO UPDATE SET completion_tokens = excluded.completion_tokens,
            cost_microdollars = excluded.cost_microdollars, latency_ms = excluded.latency_ms,
            ttft_ms = excluded.ttft_ms, status = excluded.status, finish_reason = excluded.finish_reason
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
      return try Row.fetchAll(db, sql: sql, arguments: StatementArguments(args)).compactMap { row in
        Self.decodeRow(row, table: "usage") { r in
          try UsageRecord(
            id: r.decode(forColumn: "id"), keyID: r.decode(forColumn: "key_id"),
            model: r.decode(forColumn: "model"),
            endpoint: r.decode(forColumn: "endpoint"), promptTokens: r.decode(forColumn: "prompt_tokens"),
            completionTokens: r.decode(forColumn: "completion_tokens"),
            costMicrodollars: r.decode(forColumn: "cost_microdollars"),
            latencyMilliseconds: r.decode(forColumn: "latency_ms"),
            timeToFirstTokenMilliseconds: r.decode(forColumn: "ttft_ms"),
            status: r.decode(forColumn: "status"),
            finishReason: r.decode(forColumn: "finish_reason"), createdAt: r.decode(forColumn: "created_at"))
        }
      }
    }
  }

  /// Marks the ledger rows of generations that were still running when the server stopped
  /// (killed, crashed) as interrupted: they keep the tokens last checkpointed, which count.
  @discardableResult
  public func closeInterruptedUsage() throws -> Int {
    try db.write { db in
      try db.execute(
        sql: "UPDATE usage SET status = ?, finish_reason = 'interrupted' WHERE status = ?",
        arguments: [UsageRecord.interruptedStatus, UsageRecord.inProgressStatus])
      return db.changesCount
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
      try Row.fetchAll(db, sql: sql, arguments: StatementArguments(args)).compactMap { row in
        Self.decodeRow(row, table: "usage totals") { r -> UsageTotal? in
          let requests: Int = try r.decode(forColumn: "requests")
          guard requests > 0 else { return nil }
          return UsageTotal(
            keyID: grouping.contains(.key) ? try r.decode(forColumn: "key_id") : nil,
            model: grouping.contains(.model) ? try r.decode(forColumn: "model") : nil,
            day: grouping.contains(.day) ? try r.decode(forColumn: "day") : nil, requests: requests,
            promptTokens: try r.decode(Int?.self, forColumn: "prompt_tokens") ?? 0,
            completionTokens: try r.decode(Int?.self, forColumn: "completion_tokens") ?? 0,
            costMicrodollars: try r.decode(Int?.self, forColumn: "cost") ?? 0)
        } ?? nil
      }
    }
  }
}
