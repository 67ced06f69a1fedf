import Crypto
import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A deployment's signing identity: Ed25519 key pairs in `<data dir>/identity/`. The public
/// half of every key ever used is listed in `keys.json` with its validity period, so a receipt
/// signed before a rotation still verifies; only the current key's private half is kept
/// (`<key id>.ed25519`, the 32-byte seed, mode 0600). The server and `muse identity` share it.
public final class ServerIdentity: @unchecked Sendable {
  /// A published public key and the period it signed in (Unix seconds; `notAfter` nil while
  /// it is the current key).
  public struct PublicKey: Codable, Sendable, Equatable {
    public var keyID: String
    public var algorithm: String
    /// The raw 32-byte Ed25519 public key, base64.
    public var publicKey: String
    public var notBefore: Int
    public var notAfter: Int?

    public init(keyID: String, algorithm: String, publicKey: String, notBefore: Int, notAfter: Int?) {
      self.keyID = keyID
      self.algorithm = algorithm
      self.publicKey = publicKey
      self.notBefore = notBefore
      self.notAfter = notAfter
    }

    enum CodingKeys: String, CodingKey {
      case algorithm
      case keyID = "key_id"
      case publicKey = "public_key"
      case notBefore = "not_before"
      case notAfter = "not_after"
    }

    /// `not_after` is written as null while the key is current, never left out.
    public func encode(to encoder: Encoder) throws {
      var c = encoder.container(keyedBy: CodingKeys.self)
      try c.encode(keyID, forKey: .keyID)
      try c.encode(algorithm, forKey: .algorithm)
      try c.encode(publicKey, forKey: .publicKey)
      try c.encode(notBefore, forKey: .notBefore)
      try c.encode(notAfter, forKey: .notAfter)
    }

    /// Whether the key was valid at `time` (Unix seconds; both ends included).
    public func covers(_ time: Int) -> Bool { notBefore <= time && time <= (notAfter ?? Int.max) }
  }

  /// `keys.json`'s shape, also what `/.well-known/muse-keys` serves.
  public struct KeySet: Codable, Sendable {
    public var keys: [PublicKey]
    public init(keys: [PublicKey]) { self.keys = keys }
  }

  public enum IdentityError: Error, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case missingPrivateKey(path: String)

