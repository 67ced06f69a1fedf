import Foundation
import Hummingbird
import MuseStore

/// `POST /v1/moderations` in OpenAI's format, answered by the built-in classifier (a head on
/// all-MiniLM-L6-v2's embeddings, `ModerationClassifier`), and `GET /v1/admin/guard/events`,
/// the guardrails' audit log.
struct GuardController: Sendable {
  let service: MuseService
  /// The built-in classifier's id; OpenAI's model names are accepted for it, so clients that
  /// send them work unchanged.
  static let modelID = "muse-moderation"
  static let aliases: Set = [
    modelID, "text-moderation-latest", "text-moderation-stable", "omni-moderation-latest",
  ]

  /// The most tokens one moderation request may send (all its texts together).
  static let maxTokens = 8192

  func register(on v1: RouterGroup<MuseRequestContext>) {
    v1.post("/moderations") { request, context in try await self.moderate(request, context: context) }
    v1.get("/admin/guard/events") { request, context in try self.events(request, context: context) }
  }

  /// `input`: a string, a list of strings, or a list of `{"type": "text", "text": …}` parts.
  struct ModerationRequest: Decodable {
    let input: [String]
    let model: String?

    enum CodingKeys: String, CodingKey { case input, model }

    init(from decoder: Decoder) throws {
      let c = try decoder.container(keyedBy: CodingKeys.self)
      model = try c.decodeIfPresent(String.self, forKey: .model)
      if let one = try? c.decode(String.self, forKey: .input) {
        input = [one]
      } else if let many = try? c.decode([String].self, forKey: .input) {
        input = many
      } else {
        struct Part: Decodable {
          let type: String
          let text: String?
        }
        let parts = try c.decode([Part].self, forKey: .input)
        input = try parts.enumerated().map { i, part in
          guard part.type == "text", let text = part.text else {
            throw DecodingError.dataCorruptedError(
              forKey: .input, in: c,
              debugDescription: "input[\(i)] is a '\(part.type)' part; this moderation model reads text only")
          }
          return text
        }
      }
    }
  }

  struct ModerationResult: Encodable {
    let flagged: Bool
    let categories: [String: Bool]
    let category_scores: [String: Double]  // swiftlint:disable:this identifier_name
  }

  struct ModerationResponse: Encodable {
    let id: String
    let model: String
    let results: [ModerationResult]
  }

  func moderate(_ request: Request, context: MuseRequestContext) async throws -> Response {
    let key = try context.requireKey(.inference)
    let body = try await service.decode(ModerationRequest.self, from: request)
    if let model = body.model, !Self.aliases.contains(model) { throw OpenAIError.modelNotFound(model) }
    guard let classifier = service.guardrails.moderation else {
      throw OpenAIError(
        .notFound,
        "The model '\(Self.modelID)' is not served here: the operator has not loaded its encoder (all-MiniLM-L6-v2).",
        param: "model", code: "model_not_found")
    }
    guard (1...2048).contains(body.input.count) else {
      throw OpenAIError.invalid("'input' must hold 1 to 2048 texts.", param: "input", code: "invalid_value")
    }
    let estimate = body.input.reduce(0) { $0 + classifier.tokenCount($1) }
    guard estimate <= Self.maxTokens else {
      throw OpenAIError.invalid(
        "'input' is \(estimate) tokens; this model takes at most \(Self.maxTokens) per request.",
        param: "input",
        code: "invalid_value")
    }
    let reservation = try await service.admission.admit(key: key, tokens: estimate, microdollars: 0)
    let started = ContinuousClock.now
    let scored: [ModerationScores]
    do {
      scored = try await classifier.classifyOffLoop(body.input)
    } catch {
      await service.admission.settle(reservation, tokensUsed: 0)
      service.metrics.request(model: Self.modelID, endpoint: "moderations", status: 500)
      throw OpenAIError(.internalServerError, "The moderation model failed: \(error)", type: "server_error")
    }
    let tokens = scored.reduce(0) { $0 + $1.tokens }
    await service.meterPromptOnly(
      key: key, model: Self.modelID, endpoint: "moderations", tokens: tokens, cost: 0,
      elapsed: ContinuousClock.now - started, reservation: reservation)
    let results = scored.map { s in
      ModerationResult(flagged: s.anyFlagged, categories: s.flagged, category_scores: s.scores)
    }
    return try jsonResponse(
      ModerationResponse(
        id: "modr-" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased(),
        model: Self.modelID,
        results: results))
  }

  /// The audit log, newest first: `?request_id=`, `key_id`, `model`, `rail`, `actions=true`
  /// (decisions other than pass), `limit` (1–1000, default 100).
  func events(_ request: Request, context: MuseRequestContext) throws -> Response {
    _ = try context.requireKey(.admin)
    let q = request.uri.queryParameters
    var query = GuardEventQuery()
    query.requestID = q["request_id"].map(String.init)
    query.keyID = q["key_id"].map(String.init)
    query.model = q["model"].map(String.init)
    query.rail = q["rail"].map(String.init)
    if let actions = q["actions"] {
      guard let value = Bool(String(actions)) else {
        throw OpenAIError.invalid("'actions' must be true or false.", param: "actions", code: "invalid_value")
      }
      query.onlyActions = value
    }
    if let limit = q["limit"] {
      guard let n = Int(String(limit)), (1...1000).contains(n) else {
        throw OpenAIError.invalid(
          "'limit' must be an integer from 1 to 1000.", param: "limit", code: "invalid_value")
      }
      query.limit = n
    }
    struct List: Encodable {
      let object = "list"
      let data: [GuardEvent]
    }
    return try jsonResponse(List(data: try service.store.guardEvents(query)))
  }
}
