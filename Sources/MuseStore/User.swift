import Foundation

/// A person who signs in to the chat app. Each user owns one API key, against which every app
/// request is admitted, rate-limited and billed exactly like an API call.
public struct User: Codable, Sendable, Equatable, Identifiable {
  public var id: String
  public var username: String
  /// `pbkdf2-sha256$iterations$salt$hash` (see `PasswordHasher`); never the password.
  public var passwordHash: String
  public var isAdmin: Bool
  public var disabled: Bool
  public var createdAt: Date
  public var keyID: String

  public init(
    id: String = User.newID(), username: String, passwordHash: String, isAdmin: Bool = false,
    disabled: Bool = false, createdAt: Date = Date(), keyID: String
  ) {
    self.id = id
    self.username = username
    self.passwordHash = passwordHash
    self.isAdmin = isAdmin
    self.disabled = disabled
    // Whole seconds: what the store keeps, so a user reads back equal to the one written.
    self.createdAt = Date(timeIntervalSince1970: createdAt.timeIntervalSince1970.rounded(.down))
    self.keyID = keyID
  }

  public static func newID() -> String { "user_" + RandomToken.base62(count: 12) }

  /// Usernames people can type and read back: 1–64 of letters, digits, `.`, `_`, `-`.
  public static func validate(username: String) throws {
    let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "._-"))
    guard (1...64).contains(username.count), username.unicodeScalars.allSatisfy(allowed.contains),
      username.allSatisfy(\.isASCII)
    else {
      throw UserError.invalidUsername(username)
    }
  }
}

public enum UserError: Error, CustomStringConvertible, Equatable {
  case invalidUsername(String)
  case usernameTaken(String)
  case noSuchUser(String)
  case passwordTooShort(minimum: Int)

  public var description: String {
    switch self {
    case .invalidUsername(let name):
      "'\(name)' is not a valid username: use 1–64 ASCII letters, digits, '.', '_' or '-'"
    case .usernameTaken(let name): "a user named '\(name)' already exists"
    case .noSuchUser(let name): "no user named '\(name)'"
    case .passwordTooShort(let minimum): "the password must have at least \(minimum) characters"
    }
  }
}

/// Users of the chat app.
public protocol UserStore: Sendable {
  /// Inserts a user; throws `UserError.usernameTaken` when the name exists.
  func insert(_ user: User) throws
  func user(id: String) throws -> User?
  func user(username: String) throws -> User?
  func users() throws -> [User]
  /// Replaces the stored password hash; returns false when no such user exists.
  func setPasswordHash(_ hash: String, userID: String) throws -> Bool
  /// Disables a user and ends their sessions; returns false when no such user exists.
  func disable(userID: String) throws -> Bool
}
