import Foundation
import HummingbirdTesting
import MuseStore
import MuseTestSupport
import Testing

@testable import MuseServer

/// Eval attestations (signed like receipts, with sample receipts beside them) and the claims
/// routes that publish them. The e2e suite verifies attestations with Python `cryptography`
/// and runs `muse eval --attest`, `muse claims add` and `muse verify-claim` end to end.
@Suite(.serialized)
struct ClaimTests {
  static let fields: [String: ReceiptValue] = [
    "task": .string("arc-challenge"), "mode": .string("loglikelihood"), "model": .string("smol"),
    "items": .int(2), "score.acc": .string("0.500000"), "results_sha256": .string("ab"),
    "weights_sha256": .string("w1"),
  ]

  static func receipt(_ identity: ServerIdentity, weights: String) throws -> String {
    try Receipt.sign(
      [
        "version": .int(1), "created": .int(Int(Date().timeIntervalSince1970)),
        "weights_sha256": .string(weights),
      ],
      by: identity
    ).compact
  }

  @Test func anAttestationVerifiesAndEveryTamperingFails() throws {
    let identity = try ServerIdentity(dataDirectory: try TestPaths.temporaryDirectory().path)
    let keys = try identity.publishedKeys()
    let samples = [try Self.receipt(identity, weights: "w1"), try Self.receipt(identity, weights: "w1")]
    let attestation = try Attestation.sign(Self.fields, sampleReceipts: samples, by: identity)
    try attestation.verify(keys: keys)
    #expect(
      attestation.string("kind") == Attestation.kind && attestation.string("key_id") == keys.last?.keyID)
    let reread = try Attestation(json: attestation.json)
    #expect(reread == attestation)
    try reread.verify(keys: keys)

    var score = attestation
    score.payload["score.acc"] = .string("0.900000")
    var dropped = attestation
    dropped.sampleReceipts.removeLast()
    var foreign = attestation
    let other = try ServerIdentity(dataDirectory: try TestPaths.temporaryDirectory().path)
    foreign.sampleReceipts[0] = try Self.receipt(other, weights: "w1")
    var kind = attestation
    kind.payload["kind"] = .string("receipt")
    let otherWeights = try Attestation.sign(
      Self.fields, sampleReceipts: [try Self.receipt(identity, weights: "w2")], by: identity)
    for (what, tampered) in [
      ("a changed score", score), ("a dropped sample receipt", dropped),
      ("a sample receipt by another key", foreign), ("another kind", kind),
      ("a sample receipt for other weights", otherWeights),
    ] {
      #expect(throws: ReceiptError.self, "\(what)") { try tampered.verify(keys: keys) }
    }
    #expect(throws: ReceiptError.self) { try attestation.verify(keys: try other.publishedKeys()) }
    #expect(throws: ReceiptError.self) { try Attestation(json: Data("{}".utf8)) }
  }

  @Test func claimsAreListedOnTheCardAndTheirRoutes() async throws {
    let h = try ServerHarness(userModels: ["smol"])
    let attestation = try Attestation.sign(Self.fields, sampleReceipts: [], by: h.identity)
    let claim = Claim(
      model: "smol", statement: "ARC-Challenge acc 0.5 (2 items)",
      attestation: String(decoding: attestation.json, as: UTF8.self),
      items: "{\"id\":\"a\"}\n{\"id\":\"b\"}\n")
    try h.store.insert(claim)
    try h.store.insert(
      Claim(model: "tiny", statement: "unreadable", attestation: "not json", items: ""))
    try await h.test { c in
      let card = try await c.call("/v1/models/smol", key: h.user)
      #expect((card.json["claims"] as? [[String: Any]])?.first?["id"] as? String == claim.id)
      let list = try await c.call("/v1/models/smol/claims", key: h.user)
      let data = try #require(list.json["data"] as? [[String: Any]])
      #expect(data.count == 1 && data[0]["statement"] as? String == claim.statement)
      let signed = try JSONSerialization.data(withJSONObject: data[0]["attestation"] ?? [:])
      try Attestation(json: signed).verify(keys: try h.identity.publishedKeys())
      let items = try await c.call(data[0]["items_url"] as? String ?? "", key: h.user)
      #expect(items.status == .ok && items.text == claim.items)
      // A claim of another model, a model the key may not use, no key, an unreadable row.
      #expect(try await c.call("/v1/models/smol/claims/nope/items", key: h.user).status == .notFound)
      #expect(try await c.call("/v1/models/tiny/claims", key: h.user).status == .forbidden)
      #expect(try await c.call("/v1/models/smol/claims", key: nil).status == .unauthorized)
      let tiny = try await c.call("/v1/models/tiny/claims", key: h.admin)
      #expect(tiny.status == .ok && (tiny.json["data"] as? [Any])?.isEmpty == true)
    }
    #expect(try h.store.removeClaim(id: claim.id) && !(try h.store.removeClaim(id: claim.id)))
  }
}
