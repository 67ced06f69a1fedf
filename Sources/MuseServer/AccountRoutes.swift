import Foundation
import Hummingbird
import MuseStore

/// `GET /v1/usage` (a key's own usage) and the admin API under `/v1/admin`.
extension MuseService {
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
    let expires_in_days: Int?
  }
  // swiftlint:enable identifier_name

  private static func since(_ request: Request) throws -> Date? {
    guard let days = request.uri.queryParameters.get("days") else { return nil }
    guard let n = Int(days), n > 0 else {
      throw OpenAIError.invalid(
        "'days' must be a positive whole number.", param: "days", code: "invalid_value")
    }
    return Date().addingTimeInterval(-Double(n) * 86_400)
  }

  func ownUsage(_ request: Request) throws -> Response {
    let key = try authenticate(request, scope: .inference)
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
        totals: try store.totals(keyID: key.id, since: try Self.since(request), groupedBy: [.model, .day]),
        period: try store.totals(keyID: key.id, since: periodStart, groupedBy: []).first,
        recent: try store.usage(keyID: key.id, since: nil, limit: 50)))
  }

  func adminUsage(_ request: Request) throws -> Response {
    _ = try authenticate(request, scope: .admin)
    return try jsonResponse(
      ["data": try store.totals(keyID: nil, since: try Self.since(request), groupedBy: [.key, .model, .day])])
  }

  func adminListKeys(_ request: Request) throws -> Response {
    _ = try authenticate(request, scope: .admin)
    return try jsonResponse(["data": try store.keys().map(KeyView.init)])
  }

  func adminCreateKey(_ request: Request) async throws -> Response {
    _ = try authenticate(request, scope: .admin)
    let body = try await decode(CreateKeyRequest.self, from: request)
    for m in body.models ?? [] where models[m] == nil { throw OpenAIError.modelNotFound(m) }
    let (secret, key) = APIKey.generate(
      name: body.name, scopes: body.scopes ?? [.inference], models: body.models ?? [],
      limits: body.limits ?? KeyLimits(),
      expiresAt: body.expires_in_days.map { Date().addingTimeInterval(Double($0) * 86_400) })
    try store.insert(key)
    logger.info("created key \(key.prefix)… (\(key.id))")
    struct Created: Encodable {
      let key: String
      let record: KeyView
    }
    return try jsonResponse(Created(key: secret, record: KeyView(key)), status: .created)
  }

  func adminRevokeKey(_ request: Request, id: String) throws -> Response {
    _ = try authenticate(request, scope: .admin)
    guard try store.revoke(id: id, at: Date()) else {
      throw OpenAIError(.notFound, "No key with id '\(id)'.", param: "id", code: "key_not_found")
    }
    return try jsonResponse(KeyView(try store.key(id: id)!))
  }
}
