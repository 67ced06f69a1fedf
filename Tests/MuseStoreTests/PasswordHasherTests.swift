import Foundation
import Testing

@testable import MuseStore

struct PasswordHasherTests {
  static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

  /// RFC 7914 §11 lists PBKDF2-HMAC-SHA256 test vectors; the last is Python's
  /// hashlib.pbkdf2_hmac("sha256", "pässwörd 🦙".encode(), bytes(range(16)), 600000, 32).
  @Test func derivationMatchesPublishedVectors() throws {
    #expect(
      Self.hex(try PasswordHasher.derive("passwd", salt: Array("salt".utf8), iterations: 1, length: 64))
        == "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
        + "49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783")
    #expect(
      Self.hex(try PasswordHasher.derive("Password", salt: Array("NaCl".utf8), iterations: 80000, length: 64))
        == "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56"
        + "a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d")
    #expect(
      Self.hex(try PasswordHasher.derive("pässwörd 🦙", salt: Array(0..<16), iterations: 600_000))
        == "91313dc65311e8cc375229f0474fc9145d75c7bc416327a2ef4fe753cc42d8b4")
  }

  @Test func hashesAreSaltedAndVerified() throws {
    let hasher = PasswordHasher()
    #expect(hasher.iterations == 600_000)
    let a = try hasher.hash("correct horse battery staple")
    let b = try hasher.hash("correct horse battery staple")
    let parts = a.split(separator: "$")
    #expect(parts.count == 4 && parts[0] == "pbkdf2-sha256" && parts[1] == "600000")
    #expect(a != b, "every hash has its own salt")
    #expect(!a.contains("correct horse"))
    #expect(hasher.verify("correct horse battery staple", against: a))
    #expect(!hasher.verify("correct horse battery stapl", against: a))
    #expect(!hasher.verify("", against: a))
    // The stored iteration count is the one used, whatever the hasher's own.
    #expect(PasswordHasher(iterations: 1000).verify("correct horse battery staple", against: b))
  }

  @Test func malformedHashesNeverMatch() {
    let hasher = PasswordHasher(iterations: 1000)
    for stored in [
      "", "plain", "pbkdf2-sha256$x$AAAA$AAAA", "pbkdf2-sha256$1000$AAAA$", "sha1$1000$AAAA$AAAA",
    ] {
      #expect(!hasher.verify("anything", against: stored), "\(stored)")
    }
  }

  @Test func constantTimeComparison() {
    #expect(PasswordHasher.constantTimeEqual([1, 2, 3], [1, 2, 3]))
    #expect(!PasswordHasher.constantTimeEqual([1, 2, 3], [1, 2, 4]))
    #expect(!PasswordHasher.constantTimeEqual([1, 2, 3], [1, 2]))
  }
}
