import Foundation
import Hummingbird

/// The first-party chat app: its page and files, and its JSON API under /app/api, which signs
/// people in with a session cookie and bills every reply to the user's own API key.
enum AppRoutes {
  static func register(on router: Router<MuseRequestContext>, service: MuseService) {
    let app = AppController(service: service)
    router.get("/") { _, _ in try AppStaticFiles.response(for: ["index.html"]) }
    router.get("/app/**") { _, context in try AppStaticFiles.response(for: context.parameters.getCatchAll()) }

    let session = router.group("/app/api").add(middleware: AppCSRFMiddleware())
    session.post("/login") { request, context in try await app.appLogin(request, context: context) }
    session.post("/logout") { request, context in try app.appLogout(request, context: context) }

    let api = router.group("/app/api").add(middleware: AppCSRFMiddleware()).add(
      middleware: IdentityMiddleware { request, context in context.appCaller = try app.appCaller(request)
      })
    api.get("/me") { request, context in try app.appMe(request, context: context) }
    api.get("/usage") { request, context in try app.appUsage(request, context: context) }
    api.get("/conversations") { request, context in
      try app.appListConversations(request, context: context)
    }
    api.post("/conversations") { request, context in
      try await app.appCreateConversation(request, context: context)
    }
    api.get("/conversations/{id}") { request, context in
      try app.appGetConversation(request, context: context, id: try context.parameters.require("id"))
    }
    api.patch("/conversations/{id}") { request, context in
      try await app.appUpdateConversation(
        request, context: context, id: try context.parameters.require("id"))
    }
    api.delete("/conversations/{id}") { request, context in
      try app.appDeleteConversation(request, context: context, id: try context.parameters.require("id"))
    }
    api.post("/conversations/{id}/messages") { request, context in
      try await app.appPostMessage(
        request, context: context, conversationID: try context.parameters.require("id"))
    }
    api.get("/admin/users") { request, context in try app.appAdminUsers(request, context: context) }
  }
}
