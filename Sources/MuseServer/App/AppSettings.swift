import Foundation
import MuseStore

/// How the chat app signs people in.
public struct AppSettings: Sendable {
  public var passwordHasher: PasswordHasher
  /// Sessions expire after this long without a request (a sliding window).
  public var sessionLifetime: TimeInterval

  public init(
    passwordHasher: PasswordHasher = PasswordHasher(), sessionLifetime: TimeInterval = 7 * 24 * 3600
  ) {
    self.passwordHasher = passwordHasher
    self.sessionLifetime = sessionLifetime
  }
}
