import Crypto
import Foundation
import MuseStore

/// A signed statement about an evaluation (`muse eval --attest`): which data set, prompt
/// format, model and weights, how it was scored, the per-item results' hash and the score with
/// its interval, signed by the deployment's key the way receipts are (a flat payload of
/// integers and strings, `CanonicalJSON`, Ed25519), with the receipts the server gave for a
/// random sample of the items beside it. docs/VERIFIABILITY.md lists the fields.
public struct Attestation: Codable, Sendable, Equatable {
  public static let kind = "muse.eval.attestation"

  public var payload: [String: ReceiptValue]
  public var signature: String
  /// Receipts (compact form) of re-scored sample items; the payload holds the SHA-256 of them
  /// joined by newlines, so none can be added, dropped or swapped.
  public var sampleReceipts: [String]

  enum CodingKeys: String, CodingKey {
    case payload, signature
    case sampleReceipts = "sample_receipts"
  }

  /// Signs `fields` (with `kind`, `version`, `created` and the receipts' hash added).
  public static func sign(
    _ fields: [String: ReceiptValue], sampleReceipts: [String], by identity: ServerIdentity,
    now: Int = Int(Date().timeIntervalSince1970)
  ) throws -> Attestation {
    var payload = fields
    payload["kind"] = .string(kind)
    payload["version"] = .int(Receipt.version)
    payload["created"] = .int(now)
    payload["sample_receipts_sha256"] = .string(Self.receiptsHash(sampleReceipts))
    let signed = try Receipt.sign(payload, by: identity)
    return Attestation(payload: signed.payload, signature: signed.signature, sampleReceipts: sampleReceipts)
  }

  static func receiptsHash(_ receipts: [String]) -> String {
    CanonicalJSON.sha256(receipts.joined(separator: "\n"))
  }

  /// The signed part: a statement signed and checked the way receipts are.
  public var statement: Receipt { Receipt(payload: payload, signature: signature) }
  public func string(_ field: String) -> String? { statement.string(field) }
  public func int(_ field: String) -> Int? { statement.int(field) }

  /// Checks the signature with the published keys, the kind, that the sample receipts are the
  /// ones signed for, and that each of them verifies and names the attested model's weights.
  /// Throws what failed.
  public func verify(keys: [ServerIdentity.PublicKey]) throws {
    guard string("kind") == Self.kind else { throw ReceiptError.invalid("not an eval attestation") }
    try statement.verifySignature(keys: keys)
    guard string("sample_receipts_sha256") == Self.receiptsHash(sampleReceipts) else {
      throw ReceiptError.invalid("the sample receipts are not the ones the attestation signed")
    }
    for (i, compact) in sampleReceipts.enumerated() {
      let receipt = try Receipt(compact: compact)
      do {
        try receipt.verifySignature(keys: keys)
      } catch {
        throw ReceiptError.invalid("sample receipt \(i): \(error)")
      }
      if let root = string("weights_sha256"), receipt.string("weights_sha256") != root {
        throw ReceiptError.invalid("sample receipt \(i) names other weights than the attestation")
      }
    }
  }

  /// Reads an attestation document; the error says what is wrong with it.
  public init(json data: Data) throws {
    do {
      self = try JSONDecoder().decode(Attestation.self, from: data)
    } catch {
      throw ReceiptError.malformed("not an attestation document (\(error))")
    }
  }

  public init(payload: [String: ReceiptValue], signature: String, sampleReceipts: [String]) {
    self.payload = payload
    self.signature = signature
    self.sampleReceipts = sampleReceipts
  }

  /// The document as written to `attestation.json` and served with a claim.
  public var json: Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
    return (try? encoder.encode(self)) ?? Data()
  }
}
