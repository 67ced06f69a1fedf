import Foundation
import GRDB
import MuseTestSupport
import Testing

@testable import MuseStore

/// Rows the store cannot read back are reported and skipped, never fatal (issue #15); dates
/// past year 9999 are never written.
struct StoreHardeningTests {
  @Test func anUnreadableStoredKeyIsSkippedNotFatal() throws {
    let dir = try TestPaths.temporaryDirectory()
    let store = try SQLiteStore(path: dir.appendingPathComponent("muse.sqlite").path)
    let (_, good) = APIKey.generate(name: "good", scopes: [.inference])
    try store.insert(good)
    // What a key created with a far expiry by an earlier version left behind.
    try store.db.write { db in
      try db.execute(
        sql: "INSERT INTO api_key (id, name, prefix, hash, scopes, models, limits, created_at, expires_at) "
          + "VALUES ('key_bad', 'bad', 'muse-bad', 'h', '[\"inference\"]', '[]', '{}', "
          + "'2026-01-01 00:00:00.000', '+10000-01-01 00:00:00.000')")
    }
    let keys = try store.keys()
    #expect(keys.map(\.id) == [good.id])
    #expect(try store.key(id: "key_bad") == nil)
    let (_, far) = APIKey.generate(
      name: "far", scopes: [.inference], expiresAt: Date(timeIntervalSince1970: 253_402_400_000))
    #expect(throws: KeyFieldError.self) { try store.insert(far) }
  }

  @Test func interruptedGenerationsKeepTheirCheckpoint() throws {
    let dir = try TestPaths.temporaryDirectory()
    let store = try SQLiteStore(path: dir.appendingPathComponent("muse.sqlite").path)
    var row = UsageRecord(
      keyID: "k", model: "m", endpoint: "completions", promptTokens: 10, completionTokens: 16,
      costMicrodollars: 0, latencyMilliseconds: 1, timeToFirstTokenMilliseconds: nil,
      status: UsageRecord.inProgressStatus, finishReason: "in_progress")
    try store.record(row)
    row.completionTokens = 32
    try store.record(row)
    #expect(try store.closeInterruptedUsage() == 1)
    let stored = try #require(try store.usage(keyID: "k", since: nil, limit: 5).first)
    #expect(stored.completionTokens == 32 && stored.status == 499 && stored.finishReason == "interrupted")
    #expect(try store.usage(keyID: "k", since: nil, limit: 5).count == 1)
  }
}
