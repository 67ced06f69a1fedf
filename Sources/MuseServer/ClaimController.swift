import Foundation
import Hummingbird
import MuseStore

/// `GET /v1/models/{id}/claims`: what the operator claims about a model, each with its signed
/// eval attestation; `GET /v1/models/{id}/claims/{claim}/items`: the per-item results the
/// attestation hashes (JSON Lines), so anyone may recompute the score and re-run a sample
/// (`muse verify-claim`). For keys that may use the model.
struct ClaimController: Sendable {
  let service: MuseService

  func register(on v1: RouterGroup<MuseRequestContext>) {
    v1.get("/models/{id}/claims") { request, context in
      try self.list(context: context, model: try context.parameters.require("id"))
    }
    v1.get("/models/{id}/claims/{claim}/items") { request, context in
      try self.items(
        context: context, model: try context.parameters.require("id"),
        claim: try context.parameters.require("claim"))
    }
  }

  // swiftlint:disable identifier_name
  struct ClaimObject: Encodable {
    let id: String
    let object = "model.claim"
    let model: String
    let statement: String
    let created: Int
    let attestation: Attestation
    let items_url: String
  }
  // swiftlint:enable identifier_name

  /// The claims whose attestation can be read; a row that cannot is left out and logged.
  static func objects(_ claims: [Claim], service: MuseService) -> [ClaimObject] {
    claims.compactMap { claim in
      guard let attestation = try? Attestation(json: Data(claim.attestation.utf8)) else {
        service.logger.error("claim \(claim.id): its attestation cannot be read; left out")
        return nil
      }
      return ClaimObject(
        id: claim.id, model: claim.model, statement: claim.statement,
        created: Int(claim.createdAt.timeIntervalSince1970), attestation: attestation,
        items_url: "/v1/models/\(claim.model)/claims/\(claim.id)/items")
    }
  }

  func list(context: MuseRequestContext, model: String) throws -> Response {
    let key = try context.requireKey(.inference)
    _ = try service.model(model, for: key)
    let claims = Self.objects(try service.store.claims(model: model), service: service)
    return try jsonResponse(ClaimList(data: claims))
  }

  struct ClaimList: Encodable {
    let object = "list"
    let data: [ClaimObject]
  }

  func items(context: MuseRequestContext, model: String, claim id: String) throws -> Response {
    let key = try context.requireKey(.inference)
    _ = try service.model(model, for: key)
    guard let claim = try service.store.claim(id: id), claim.model == model else {
      throw OpenAIError(
        .notFound, "No claim '\(id)' for the model '\(model)'.", param: "claim", code: "claim_not_found")
    }
    return Response(
      status: .ok, headers: [.contentType: "application/jsonl"],
      body: ResponseBody(byteBuffer: ByteBuffer(string: claim.items)))
  }
}
