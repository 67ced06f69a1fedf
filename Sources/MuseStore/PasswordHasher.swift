import Crypto
import Foundation
import _CryptoExtras

/// PBKDF2-HMAC-SHA256 password hashes in the `pbkdf2-sha256$iterations$salt$hash` form
/// (salt and hash in unpadded base64), with a random 16-byte salt per password.
///
/// 600,000 iterations is OWASP's 2023 recommendation for PBKDF2-HMAC-SHA256. The count is
/// stored with each hash, so raising it later still verifies old passwords.
public struct PasswordHasher: Sendable {
  public static let recommendedIterations = 600_000
  public static let minimumPasswordLength = 8
  public let iterations: Int

  public init(iterations: Int = PasswordHasher.recommendedIterations) {
    self.iterations = iterations
  }

  public func hash(_ password: String) throws -> String {
    let salt = RandomToken.bytes(16)
    let derived = try Self.derive(password, salt: salt, iterations: iterations)
    return "pbkdf2-sha256$\(iterations)$\(Self.base64(salt))$\(Self.base64(derived))"
  }

  /// Whether `password` matches `stored`; a malformed stored hash never matches.
  public func verify(_ password: String, against stored: String) -> Bool {
    let parts = stored.split(separator: "$", omittingEmptySubsequences: false)
    guard parts.count == 4, parts[0] == "pbkdf2-sha256", let rounds = Int(parts[1]), rounds > 0,
      let salt = Self.unbase64(parts[2]), let expected = Self.unbase64(parts[3]), !expected.isEmpty,
      let derived = try? Self.derive(password, salt: salt, iterations: rounds, length: expected.count)
    else { return false }
    return Self.constantTimeEqual(derived, expected)
  }

  /// Spends the same time as verifying a real hash, so an unknown username cannot be told
  /// from a wrong password by how long the answer takes.
  public func verifyNothing(_ password: String) {
    _ = try? Self.derive(password, salt: [UInt8](repeating: 0, count: 16), iterations: iterations)
  }

  /// PBKDF2 (RFC 8018 §5.2) with HMAC-SHA256 as the PRF.
  public static func derive(_ password: String, salt: [UInt8], iterations: Int, length: Int = 32) throws
    -> [UInt8]
  {
    let key = try KDF.Insecure.PBKDF2.deriveKey(
      from: Array(password.utf8), salt: salt, using: .sha256, outputByteCount: length,
      unsafeUncheckedRounds: iterations)
    return key.withUnsafeBytes { Array($0) }
  }

  /// Compares every byte whatever the first difference, so timing reveals nothing of the hash.
  public static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    var difference: UInt8 = 0
    for i in a.indices { difference |= a[i] ^ b[i] }
    return difference == 0
  }

  private static func base64(_ bytes: [UInt8]) -> String {
    Data(bytes).base64EncodedString().replacingOccurrences(of: "=", with: "")
  }

  private static func unbase64(_ text: Substring) -> [UInt8]? {
    var s = String(text)
    while s.count % 4 != 0 { s += "=" }
    return Data(base64Encoded: s).map { [UInt8]($0) }
  }
}
