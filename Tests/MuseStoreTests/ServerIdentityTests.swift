import Crypto
import Foundation
import MuseStore
import MuseTestSupport
import Testing

/// The deployment's signing keys: made once with a private file only the owner can read, kept
/// across restarts, rotated with the retired key still published; and receipts kept in the store.
struct ServerIdentityTests {
  @Test func firstStartMakesAKeyOnlyTheOwnerCanRead() throws {
    let dir = try TestPaths.temporaryDirectory().path
    let identity = try ServerIdentity(dataDirectory: dir)
    let keys = try identity.publishedKeys()
    #expect(keys.count == 1 && keys[0].algorithm == "ed25519" && keys[0].notAfter == nil)
    // The current key says so with an explicit null, as the well-known route serves it.
    let written = try String(contentsOfFile: dir + "/identity/keys.json", encoding: .utf8)
    #expect(written.contains(#""not_after" : null"#))
    let file = dir + "/identity/\(keys[0].keyID).ed25519"
    let mode = try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int
    #expect(mode == 0o600)
    let folderMode =
      try FileManager.default.attributesOfItem(atPath: dir + "/identity")[.posixPermissions] as? Int
    #expect(folderMode == 0o700)
    // The id is derived from the public key, so a verifier can check it.
    let raw = try #require(Data(base64Encoded: keys[0].publicKey))
    #expect(raw.count == 32)
    let digest = SHA256.hash(data: raw).map { String(format: "%02x", $0) }.joined()
    #expect(keys[0].keyID == "ed25519-" + digest.prefix(16))
    // A restart finds the same key.
    #expect(try ServerIdentity(dataDirectory: dir).publishedKeys() == keys)
  }

  @Test func signaturesVerifyWithThePublishedKey() throws {
    let identity = try ServerIdentity(dataDirectory: try TestPaths.temporaryDirectory().path)
    let message = Data("canonical bytes".utf8)
    let (keyID, signature) = try identity.sign(message)
    let published = try #require(try identity.publishedKeys().first { $0.keyID == keyID })
    let key = try Curve25519.Signing.PublicKey(rawRepresentation: Data(base64Encoded: published.publicKey)!)
    #expect(key.isValidSignature(signature, for: message))
    #expect(!key.isValidSignature(signature, for: Data("canonical bytez".utf8)))
  }

  @Test func rotationRetiresTheOldKeyButKeepsItPublished() throws {
    let dir = try TestPaths.temporaryDirectory().path
    let server = try ServerIdentity(dataDirectory: dir)
    let old = try server.publishedKeys()[0]
    let (_, oldSignature) = try server.sign(Data("before".utf8))
    // `muse identity rotate` is another process: another instance over the same folder.
    let cli = try ServerIdentity(dataDirectory: dir)
    let fresh = try cli.rotate(at: old.notBefore + 100)
    let keys = try server.publishedKeys()
    #expect(keys.map(\.keyID) == [old.keyID, fresh.keyID])
    #expect(keys[0].notAfter == old.notBefore + 100 && keys[1].notBefore == old.notBefore + 100)
    #expect(keys[1].notAfter == nil)
    #expect(keys[0].covers(old.notBefore + 100) && !keys[0].covers(old.notBefore + 101))
    // The running server signs with the new key from its next signature on.
    let (keyID, signature) = try server.sign(Data("after".utf8))
    #expect(keyID == fresh.keyID)
    let newKey = try Curve25519.Signing.PublicKey(rawRepresentation: Data(base64Encoded: fresh.publicKey)!)
    #expect(newKey.isValidSignature(signature, for: Data("after".utf8)))
    // The retired key's signatures still verify from what is published; its private half is gone.
    let oldKey = try Curve25519.Signing.PublicKey(rawRepresentation: Data(base64Encoded: keys[0].publicKey)!)
    #expect(oldKey.isValidSignature(oldSignature, for: Data("before".utf8)))
    #expect(!FileManager.default.fileExists(atPath: dir + "/identity/\(old.keyID).ed25519"))
  }

  @Test func aDamagedKeyFileIsNamed() throws {
    let dir = try TestPaths.temporaryDirectory().path
    let key = try ServerIdentity(dataDirectory: dir).publishedKeys()[0]
    let file = dir + "/identity/\(key.keyID).ed25519"
    try Data([1, 2, 3]).write(to: URL(fileURLWithPath: file))
    #expect {
      _ = try ServerIdentity(dataDirectory: dir)
    } throws: { "\($0)".contains(file) && "\($0)".contains("32-byte") }
    try Data("not json".utf8).write(to: URL(fileURLWithPath: dir + "/identity/keys.json"))
    #expect {
      _ = try ServerIdentity(dataDirectory: dir)
    } throws: { "\($0)".contains("keys.json") }
  }

  @Test func receiptsRoundTripThroughTheStore() throws {
    let dir = try TestPaths.temporaryDirectory()
    let path = dir.appendingPathComponent("muse.sqlite").path
    let first = StoredReceipt(
      responseID: "cmpl-1", choiceIndex: 1, requestID: "r1", keyID: "k1", receipt: #"{"payload":{}}"#,
      promptTokenIDs: "[1,2]", completionTokenIDs: "[3]", activations: Data([9, 8, 7]),
      createdAt: Date(timeIntervalSince1970: 1_796_000_000))
    var second = first
    second.choiceIndex = 0
    second.activations = nil
    do {
      let store = try SQLiteStore(path: path)
      try store.record(first)
      try store.record(second)
    }
    // Reopened, as after a restart.
    let store = try SQLiteStore(path: path)
    #expect(try store.receipts(responseID: "cmpl-1") == [second, first])
    #expect(try store.receipts(responseID: "cmpl-2").isEmpty)
  }
}
