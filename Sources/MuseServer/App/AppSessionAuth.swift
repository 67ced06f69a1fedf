import Foundation
import HTTPTypes
import Hummingbird
import MuseStore

/// Signs in the caller of every `/app/api` route but login and logout from the session cookie,
/// and puts them into the context (`requireAppCaller`).
struct AppSessionMiddleware: RouterMiddleware {
  typealias Context = MuseRequestContext
  let service: MuseService

  func handle(
    _ request: Request, context: Context, next: (Request, Context) async throws -> Response
  ) async throws -> Response {
    var context = context
    context.appCaller = try service.appCaller(request)
    return try await next(request, context)
  }
}

/// Who is calling the app API: the signed-in user and the API key their requests are billed to.
struct AppCaller {
  let user: User
  let key: APIKey
  let tokenHash: String
}

extension MuseService {
  static let sessionCookie = "muse_session"
  static let appHeader = HTTPField.Name("X-Muse-App")!

  /// Cross-site request forgery guard: a browser sends a custom header only from a script on
  /// the same origin (a cross-site form or image cannot), so every state-changing app request
  /// must carry it.
  func requireAppHeader(_ request: Request) throws {
    guard request.headers[Self.appHeader] == "1" else {
      throw OpenAIError(
        .forbidden, "This request must come from the Muse app (the X-Muse-App: 1 header is missing).",
        code: "csrf_check_failed")
    }
  }

  /// The signed-in caller. Each request slides the session's expiry forward; an expired
  /// session is deleted and answered 401 `session_expired`.
  func appCaller(_ request: Request, now: Date = Date()) throws -> AppCaller {
    guard let token = request.cookies[Self.sessionCookie]?.value, !token.isEmpty else {
      throw OpenAIError(.unauthorized, "You are not signed in.", code: "not_signed_in")
    }
    let hash = AppSession.hashToken(token)
    guard let session = try store.session(tokenHash: hash) else { throw AppErrors.sessionExpired }
    guard session.expiresAt > now else {
      try store.deleteSession(tokenHash: hash)
      throw AppErrors.sessionExpired
    }
    guard let user = try store.user(id: session.userID), !user.disabled else {
      try store.deleteSession(tokenHash: hash)
      throw AppErrors.sessionExpired
    }
    // One write a minute at most: the expiry moves by days, so finer steps buy nothing.
    if now.timeIntervalSince(session.lastSeenAt) > 60 {
      try store.touch(
        tokenHash: hash, lastSeenAt: now, expiresAt: now.addingTimeInterval(app.sessionLifetime))
    }
    guard let key = try store.key(id: user.keyID), key.isActive(at: now) else {
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
