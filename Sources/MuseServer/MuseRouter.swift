import Foundation
import Hummingbird

/// Maps every route to the service. Handlers are thin: authenticate, decode, call, encode.
public enum MuseRouter {
  public static func make(_ service: MuseService) -> Router<BasicRequestContext> {
    let router = Router()
    router.middlewares.add(ErrorMetricsMiddleware(metrics: service.metrics))
    router.get("/health") { _, _ in try jsonResponse(["status": "ok"]) }
    router.head("/health") { _, _ in Response(status: .ok) }
    router.get("/ready") { _, _ in
      try jsonResponse(
        ["status": service.models.isEmpty ? "no models" : "ready"],
        status: service.models.isEmpty ? .serviceUnavailable : .ok)
    }
    router.get("/metrics") { _, _ in
      Response(
        status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
        body: .init(byteBuffer: ByteBuffer(string: service.metrics.render())))
    }
    router.get("/openapi.json") { _, _ in
      Response(
        status: .ok, headers: [.contentType: "application/json"],
        body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.json)))
    }
    router.get("/v1/models") { request, _ in try service.listModels(request) }
    router.get("/v1/models/{id}") { request, context in
      try service.modelCard(request, id: try context.parameters.require("id"))
    }
    router.get("/v1/models/{id}/weights") { request, context in
      try service.weights(request, id: try context.parameters.require("id"))
    }
    router.post("/v1/chat/completions") { request, _ in try await service.chatCompletions(request) }
    router.post("/v1/completions") { request, _ in try await service.completions(request) }
    router.post("/v1/embeddings") { request, _ in try await service.embeddings(request) }
    router.get("/v1/usage") { request, _ in try service.ownUsage(request) }
    router.get("/v1/admin/keys") { request, _ in try service.adminListKeys(request) }
    router.post("/v1/admin/keys") { request, _ in try await service.adminCreateKey(request) }
    router.delete("/v1/admin/keys/{id}") { request, context in
      try service.adminRevokeKey(request, id: try context.parameters.require("id"))
    }
    router.get("/v1/admin/usage") { request, _ in try service.adminUsage(request) }
    AppRoutes.register(on: router, service: service)
    return router
  }
}

/// Counts error responses by OpenAI error code, and turns errors no route mapped (unknown
/// paths, Hummingbird's own) into OpenAI-shaped bodies.
struct ErrorMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
  let metrics: ServerMetrics

  func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
    async throws
    -> Response
  {
    do {
      return try await next(request, context)
    } catch let error as OpenAIError {
      metrics.error(code: error.code ?? error.type)
      throw error
    } catch let error as HTTPError {
      let mapped =
        error.status == .notFound
        ? OpenAIError(
          .notFound, "Unknown request URL: \(request.method) \(request.uri.path).", code: "unknown_url")
        : OpenAIError(error.status, error.body ?? error.status.reasonPhrase)
      metrics.error(code: mapped.code ?? mapped.type)
      throw mapped
    }
  }
}
