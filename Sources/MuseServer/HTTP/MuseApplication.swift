import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore

/// How the HTTP server listens.
public struct HTTPSettings: Sendable {
  public var host: String
  public var port: Int
  /// A request's headers must arrive within this long of the connection opening or of the
  /// previous response ending; slower connections (slow-header attacks, idle keep-alives) close.
  public var headerTimeout: Duration

  public init(host: String = "127.0.0.1", port: Int = 8080, headerTimeout: Duration = .seconds(30)) {
    self.host = host
    self.port = port
    self.headerTimeout = headerTimeout
  }
}

/// The one place an `Application` is assembled: `muse serve`, `muse bench serve` and every test.
public func buildApplication(
  service: MuseService, http: HTTPSettings = HTTPSettings(),
  onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
) -> Application<RouterResponder<MuseRequestContext>> {
  let timeout = TimeAmount.nanoseconds(
    http.headerTimeout.components.seconds * 1_000_000_000 + http.headerTimeout.components.attoseconds
      / 1_000_000_000)
  return Application(
    router: buildRouter(service),
    server: .http1(
      configuration: .init(additionalChannelHandlers: [ConnectionWatcher(headerTimeout: timeout)])),
    configuration: .init(address: .hostname(http.host, port: http.port), serverName: "muse"),
    onServerRunning: onServerRunning, logger: service.logger)
}

/// Every route, each concern registering its own: health and metrics, the OpenAI-compatible
/// API under `/v1` behind the bearer key, and the chat app.
func buildRouter(_ service: MuseService) -> Router<MuseRequestContext> {
  let router = Router(context: MuseRequestContext.self)
  router.middlewares.add(ErrorMiddleware(metrics: service.metrics))
  registerServiceRoutes(on: router, service: service)
  let store = service.store
  let v1 = router.group("/v1").add(
    middleware: IdentityMiddleware { request, context in
      context.key = try MuseRequestContext.bearerKey(request, store: store)
    })
  ModelController(service: service).register(on: v1)
  ClaimController(service: service).register(on: v1)
  InferenceController(service: service).register(on: v1)
  EmbeddingController(service: service).register(on: v1)
  GuardController(service: service).register(on: v1)
  AccountController(service: service).register(on: v1)
  ReceiptController(service: service).register(on: router, v1: v1)
  // vLLM's and llama-server's tokenizer routes sit at the root, behind the same key check.
  let keyed = router.group().add(
    middleware: IdentityMiddleware { request, context in
      context.key = try MuseRequestContext.bearerKey(request, store: store)
    })
  TokenizeController(service: service).register(on: keyed)
  AppRoutes.register(on: router, service: service)
  return router
}

/// `/health`, `/ready`, `/metrics`, `/openapi.json`: no key needed.
private func registerServiceRoutes(on router: Router<MuseRequestContext>, service: MuseService) {
  router.get("/health") { _, _ in try jsonResponse(["status": "ok"]) }
  router.head("/health") { _, _ in Response(status: .ok) }
  router.get("/ready") { _, _ in
    try jsonResponse(
      ["status": service.models.isEmpty ? "no models" : "ready"],
      status: service.models.isEmpty ? .serviceUnavailable : .ok)
  }
  router.get("/metrics") { _, _ in
    // Gauges are read from the schedulers now, so they follow a client that left at once.
    for runner in service.models.values {
      service.metrics.queue(model: runner.entry.id, depth: runner.queueDepth, active: runner.activeSequences)
      service.metrics.kvCache(model: runner.entry.id, statistics: runner.scheduler.pool.statistics)
    }
    return Response(
      status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
      body: .init(byteBuffer: ByteBuffer(string: service.metrics.render())))
  }
  let document = OpenAPIDocument.json(
    chatModels: service.modelOrder.filter { service.models[$0] != nil },
    embeddingModels: service.modelOrder.filter { service.embedders[$0] != nil },
    embeddingDimensions: Array(Set(service.embedders.values.map(\.model.dimensions))).sorted(),
    vocabularySize: service.models.values.map(\.model.config.vocabularySize).min())
  router.get("/openapi.json") { _, _ in
    Response(
      status: .ok, headers: [.contentType: "application/json"],
      body: .init(byteBuffer: ByteBuffer(string: document)))
  }
}

/// Maps every error to OpenAI's shape (domain errors through `OpenAIError(mapping:)`), counts
/// them by code, and answers a known path asked with a method it does not take with 405 and
/// `Allow` (the methods `/openapi.json` lists for it).
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
  let metrics: ServerMetrics

  func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
    async throws -> Response
  {
    do {
      return try await next(request, context)
    } catch {
      guard let mapped = Self.map(error, request: request) else { throw error }
      metrics.error(code: mapped.code ?? mapped.type)
      throw mapped
    }
  }

  static func map(_ error: Error, request: Request) -> OpenAIError? {
    if let mapped = OpenAIError(mapping: error) { return mapped }
    guard let error = error as? HTTPError else { return nil }
    if error.status == .notFound {
      let allowed = OpenAPIDocument.methods(forPath: request.uri.path)
      if !allowed.isEmpty {
        var refusal = OpenAIError(
          .methodNotAllowed,
          "\(request.method) is not allowed on \(request.uri.path). Allowed: "
            + allowed.joined(separator: ", ") + ".", code: "method_not_allowed")
        refusal.allow = allowed.joined(separator: ", ")
        return refusal
      }
      return OpenAIError(
        .notFound, "Unknown request URL: \(request.method) \(request.uri.path).", code: "unknown_url")
    }
    return OpenAIError(error.status, error.body ?? error.status.reasonPhrase)
  }
}
