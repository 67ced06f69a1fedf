import Foundation

/// Creating and changing app users together with their API keys: the one place the CLI, the
/// first-run setup and the tests go through.
public struct UserAccounts: Sendable {
  public let store: Store
  public let hasher: PasswordHasher

  public init(store: Store, hasher: PasswordHasher = PasswordHasher()) {
    self.store = store
    self.hasher = hasher
  }

  /// Creates a user and the key their app requests are billed to (inference scope; its secret
  /// is never shown: the app signs in with the password).
  @discardableResult
  public func create(
    username: String, password: String, isAdmin: Bool = false, models: [String] = [],
    limits: KeyLimits = KeyLimits()
  ) throws -> User {
    try User.validate(username: username)
    try Self.check(password: password)
    guard try store.user(username: username) == nil else { throw UserError.usernameTaken(username) }
    let (_, key) = APIKey.generate(
      name: "app:\(username)", scopes: [.inference], models: models, limits: limits)
    try store.insert(key)
    let user = User(
      username: username, passwordHash: try hasher.hash(password), isAdmin: isAdmin, keyID: key.id)
    try store.insert(user)
    return user
  }

  public func setPassword(username: String, password: String) throws {
    try Self.check(password: password)
    guard let user = try store.user(username: username) else { throw UserError.noSuchUser(username) }
    _ = try store.setPasswordHash(try hasher.hash(password), userID: user.id)
  }

  public func disable(username: String) throws {
    guard let user = try store.user(username: username) else { throw UserError.noSuchUser(username) }
    _ = try store.disable(userID: user.id)
  }

  /// A password to print once: 20 base62 characters (≈119 bits).
  public static func generatePassword() -> String { RandomToken.base62(count: 20) }

  static func check(password: String) throws {
    guard password.count >= PasswordHasher.minimumPasswordLength else {
      throw UserError.passwordTooShort(minimum: PasswordHasher.minimumPasswordLength)
    }
  }
}