    public var description: String {
      switch self {
      case .unreadable(let path, let reason): "\(path): \(reason)"
      case .missingPrivateKey(let path):
        "\(path): the current key's private half is missing; run muse identity rotate to make a new key"
      }
    }
  }

  public static let algorithm = "ed25519"

  /// `<data dir>/identity`.
  public let directory: String
  private let lock = NSLock()
  private var loaded: (modified: Date?, keys: [PublicKey], signer: Curve25519.Signing.PrivateKey)?

  /// Whether `dataDirectory` holds an identity (`identity/keys.json`), without creating one:
  /// commands that only read keys refuse a directory without it rather than make a key there.
  public static func exists(in dataDirectory: String) -> Bool {
    FileManager.default.fileExists(atPath: dataDirectory + "/identity/keys.json")
  }

  /// Opens the identity in `dataDirectory`, creating the first key pair when there is none.
  public init(dataDirectory: String) throws {
    directory = dataDirectory + "/identity"
    try FileManager.default.createDirectory(
      atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    if !FileManager.default.fileExists(atPath: keysPath) {
      let key = Curve25519.Signing.PrivateKey()
      let now = Int(Date().timeIntervalSince1970)
      try writePrivate(key)
      try writeKeys([Self.publicKey(of: key, from: now)])
    }
    _ = try current()
  }

  private var keysPath: String { directory + "/keys.json" }
  private func privatePath(_ keyID: String) -> String { directory + "/\(keyID).ed25519" }

  /// The id of a public key: the algorithm and the first 16 hex digits of its SHA-256.
  public static func keyID(of publicKey: Data) -> String {
    algorithm + "-" + SHA256.hash(data: publicKey).prefix(8).map { String(format: "%02x", $0) }.joined()
  }

  private static func publicKey(of key: Curve25519.Signing.PrivateKey, from: Int) -> PublicKey {
    let raw = key.publicKey.rawRepresentation
    return PublicKey(
      keyID: keyID(of: raw), algorithm: algorithm, publicKey: raw.base64EncodedString(), notBefore: from,
      notAfter: nil)
  }

  /// Every key published, the current one last.
  public func publishedKeys() throws -> [PublicKey] { try current().keys }

  /// The current key's id and a signature of `message` by it. Reloads the key files when
  /// `muse identity rotate` changed them, so a running server signs with the new key at once.
  public func sign(_ message: Data) throws -> (keyID: String, signature: Data) {
    try sign { _ in message }
  }

  /// Signs the message `make` writes for the current key's id (a message that names its key).
  public func sign(_ make: (String) -> Data) throws -> (keyID: String, signature: Data) {
    let state = try current()
    let keyID = state.keys.last!.keyID
    return (keyID, try state.signer.signature(for: make(keyID)))
  }

  /// The current key's id.
  public func currentKeyID() throws -> String { try current().keys.last!.keyID }

  /// Retires the current key (its validity ends now; its private half is deleted) and makes a
  /// new one, valid from now. Returns the new key.
  @discardableResult
  public func rotate(at now: Int = Int(Date().timeIntervalSince1970)) throws -> PublicKey {
    try lock.withLock {
      var keys = try readKeys()
      let key = Curve25519.Signing.PrivateKey()
      let fresh = Self.publicKey(of: key, from: now)
      let retired = keys.indices.last.map { keys[$0].keyID }
      if let last = keys.indices.last { keys[last].notAfter = now }
      // The new private key is on disk before keys.json names it, so a server reloading
      // between the two writes still finds what keys.json says is current.
      try writePrivate(key)
      try writeKeys(keys + [fresh])
      if let retired { try? FileManager.default.removeItem(atPath: privatePath(retired)) }
      loaded = nil
      return fresh
    }
  }

  private func current() throws -> (keys: [PublicKey], signer: Curve25519.Signing.PrivateKey) {
    try lock.withLock {
      let modified =
        (try? FileManager.default.attributesOfItem(atPath: keysPath))?[.modificationDate] as? Date
      if let loaded, loaded.modified == modified { return (loaded.keys, loaded.signer) }
      let keys = try readKeys()
      guard let last = keys.last else {
        throw IdentityError.unreadable(path: keysPath, reason: "it lists no keys")
      }
      let path = privatePath(last.keyID)
      guard let seed = FileManager.default.contents(atPath: path) else {
        throw IdentityError.missingPrivateKey(path: path)
      }
      let signer: Curve25519.Signing.PrivateKey
      do {
        signer = try Curve25519.Signing.PrivateKey(rawRepresentation: seed)
      } catch {
        throw IdentityError.unreadable(path: path, reason: "not a 32-byte Ed25519 private key")
      }
      guard signer.publicKey.rawRepresentation.base64EncodedString() == last.publicKey else {
        throw IdentityError.unreadable(path: path, reason: "it does not match the public key in keys.json")
      }
      loaded = (modified, keys, signer)
      return (keys, signer)
    }
  }

  private func readKeys() throws -> [PublicKey] {
    guard let data = FileManager.default.contents(atPath: keysPath) else {
      throw IdentityError.unreadable(path: keysPath, reason: "cannot be read")
    }
    do {
      return try JSONDecoder().decode(KeySet.self, from: data).keys
    } catch {
      throw IdentityError.unreadable(path: keysPath, reason: "not a key list: \(error)")
    }
  }

  /// keys.json is replaced whole (written aside, then renamed), so a reader never sees half.
  private func writeKeys(_ keys: [PublicKey]) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    let temporary = keysPath + ".new"
    try encoder.encode(KeySet(keys: keys)).write(to: URL(fileURLWithPath: temporary))
    guard rename(temporary, keysPath) == 0 else {
      throw IdentityError.unreadable(path: keysPath, reason: "could not be replaced (errno \(errno))")
    }
  }

  /// The seed is written to a file created with mode 0600, so it is never readable by others,
  /// not even for a moment.
  private func writePrivate(_ key: Curve25519.Signing.PrivateKey) throws {
    let path = privatePath(Self.keyID(of: key.publicKey.rawRepresentation))
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    guard fd >= 0 else {
      throw IdentityError.unreadable(path: path, reason: "cannot be created (errno \(errno))")
    }
    defer { close(fd) }
    let seed = [UInt8](key.rawRepresentation)
    let written = seed.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    guard written == seed.count else {
      throw IdentityError.unreadable(path: path, reason: "could not be written (errno \(errno))")
    }
  }
}
