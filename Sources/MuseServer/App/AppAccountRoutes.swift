import Foundation
import Hummingbird
import MuseStore

/// `POST /app/api/login`, `POST /app/api/logout`, `GET /app/api/me`, `GET /app/api/usage`.
extension AppController {
  struct AppLoginRequest: Decodable {
    let username: String
    let password: String
  }

  func appLogin(_ request: Request, context: MuseRequestContext) async throws -> Response {
    let body = try await service.decode(AppLoginRequest.self, from: request)
    let now = Date()
    let address = context.clientAddress
    if let wait = await service.loginThrottle.retryAfter(account: body.username, address: address) {
      throw OpenAIError(
        .tooManyRequests, "Too many failed sign-ins. Try again in \(wait)s.", code: "too_many_attempts",
        retryAfter: wait)
    }
    try service.store.purgeSessions(expiredBefore: now)
    let found = try service.store.user(username: body.username)
    let hasher = service.app.passwordHasher
    let password = body.password
    // An unknown username costs as much as a real check, so timing does not say which exist.
    let verified = await service.loginThrottle.hashing {
      guard let hash = found?.passwordHash else {
        hasher.verifyNothing(password)
        return false
      }
      return hasher.verify(password, against: hash)
    }
    guard let verified else {
      throw OpenAIError(
        .tooManyRequests, "Too many sign-ins at once. Try again in a few seconds.", code: "too_many_attempts",
        retryAfter: 2)
    }
    guard verified, let user = found else {
      await service.loginThrottle.failed(account: body.username, address: address)
      service.logger.info(
        "app sign-in refused", metadata: ["reason": found == nil ? "unknown user" : "wrong password"])
      throw AppErrors.invalidCredentials
    }
    await service.loginThrottle.succeeded(account: body.username, address: address)
    guard !user.disabled else {
      throw OpenAIError(
        .forbidden, "This account is disabled. Ask an administrator to restore it.", code: "account_disabled")
    }
    let (token, session) = AppSession.start(userID: user.id, lifetime: service.app.sessionLifetime, now: now)
    try service.store.insert(session)
    service.logger.info("app sign-in", metadata: ["user": "\(user.username)"])
    struct Body: Encodable { let user: AppUserView }
    var response = try jsonResponse(Body(user: AppUserView(user)))
    response.setCookie(sessionCookie(token, maxAge: Int(service.app.sessionLifetime), for: request))
    return response
  }

  func appLogout(_ request: Request, context: MuseRequestContext) throws -> Response {
    if let token = request.cookies[Self.sessionCookie]?.value, !token.isEmpty {
      try service.store.deleteSession(tokenHash: AppSession.hashToken(token))
    }
    var response = Response(status: .noContent)
    response.setCookie(sessionCookie("", maxAge: 0, for: request))
    return response
  }

  // swiftlint:disable identifier_name
  struct AppModelView: Encodable {
    let id: String
    let display_name: String
    let description: String?
    let visibility: String
    let download_url: String?
    let context_length: Int
    let supports_reasoning: Bool
    let allowed: Bool

    func encode(to encoder: Encoder) throws {
      var c = encoder.container(keyedBy: CodingKeys.self)
      try c.encode(id, forKey: .id)
      try c.encode(display_name, forKey: .display_name)
      try c.encode(description, forKey: .description)
      try c.encode(visibility, forKey: .visibility)
      try c.encode(download_url, forKey: .download_url)
      try c.encode(context_length, forKey: .context_length)
      try c.encode(supports_reasoning, forKey: .supports_reasoning)
      try c.encode(allowed, forKey: .allowed)
    }

    enum CodingKeys: String, CodingKey {
      case id, display_name, description, visibility, download_url, context_length, supports_reasoning,
        allowed
    }
  }
  // swiftlint:enable identifier_name

  func appMe(_ request: Request, context: MuseRequestContext) throws -> Response {
    let caller = try context.requireAppCaller()
    let chatModels = service.modelOrder.compactMap { service.models[$0] }
    let views = chatModels.map { runner in
      let entry = runner.entry
      return AppModelView(
        id: entry.id, display_name: entry.displayName ?? entry.id, description: entry.description,
        visibility: entry.visibility.rawValue,
        download_url: entry.visibility == .open ? "/v1/models/\(entry.id)/weights" : nil,
        context_length: runner.model.contextLength,
        supports_reasoning: ReasoningTemplate(runner.model.chatTemplate?.source).supportsReasoning,
        allowed: caller.key.allows(model: entry.id))
    }
    struct Body: Encodable {
      let user: AppUserView
      let models: [AppModelView]
    }
    var response = try jsonResponse(Body(user: AppUserView(caller.user), models: views))
    // The page asks for this when it loads: renewing the cookie's lifetime here keeps the
    // browser's copy in step with the server's sliding expiry.
    if let token = request.cookies[Self.sessionCookie]?.value {
      response.setCookie(sessionCookie(token, maxAge: Int(service.app.sessionLifetime), for: request))
    }
    return response
  }

  func appUsage(_ request: Request, context: MuseRequestContext) throws -> Response {
    let caller = try context.requireAppCaller()
    let limits = caller.key.limits
    let now = Date()
    let monthStart = BudgetPeriod.month.start(of: now)
    let month = try service.store.totals(keyID: caller.key.id, since: monthStart, groupedBy: []).first
    // Remaining budget is counted over the key's own budget period (a day or a month).
    let budgetUsed =
      limits.budgetPeriod == .month
      ? month
      : try service.store.totals(
        keyID: caller.key.id, since: limits.budgetPeriod.start(of: now), groupedBy: []
      ).first
    // swiftlint:disable identifier_name
    struct Body: Encodable {
      let period = "month"
      let since: Int
      let prompt_tokens: Int
      let completion_tokens: Int
      let requests: Int
      let cost_usd: Double
      let limits: AppLimitsView
    }
    // swiftlint:enable identifier_name
    let totals = AppUsageTotalsView(month)
    return try jsonResponse(
      Body(
        since: Int(monthStart.timeIntervalSince1970), prompt_tokens: totals.prompt_tokens,
        completion_tokens: totals.completion_tokens, requests: totals.requests, cost_usd: totals.cost_usd,
        limits: AppLimitsView(limits, used: budgetUsed)))
  }
}
