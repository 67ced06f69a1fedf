import Foundation
import Hummingbird
import MuseStore

/// `POST /v1/embeddings`.
struct EmbeddingController: Sendable {
  let service: MuseService

  func register(on v1: RouterGroup<MuseRequestContext>) {
    v1.post("/embeddings") { request, context in try await self.embeddings(request, context: context) }
  }

  struct EmbeddingRequest: Decodable {
    let model: String
    let input: OneOrMany
    // swiftlint:disable:next identifier_name
    let encoding_format: String?
    let dimensions: Int?
    let user: String?
  }

  struct EmbeddingObject: Encodable {
    let object = "embedding"
    let index: Int
    let embedding: EmbeddingValue
  }

  /// Floats, or base64 of their little-endian float32 bytes (`encoding_format: "base64"`).
  enum EmbeddingValue: Encodable {
    case floats([Float])
    case base64(String)
    func encode(to encoder: Encoder) throws {
      var c = encoder.singleValueContainer()
      switch self {
      case .floats(let v): try c.encode(v)
      case .base64(let s): try c.encode(s)
      }
    }
  }

  func embeddings(_ request: Request, context: MuseRequestContext) async throws -> Response {
    let key = try context.requireKey(.inference)
    let body = try await service.decode(EmbeddingRequest.self, from: request)
    guard let runner = service.embedders[body.model] else {
      if service.models[body.model] != nil, key.allows(model: body.model) {
        throw OpenAIError.invalid(
          "The model '\(body.model)' does not produce embeddings.", param: "model", code: "invalid_model")
      }
      throw OpenAIError.modelNotFound(body.model)
    }
    guard key.allows(model: body.model) else {
      throw OpenAIError(
        .forbidden, "This key is not allowed to use the model '\(body.model)'.", param: "model",
        code: "model_not_allowed")
    }
    let texts = body.input.values
    guard !texts.isEmpty, texts.count <= 2048 else {
      throw OpenAIError.invalid("'input' must hold 1 to 2048 strings.", param: "input", code: "invalid_value")
    }
    let format = body.encoding_format ?? "float"
    guard format == "float" || format == "base64" else {
      throw OpenAIError.invalid(
        "'encoding_format' must be 'float' or 'base64'.", param: "encoding_format", code: "invalid_value")
    }
    if let d = body.dimensions, d != runner.model.dimensions {
      throw OpenAIError.invalid(
        "This model returns \(runner.model.dimensions) dimensions; it cannot shorten them.",
        param: "dimensions",
        code: "invalid_value")
    }
    let estimate = texts.reduce(0) { $0 + runner.model.tokens($1).count }
    let entry = runner.entry
    let reservation = try await service.admission.admit(
      key: key, tokens: estimate, microdollars: entry.cost(promptTokens: estimate, completionTokens: 0))
    let started = ContinuousClock.now
    let result: (vectors: [[Float]], tokens: Int)
    do {
      result = try await runner.embed(texts)
    } catch {
      await service.admission.settle(reservation, tokensUsed: 0)
      throw OpenAIError(.internalServerError, "The model failed: \(error)", type: "server_error")
    }
    await service.meterPromptOnly(
      key: key, model: entry.id, endpoint: "embeddings", tokens: result.tokens,
      cost: entry.cost(promptTokens: result.tokens, completionTokens: 0),
      elapsed: ContinuousClock.now - started,
      reservation: reservation)
    struct List: Encodable {
      let object = "list"
      let data: [EmbeddingObject]
      let model: String
      let usage: [String: Int]
    }
    let data = result.vectors.enumerated().map { i, v in
      EmbeddingObject(
        index: i,
        embedding: format == "float"
          ? .floats(v) : .base64(v.withUnsafeBytes { Data($0) }.base64EncodedString()))
    }
    return try jsonResponse(
      List(
        data: data, model: entry.id, usage: ["prompt_tokens": result.tokens, "total_tokens": result.tokens]))
  }
}
