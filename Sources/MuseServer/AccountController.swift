import Foundation
import Hummingbird
import MuseStore

/// `GET /v1/usage` (a key's own usage) and the admin API under `/v1/admin`.
struct AccountController: Sendable {
  let service: MuseService

  func register(on v1: RouterGroup<MuseRequestContext>) {
    v1.get("/usage") { request, context in try self.ownUsage(request, context: context) }
    v1.get("/admin/keys") { request, context in try self.adminListKeys(request, context: context) }
    v1.post("/admin/keys") { request, context in try await self.adminCreateKey(request, context: context) }
    v1.delete("/admin/keys/{id}") { request, context in
      try self.adminRevokeKey(request, context: context, id: try context.parameters.require("id"))
    }
    v1.get("/admin/usage") { request, context in try self.adminUsage(request, context: context) }
  }

  // swiftlint:disable identifier_name
  struct KeyView: Encodable {
    let id: String
    let name: String
    let prefix: String
    let scopes: [KeyScope]
    let models: [String]
    let limits: KeyLimits
    let created_at: Date
    let expires_at: Date?
    let revoked_at: Date?
    init(_ k: APIKey) {
      id = k.id
      name = k.name
      prefix = k.prefix
      scopes = k.scopes
      models = k.models
      limits = k.limits
      created_at = k.createdAt
      expires_at = k.expiresAt
      revoked_at = k.revokedAt
    }
  }

  struct CreateKeyRequest: Decodable {
    let name: String
    let scopes: [KeyScope]?
    let models: [String]?
    let limits: KeyLimits?
    let expires_in_days: JSONNumber?
  }
  // swiftlint:enable identifier_name

  private static func since(_ request: Request) throws -> Date? {
    guard let days = request.uri.queryParameters.get("days") else { return nil }
    guard let n = Int(days), (1...36_500).contains(n) else {
      throw OpenAIError.invalid(
        "Invalid value for 'days': it must be a whole number from 1 to 36500.", param: "days",
        code: "invalid_value")
    }
    return Date().addingTimeInterval(-Double(n) * 86_400)
  }

  func ownUsage(_ request: Request, context: MuseRequestContext) throws -> Response {
    let key = try context.requireKey(.inference)
    struct Own: Encodable {
      let object = "usage"
      let key: KeyView
      let totals: [UsageTotal]
      let period: UsageTotal?
      let recent: [UsageRecord]
    }
    let periodStart = key.limits.budgetPeriod.start(of: Date())
    return try jsonResponse(
      Own(
        key: KeyView(key),
        totals: try service.store.totals(
          keyID: key.id, since: try Self.since(request), groupedBy: [.model, .day]),
        period: try service.store.totals(keyID: key.id, since: periodStart, groupedBy: []).first,
        recent: try service.store.usage(keyID: key.id, since: nil, limit: 50)))
  }

  func adminUsage(_ request: Request, context: MuseRequestContext) throws -> Response {
    _ = try context.requireKey(.admin)
    return try jsonResponse(
      [
        "data": try service.store.totals(
          keyID: nil, since: try Self.since(request), groupedBy: [.key, .model, .day])
      ])
  }

  func adminListKeys(_ request: Request, context: MuseRequestContext) throws -> Response {
    _ = try context.requireKey(.admin)
    return try jsonResponse(["data": try service.store.keys().map(KeyView.init)])
  }

  func adminCreateKey(_ request: Request, context: MuseRequestContext) async throws -> Response {
    _ = try context.requireKey(.admin)
    let body = try await service.decode(CreateKeyRequest.self, from: request)
    for m in body.models ?? [] where service.models[m] == nil && service.embedders[m] == nil {
      throw OpenAIError.modelNotFound(m)
    }
    let limits = body.limits ?? KeyLimits()
    try limits.validate(
      fields: (
        "limits.requests_per_minute", "limits.tokens_per_minute", "limits.budget_tokens",
        "limits.budget_microdollars"
      ))
    guard !body.name.isEmpty, body.name.count <= 200 else {
      throw OpenAIError.invalid("Invalid value for 'name': it must be 1 to 200 characters.", param: "name")
    }
    let (secret, key) = APIKey.generate(
      name: body.name, scopes: body.scopes ?? [.inference], models: body.models ?? [], limits: limits,
      expiresAt: try RequestChecks.integer(body.expires_in_days, "expires_in_days", 1...APIKey.maxExpiryDays)
        .map {
          try APIKey.expiry(days: $0, field: "expires_in_days")
        })
    try service.store.insert(key)
    service.logger.info("created key \(key.prefix)… (\(key.id))")
    struct Created: Encodable {
      let key: String
      let record: KeyView
    }
    return try jsonResponse(Created(key: secret, record: KeyView(key)), status: .created)
  }

  func adminRevokeKey(_ request: Request, context: MuseRequestContext, id: String) throws -> Response {
    _ = try context.requireKey(.admin)
    guard try service.store.revoke(id: id, at: Date()) else {
      throw OpenAIError(.notFound, "No key with id '\(id)'.", param: "id", code: "key_not_found")
    }
    guard let key = try service.store.key(id: id) else {
      throw OpenAIError(.notFound, "No key with id '\(id)'.", param: "id", code: "key_not_found")
    }
    return try jsonResponse(KeyView(key))
  }
}
