import Foundation
import MuseTestSupport
import Testing

@testable import MuseStore

struct SQLiteStoreTests {
  func store() throws -> SQLiteStore {
    try SQLiteStore(path: try TestPaths.temporaryDirectory().appendingPathComponent("muse.sqlite").path)
  }

  @Test func keysAreStoredAsHashesAndFoundByThem() throws {
    let s = try store()
    let (secret, key) = APIKey.generate(name: "ci", scopes: [.inference], models: ["m"])
    #expect(secret.hasPrefix("muse-") && secret.count == 37)
    #expect(key.hash == APIKey.hashSecret(secret) && !key.hash.contains(secret))
    try s.insert(key)
    #expect(try s.key(hash: APIKey.hashSecret(secret)) == key)
    #expect(try s.key(hash: APIKey.hashSecret(secret + "x")) == nil)
    #expect(try s.keys().map(\.id) == [key.id])
  }

  @Test func secretsAreUnique() {
    let secrets = Set((0..<200).map { _ in APIKey.generate(name: "k", scopes: [.inference]).secret })
    #expect(secrets.count == 200)
  }

  @Test func revocationAndExpiry() throws {
    let s = try store()
    let (_, key) = APIKey.generate(name: "k", scopes: [.inference], expiresAt: Date().addingTimeInterval(60))
    try s.insert(key)
    #expect(key.isActive() && !key.isActive(at: Date().addingTimeInterval(120)))
    #expect(try s.revoke(id: key.id, at: Date()))
    #expect(try s.key(id: key.id)?.isActive() == false)
    #expect(try !s.revoke(id: "key_missing", at: Date()))
  }

  @Test func ledgerTotalsByKeyModelAndDay() throws {
    let s = try store()
    let day1 = ISO8601DateFormatter().date(from: "2026-11-01T10:00:00Z")!
    let day2 = ISO8601DateFormatter().date(from: "2026-11-02T10:00:00Z")!
    for (key, model, date, p, c) in [
      ("a", "m1", day1, 10, 5), ("a", "m1", day1, 1, 1), ("a", "m2", day2, 7, 3), ("b", "m1", day2, 2, 2),
    ] {
      try s.record(
        UsageRecord(
          keyID: key, model: model, endpoint: "chat.completions", promptTokens: p, completionTokens: c,
          costMicrodollars: p + 2 * c, latencyMilliseconds: 5, timeToFirstTokenMilliseconds: 1, status: 200,
          finishReason: "stop", createdAt: date))
    }
    let all = try s.totals(keyID: nil, since: nil, groupedBy: [])
    #expect(
      all == [
        UsageTotal(
          keyID: nil, model: nil, day: nil, requests: 4, promptTokens: 20, completionTokens: 11,
          costMicrodollars: 42)
      ])
    let byKeyModelDay = try s.totals(keyID: nil, since: nil, groupedBy: [.key, .model, .day])
    #expect(byKeyModelDay.count == 3)
    #expect(
      byKeyModelDay[0]
        == UsageTotal(
          keyID: "a", model: "m1", day: "2026-11-01", requests: 2, promptTokens: 11, completionTokens: 6,
          costMicrodollars: 23))
    let aSinceDay2 = try s.totals(keyID: "a", since: day2.addingTimeInterval(-3600), groupedBy: [.model])
    #expect(
      aSinceDay2 == [
        UsageTotal(
          keyID: nil, model: "m2", day: nil, requests: 1, promptTokens: 7, completionTokens: 3,
          costMicrodollars: 13)
      ])
    #expect(try s.usage(keyID: "b", since: nil, limit: 10).count == 1)
  }

  @Test func dataSurvivesReopening() throws {
    let path = try TestPaths.temporaryDirectory().appendingPathComponent("muse.sqlite").path
    let (_, key) = APIKey.generate(name: "k", scopes: [.admin])
    try SQLiteStore(path: path).insert(key)
    #expect(try SQLiteStore(path: path).key(id: key.id) == key)
  }
}
