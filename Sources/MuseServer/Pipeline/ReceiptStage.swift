import Foundation
import MuseEngine
import MuseStore

/// The receipt stage of `MeteredGeneration`: when a generation completes, before `.finished`
/// reaches the route, it states what was asked, which weights answered and what came back,
/// signs that with the deployment's key (`ServerIdentity`) and stores it with the token ids, so
/// the route can put the receipt in its reply and `GET /v1/receipts/{id}` can give it later.
/// docs/RECEIPTS.md defines every field.
public final class ReceiptStage: Sendable {
  public let identity: ServerIdentity
  /// What `engine` says in every receipt.
  public static let engine = "muse " + MuseVersion.current

  public init(identity: ServerIdentity) { self.identity = identity }

  /// The signed receipt of a completed generation, stored; nil (logged) when it cannot be
  /// signed or stored, which does not fail the reply.
  func issue(
    _ job: GenerationJob, result: GenerationResult, delivered: String, created: Date, service: MuseService
  ) -> Receipt? {
    let clock = ContinuousClock.now
    defer { service.metrics.receipt(seconds: (ContinuousClock.now - clock).seconds) }
    do {
      let receipt = try Receipt.sign(
        Self.payload(job, result: result, delivered: delivered, created: created), by: identity)
      try service.store.record(
        StoredReceipt(
          responseID: receipt.string("response_id") ?? job.requestID, choiceIndex: job.choiceIndex,
          requestID: job.requestID, keyID: job.key.id,
          receipt: String(decoding: try JSONEncoder().encode(receipt), as: UTF8.self),
          promptTokenIDs: String(decoding: CanonicalJSON.bytes(ofTokens: job.prompt), as: UTF8.self),
          completionTokenIDs: String(decoding: CanonicalJSON.bytes(ofTokens: result.tokens), as: UTF8.self),
          activations: result.activations.map { Data($0.encoded) }, createdAt: created))
      return receipt
    } catch {
      service.logger.error("could not issue a receipt for request \(job.requestID): \(error)")
      return nil
    }
  }

  /// The fields the signature covers.
  static func payload(_ job: GenerationJob, result: GenerationResult, delivered: String, created: Date)
    -> [String: ReceiptValue]
  {
    var reason = finishReason(result)
    var fields: [String: ReceiptValue] = [
      "version": .int(Receipt.version),
      "response_id": .string(job.responseID ?? job.requestID),
      "choice_index": .int(job.choiceIndex),
      "request_id": .string(job.requestID),
      "endpoint": .string(job.endpoint),
      "model": .string(job.runner.entry.id),
      "weights_sha256": .string(job.runner.weightsDigest),
      "request_sha256": .string(
        job.requestBody.flatMap(CanonicalJSON.bytes(ofDocument:)).map(CanonicalJSON.sha256)
          ?? CanonicalJSON.sha256(Data())),
      "prompt_tokens_sha256": .string(CanonicalJSON.sha256(CanonicalJSON.bytes(ofTokens: job.prompt))),
      "completion_tokens_sha256": .string(CanonicalJSON.sha256(CanonicalJSON.bytes(ofTokens: result.tokens))),
      "prompt_tokens": .int(result.promptTokens),
      "completion_tokens": .int(result.tokens.count),
      "engine": .string(engine),
      "created": .int(Int(created.timeIntervalSince1970)),
    ]
    if let root = job.runner.weightsRoot { fields["weights_root"] = .string(root) }
    if let activations = result.activations {
      fields["activations_sha256"] = .string(CanonicalJSON.sha256(Data(activations.encoded)))
    }
    if var reader = job.replyReader {
      // A chat reply as the client holds it: content, reasoning and calls read apart by the
      // same reader the route uses (the parse of a stream is the fold of its pieces).
      _ = reader.read(delivered)
      _ = reader.finish()
      let reply = reader.reply
      fields["content_sha256"] = .string(CanonicalJSON.sha256(reply.content))
      fields["reasoning_sha256"] = .string(CanonicalJSON.sha256(reply.reasoning))
      let calls = reply.toolCalls.map { call in
        String(
          decoding: CanonicalJSON.bytes(ofFields: [
            "name": .string(call.name), "arguments": .string(call.arguments),
          ]),
          as: UTF8.self)
      }
      let list = "[" + calls.joined(separator: ",") + "]"
      fields["tool_calls_sha256"] = .string(CanonicalJSON.sha256(list))
      if reason == "stop" && !reply.toolCalls.isEmpty { reason = "tool_calls" }
    } else {
      fields["content_sha256"] = .string(CanonicalJSON.sha256(delivered))
    }
    fields["finish_reason"] = .string(reason)
    return fields
  }
}
