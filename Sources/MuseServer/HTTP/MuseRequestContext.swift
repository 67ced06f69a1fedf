import Foundation
import Hummingbird
import MuseStore
import NIOCore

/// The request context every route sees: Hummingbird's core, the connection (for the client's
/// address and to notice it going away), and the caller's identity once a middleware has
/// established it: the API key of a bearer token, or the signed-in app user and their key.
public struct MuseRequestContext: RequestContext {
  public var coreContext: CoreRequestContextStorage
  let channel: (any Channel)?
  /// Set for `/v1` routes by their `IdentityMiddleware` (`bearerKey`).
  public var key: APIKey?
  /// Set for signed-in `/app/api` routes by their `IdentityMiddleware` (`appCaller`).
  var appCaller: AppCaller?

  public init(source: ApplicationRequestContextSource) {
    coreContext = .init(source: source)
    channel = source.channel
  }

  /// The client's address (for per-address login throttling); "local" when unknown.
  var clientAddress: String { channel?.remoteAddress?.ipAddress ?? "local" }

  /// The key that authenticated this request, which must hold `scope`.
  func requireKey(_ scope: KeyScope) throws -> APIKey {
    guard let key else { throw OpenAIError.missingKey }
    guard key.scopes.contains(scope) || key.scopes.contains(.admin) && scope != .weights else {
      throw OpenAIError(
        .forbidden, "This key does not have the '\(scope.rawValue)' scope.", type: "invalid_request_error",
        code: "insufficient_permissions")
    }
    return key
  }

  /// The signed-in app user.
  func requireAppCaller() throws -> AppCaller {
    guard let appCaller else {
      throw OpenAIError(.unauthorized, "You are not signed in.", code: "not_signed_in")
    }
    return appCaller
  }

  /// Calls `onGone` once if the client closes its connection; returns a handle to stop
  /// watching. Nothing happens for a request with no real connection (tests on the router).
  func watchClient(_ onGone: @escaping @Sendable () -> Void) async -> ClientWatch? {
    guard let channel, let watcher = try? await channel.pipeline.handler(type: ConnectionWatcher.self).get()
    else { return nil }
    return watcher.watch(onGone)
  }
}

extension MuseRequestContext {
  /// The key of `Authorization: Bearer muse-…`, which must be active (401 otherwise); each
  /// route behind it then asks for the scope it needs (`requireKey`).
  static func bearerKey(_ request: Request, store: Store) throws -> APIKey {
    guard let header = request.headers[.authorization] else { throw OpenAIError.missingKey }
    let parts = header.split(separator: " ", maxSplits: 1)
    guard parts.count == 2, parts[0].lowercased() == "bearer" else { throw OpenAIError.missingKey }
    let secret = parts[1].trimmingCharacters(in: .whitespaces)
    guard let key = try store.key(hash: APIKey.hashSecret(secret)), key.isActive() else {
      throw OpenAIError.invalidKey
    }
    return key
  }
}
