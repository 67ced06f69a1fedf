import Foundation
import HTTPTypes
import Hummingbird
import MuseStore

/// `GET /.well-known/muse-keys` (the deployment's public keys, for anyone) and
/// `GET /v1/receipts/{id}` (a reply's signed receipts with the token ids a verifier needs, for
/// the key that made the request or an admin key).
struct ReceiptController: Sendable {
  let service: MuseService

  /// The well-known route, open to all, and the receipts route behind the bearer key.
  func register(on router: Router<MuseRequestContext>, v1: RouterGroup<MuseRequestContext>) {
    router.get("/.well-known/muse-keys") { _, _ in try self.publicKeys() }
    v1.get("/receipts/:id") { _, context in try self.receipts(context: context) }
  }

  func publicKeys() throws -> Response {
    guard let identity = service.receipts?.identity else {
      throw OpenAIError(.notFound, "This server does not sign receipts.", code: "receipts_disabled")
    }
    return try jsonResponse(ServerIdentity.KeySet(keys: identity.publishedKeys()))
  }

  struct Entry: Encodable {
    let object = "receipt"
    let id: String
    let choice_index: Int  // swiftlint:disable:this identifier_name
    let receipt: Receipt
    let prompt_token_ids: [Int]  // swiftlint:disable:this identifier_name
    let completion_token_ids: [Int]  // swiftlint:disable:this identifier_name
    /// The activation commitment's bytes, base64, when the engine made one.
    let activations: String?

    func encode(to encoder: Encoder) throws {
      var c = encoder.container(keyedBy: CodingKeys.self)
      try c.encode(object, forKey: .object)
      try c.encode(id, forKey: .id)
      try c.encode(choice_index, forKey: .choice_index)
      try c.encode(receipt, forKey: .receipt)
      try c.encode(prompt_token_ids, forKey: .prompt_token_ids)
      try c.encode(completion_token_ids, forKey: .completion_token_ids)
      try c.encode(activations, forKey: .activations)
    }
    enum CodingKeys: String, CodingKey {
      case object, id, choice_index, receipt, prompt_token_ids, completion_token_ids, activations
    }
  }

  struct List: Encodable {
    let object = "list"
    let data: [Entry]
  }

  func receipts(context: MuseRequestContext) throws -> Response {
    guard let key = context.key else { throw OpenAIError.missingKey }
    let id = context.parameters.get("id") ?? ""
    let notFound = OpenAIError(
      .notFound, "No receipt found with id '\(id)'.", param: "id", code: "receipt_not_found")
    // Someone else's receipt is as absent as one that does not exist.
    let stored = try service.store.receipts(responseID: id).filter {
      $0.keyID == key.id || key.scopes.contains(.admin)
    }
    guard !stored.isEmpty else { throw notFound }
    let entries = try stored.map { row -> Entry in
      guard let receipt = try? JSONDecoder().decode(Receipt.self, from: Data(row.receipt.utf8)),
        let prompt = try? JSONDecoder().decode([Int].self, from: Data(row.promptTokenIDs.utf8)),
        let completion = try? JSONDecoder().decode([Int].self, from: Data(row.completionTokenIDs.utf8))
      else {
        service.logger.error("receipt \(id) choice \(row.choiceIndex) cannot be read back from the store")
        throw OpenAIError(
          .internalServerError, "The receipt '\(id)' could not be read.", type: "server_error",
          code: "receipt_unreadable")
      }
      return Entry(
        id: row.responseID, choice_index: row.choiceIndex, receipt: receipt, prompt_token_ids: prompt,
        completion_token_ids: completion, activations: row.activations?.base64EncodedString())
    }
    return try jsonResponse(List(data: entries))
  }
}

extension HTTPField.Name {
  /// The compact receipt of a non-streamed reply (`Receipt.compact`).
  static let museReceipt = HTTPField.Name(Receipt.header)!
}
