import Foundation
import HTTPTypes
import Hummingbird
import MuseStore

/// Puts the caller's identity into the request context: `establish` reads it from the request
/// (a bearer key, an app session) or throws the 401/403 the client should see.
struct IdentityMiddleware: RouterMiddleware {
  typealias Context = MuseRequestContext
  let establish: @Sendable (Request, inout MuseRequestContext) throws -> Void

  func handle(
    _ request: Request, context: Context, next: (Request, Context) async throws -> Response
  ) async throws -> Response {
    var context = context
    try establish(request, &context)
    return try await next(request, context)
  }
}

/// Cross-site request forgery guard for the app's API: a browser sends a custom header only
/// from a script on the same origin (a cross-site form or image cannot), so every
/// state-changing request must carry `X-Muse-App: 1`.
struct AppCSRFMiddleware: RouterMiddleware {
  typealias Context = MuseRequestContext

  func handle(
    _ request: Request, context: Context, next: (Request, Context) async throws -> Response
  ) async throws -> Response {
    if request.method != .get && request.method != .head {
      guard request.headers[AppController.appHeader] == "1" else {
        throw OpenAIError(
          .forbidden, "This request must come from the Muse app (the X-Muse-App: 1 header is missing).",
          code: "csrf_check_failed")
      }
    }
    return try await next(request, context)
  }
}

/// Who is calling the app API: the signed-in user and the API key their requests are billed to.
struct AppCaller {
  let user: User
  let key: APIKey
  let tokenHash: String
}

/// The chat app's JSON API under `/app/api`: its handlers and what they share (the signed-in
/// caller, conversations, the session cookie), over the service's store, models and metering.
struct AppController: Sendable {
  let service: MuseService
}

extension AppController {
  static let sessionCookie = "muse_session"
  static let appHeader = HTTPField.Name("X-Muse-App")!

  /// The signed-in caller. Each request slides the session's expiry forward; an expired
  /// session is deleted and answered 401 `session_expired`.
  func appCaller(_ request: Request, now: Date = Date()) throws -> AppCaller {
    guard let token = request.cookies[Self.sessionCookie]?.value, !token.isEmpty else {
      throw OpenAIError(.unauthorized, "You are not signed in.", code: "not_signed_in")
    }
    let hash = AppSession.hashToken(token)
    guard let session = try service.store.session(tokenHash: hash) else { throw AppErrors.sessionExpired }
    guard session.expiresAt > now else {
      try service.store.deleteSession(tokenHash: hash)
      throw AppErrors.sessionExpired
    }
    guard let user = try service.store.user(id: session.userID), !user.disabled else {
      try service.store.deleteSession(tokenHash: hash)
      throw AppErrors.sessionExpired
    }
    // One write a minute at most: the expiry moves by days, so finer steps buy nothing.
    if now.timeIntervalSince(session.lastSeenAt) > 60 {
      try service.store.touch(
        tokenHash: hash, lastSeenAt: now, expiresAt: now.addingTimeInterval(service.app.sessionLifetime))
    }
    guard let key = try service.store.key(id: user.keyID), key.isActive(at: now) else {
      throw OpenAIError(
        .forbidden, "Your account's API key has been revoked. Ask an administrator to restore access.",
        type: "invalid_request_error", code: "key_revoked")
    }
    return AppCaller(user: user, key: key, tokenHash: hash)
  }

  /// The session cookie: HttpOnly (no script reads it), SameSite=Strict (no cross-site request
  /// carries it), Secure when the page came over TLS (directly or through a proxy that says so).
  func sessionCookie(_ value: String, maxAge: Int, for request: Request) -> Cookie {
    let overTLS =
      request.head.scheme == "https" || request.headers[HTTPField.Name("X-Forwarded-Proto")!] == "https"
    return Cookie(
      name: Self.sessionCookie, value: value, maxAge: maxAge, path: "/", secure: overTLS, httpOnly: true,
      sameSite: .strict)
  }
}

enum AppErrors {
  static let sessionExpired = OpenAIError(
    .unauthorized, "Your session has expired. Please sign in again.", code: "session_expired")
  static let invalidCredentials = OpenAIError(
    .unauthorized, "Wrong username or password.", code: "invalid_credentials")
  static let conversationNotFound = OpenAIError(
    .notFound, "No such conversation.", code: "conversation_not_found")
  static let adminRequired = OpenAIError(
    .forbidden, "Only administrators can see this.", code: "admin_required")

  static func modelNotAllowed(_ id: String) -> OpenAIError {
    OpenAIError(
      .forbidden, "Your account does not have access to the model '\(id)'.", param: "model",
      code: "model_not_allowed")
  }
}
