import Crypto
import Foundation

/// A signed-in browser. The cookie holds a random token; the store keeps only its SHA-256,
/// so a copy of the database cannot be used to sign in.
public struct AppSession: Codable, Sendable, Equatable {
  public var tokenHash: String
  public var userID: String
  public var createdAt: Date
  public var expiresAt: Date
  public var lastSeenAt: Date

  public init(tokenHash: String, userID: String, createdAt: Date, expiresAt: Date, lastSeenAt: Date) {
    self.tokenHash = tokenHash
    self.userID = userID
    self.createdAt = createdAt
    self.expiresAt = expiresAt
    self.lastSeenAt = lastSeenAt
  }

  /// A new session for `userID`: its record and the token for the cookie (256 random bits,
  /// base62, which needs no escaping in a cookie).
  public static func start(userID: String, lifetime: TimeInterval, now: Date = Date()) -> (
    token: String, session: AppSession
  ) {
    let token = RandomToken.base62(count: 43)
    let session = AppSession(
      tokenHash: hashToken(token), userID: userID, createdAt: now,
      expiresAt: now.addingTimeInterval(lifetime),
      lastSeenAt: now)
    return (token, session)
  }

  public static func hashToken(_ token: String) -> String {
    SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
  }
}

/// Sessions of the chat app, with a sliding expiry.
public protocol SessionStore: Sendable {
  func insert(_ session: AppSession) throws
  func session(tokenHash: String) throws -> AppSession?
  /// Records activity and pushes the expiry out (the sliding window).
  func touch(tokenHash: String, lastSeenAt: Date, expiresAt: Date) throws
  func deleteSession(tokenHash: String) throws
  /// Deletes every session that expired before `now`; returns how many.
  @discardableResult func purgeSessions(expiredBefore now: Date) throws -> Int
}
