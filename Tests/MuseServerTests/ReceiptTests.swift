import Foundation
import MuseStore
import MuseTestSupport
import Testing

@testable import MuseServer

/// Receipts against an independent reference (Scripts/golden/receipts_golden.py: Python's json,
/// hashlib and `cryptography`): the same canonical bytes, a signature made in Python accepted,
/// and any change to a signed field, the signature or the key refused.
struct ReceiptTests {
  struct Golden: Decodable {
    struct Body: Decodable {
      let body: String
      let canonical: String
      let sha256: String
    }
    struct Tokens: Decodable {
      let ids: [Int]
      let sha256: String
    }
    struct Signed: Decodable {
      let payload: [String: ReceiptValue]
      let canonical: String
      let signature: String
    }
    let bodies: [Body]
    let tokens: [Tokens]
    let key: ServerIdentity.PublicKey
    let receipt: Signed
  }

  static let golden = try? TestPaths.golden("receipts/golden.json", as: Golden.self)

  @Test func requestBodiesHavePythonsCanonicalForm() throws {
    let golden = try #require(Self.golden)
    for case let body in golden.bodies {
      let bytes = try #require(CanonicalJSON.bytes(ofDocument: Data(body.body.utf8)), "\(body.body)")
      #expect(String(decoding: bytes, as: UTF8.self) == body.canonical)
      #expect(CanonicalJSON.sha256(bytes) == body.sha256)
    }
    for t in golden.tokens {
      #expect(CanonicalJSON.sha256(CanonicalJSON.bytes(ofTokens: t.ids)) == t.sha256)
    }
  }

  @Test func aReceiptSignedInPythonVerifies() throws {
    let golden = try #require(Self.golden)
    let receipt = Receipt(payload: golden.receipt.payload, signature: golden.receipt.signature)
    #expect(String(decoding: receipt.signedBytes, as: UTF8.self) == golden.receipt.canonical)
    try receipt.verifySignature(keys: [golden.key])
    // The compact header form carries the same bytes.
    #expect(try Receipt(compact: receipt.compact) == receipt)
  }

  @Test func everyTamperedFieldIsRefused() throws {
    let golden = try #require(Self.golden)
    let receipt = Receipt(payload: golden.receipt.payload, signature: golden.receipt.signature)
    for field in receipt.payload.keys.sorted() {
      var tampered = receipt
      switch tampered.payload[field]! {
      case .int(let n): tampered.payload[field] = .int(n + 1)
      case .string(let s): tampered.payload[field] = .string(s + "0")
      }
      #expect(throws: ReceiptError.self, "\(field)") { try tampered.verifySignature(keys: [golden.key]) }
    }
    var dropped = receipt
    dropped.payload["content_sha256"] = nil
    #expect(throws: ReceiptError.self) { try dropped.verifySignature(keys: [golden.key]) }
    var flipped = receipt
    var signature = Data(base64Encoded: receipt.signature)!
    signature[10] ^= 1
    flipped.signature = signature.base64EncodedString()
    #expect(throws: ReceiptError.self) { try flipped.verifySignature(keys: [golden.key]) }
    // Another key under the same id, no key, and a key outside its validity period.
    var other = golden.key
    other.publicKey = Data(repeating: 7, count: 32).base64EncodedString()
    #expect(throws: ReceiptError.self) { try receipt.verifySignature(keys: [other]) }
    #expect(throws: ReceiptError.self) { try receipt.verifySignature(keys: []) }
    var retired = golden.key
    retired.notAfter = (receipt.int("created") ?? 0) - 1
    #expect(throws: ReceiptError.self) { try receipt.verifySignature(keys: [retired]) }
  }

  @Test func aCompactFormThatIsNotCanonicalIsRefused() throws {
    let golden = try #require(Self.golden)
    let receipt = Receipt(payload: golden.receipt.payload, signature: golden.receipt.signature)
    let spaced = Data(golden.receipt.canonical.replacingOccurrences(of: ",", with: ", ").utf8)
    let compact = Receipt.base64url(spaced) + "." + receipt.compact.split(separator: ".")[1]
    #expect(throws: ReceiptError.self) { try Receipt(compact: compact) }
    #expect(throws: ReceiptError.self) { try Receipt(compact: "not a receipt") }
  }
}
