import Foundation
import Hummingbird

/// The first-party chat app: its page and files, and its JSON API under /app/api, which signs
/// people in with a session cookie and bills every reply to the user's own API key.
enum AppRoutes {
  static func register(on router: Router<BasicRequestContext>, service: MuseService) {
    router.get("/") { _, _ in try AppStaticFiles.response(for: ["index.html"]) }
    router.get("/app/**") { _, context in try AppStaticFiles.response(for: context.parameters.getCatchAll()) }

    let api = router.group("/app/api")
    api.post("/login") { request, _ in try await service.appLogin(request) }
    api.post("/logout") { request, _ in try service.appLogout(request) }
    api.get("/me") { request, _ in try service.appMe(request) }
    api.get("/usage") { request, _ in try service.appUsage(request) }
    api.get("/conversations") { request, _ in try service.appListConversations(request) }
    api.post("/conversations") { request, _ in try await service.appCreateConversation(request) }
    api.get("/conversations/{id}") { request, context in
      try service.appGetConversation(request, id: try context.parameters.require("id"))
    }
    api.patch("/conversations/{id}") { request, context in
      try await service.appUpdateConversation(request, id: try context.parameters.require("id"))
    }
    api.delete("/conversations/{id}") { request, context in
      try service.appDeleteConversation(request, id: try context.parameters.require("id"))
    }
    api.post("/conversations/{id}/messages") { request, context in
      try await service.appPostMessage(request, conversationID: try context.parameters.require("id"))
    }
    api.get("/admin/users") { request, _ in try service.appAdminUsers(request) }
  }
}
