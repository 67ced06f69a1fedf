import Foundation

/// An operator's published claim about a model ("ARC-Challenge acc_norm 0.27"), backed by a
/// signed eval attestation and the per-item results it hashes, so anyone can check the
/// signature, recompute the score and re-run a sample through the API (`muse verify-claim`).
public struct Claim: Sendable, Equatable {
  public var id: String
  public var model: String
  /// The operator's words for it.
  public var statement: String
  /// The attestation document (payload, signature, sample receipts) as JSON.
  public var attestation: String
  /// The per-item results the attestation's `results_sha256` covers (JSONL, as `muse eval`
  /// wrote them).
  public var items: String
  public var createdAt: Date

  public init(
    id: String = "claim_" + RandomToken.base62(count: 16), model: String, statement: String,
    attestation: String,
    items: String, createdAt: Date = Date()
  ) {
    self.id = id
    self.model = model
    self.statement = statement
    self.attestation = attestation
    self.items = items
    self.createdAt = createdAt
  }
}

public protocol ClaimStore {
  func insert(_ claim: Claim) throws
  /// A model's claims, oldest first.
  func claims(model: String) throws -> [Claim]
  func claim(id: String) throws -> Claim?
  /// Deletes a claim; false when there is none with that id.
  func removeClaim(id: String) throws -> Bool
}
