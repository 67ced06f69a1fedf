import Foundation

/// Persistence for keys, the usage ledger, the guardrails' audit log, signed receipts and the chat
/// app (users, sessions, conversations). SQLite (`SQLiteStore`) is the default; the
/// protocol is the seam for a PostgreSQL implementation when several servers share a ledger.
public protocol Store: UserStore, SessionStore, ConversationStore, GuardEventStore, ReceiptStore, ClaimStore {
  func insert(_ key: APIKey) throws
  func key(hash: String) throws -> APIKey?
  func key(id: String) throws -> APIKey?
  func keys() throws -> [APIKey]
  /// Marks a key revoked; returns false when no such key exists.
  func revoke(id: String, at date: Date) throws -> Bool

  func record(_ usage: UsageRecord) throws
  func usage(keyID: String?, since: Date?, limit: Int) throws -> [UsageRecord]
  func totals(keyID: String?, since: Date?, groupedBy: UsageGrouping) throws -> [UsageTotal]
}
