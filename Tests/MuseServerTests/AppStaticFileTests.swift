import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import MuseTestSupport
import Testing

@testable import MuseServer

struct AppStaticFileTests {
  static let csp =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-src 'self' blob: data:; "
    + "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"

  @Test func thePageAndItsFilesComeWithTheirTypesAndSecurityHeaders() async throws {
    let h = try AppHarness()
    let folder = TestPaths.repositoryRoot.appendingPathComponent("Sources/MuseServer/Resources/app")
    let index = try String(contentsOf: folder.appendingPathComponent("index.html"), encoding: .utf8)
    try await h.test { c in
      for path in ["/", "/app/index.html"] {
        let r = try await c.call(path, key: nil)
        #expect(r.status == .ok)
        #expect(r.headers[.contentType] == "text/html; charset=utf-8")
        #expect(r.headers[HTTPField.Name("Content-Security-Policy")!] == Self.csp)
        #expect(r.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff")
        #expect(r.headers[HTTPField.Name("Referrer-Policy")!] == "same-origin")
        #expect(r.text == index)
      }
      let files = try FileManager.default.contentsOfDirectory(atPath: folder.path)
      let types = [
        "js": "text/javascript; charset=utf-8", "css": "text/css; charset=utf-8", "svg": "image/svg+xml",
      ]
      for (ext, type) in types {
        guard let name = files.first(where: { $0.hasSuffix("." + ext) }) else { continue }
        let r = try await c.call("/app/\(name)", key: nil)
        #expect(r.status == .ok && r.headers[.contentType] == type, "\(name)")
        #expect(r.body.readableBytes == (try Data(contentsOf: folder.appendingPathComponent(name))).count)
      }
    }
  }

  /// No request under /app reaches a file outside the app folder, however it is spelled.
  @Test func pathTraversalIsImpossible() async throws {
    let h = try AppHarness()
    let package = try String(
      contentsOf: TestPaths.repositoryRoot.appendingPathComponent("Package.swift"), encoding: .utf8)
    try await h.test { c in
      let attempts = [
        "/app/../openapi.json", "/app/../../../Package.swift", "/app/%2e%2e/openapi.json",
        "/app/%2E%2E%2Fopenapi.json", "/app/..%2F..%2F..%2F..%2FPackage.swift", "/app/..%5Copenapi.json",
        "/app/.%2e/.%2e/Package.swift", "/app//etc/passwd", "/app/%2Fetc%2Fpasswd", "/app/./index.html/..",
        "/app/.hidden", "/app/nonexistent.js", "/app/", "/app/index.html%00.js",
        "/app/api/../../openapi.json",
      ]
      for path in attempts {
        let r = try await c.call(path, key: nil)
        #expect(r.status == .notFound || r.status == .badRequest, "\(path): \(r.status)")
        #expect(
          !r.text.contains("\"openapi\"") && !r.text.contains("root:")
            && !r.text.contains("swift-tools-version"))
        #expect(!r.text.contains(String(package.prefix(40))))
      }
    }
  }

  @Test func openAPIDescribesTheAppRoutes() async throws {
    let h = try AppHarness()
    try await h.test { c in
      let spec = try await c.call("/openapi.json", key: nil).json
      let paths = try #require(spec["paths"] as? [String: [String: Any]])
      let routes: [(String, String)] = [
        ("/", "get"), ("/app/{file}", "get"), ("/app/api/login", "post"), ("/app/api/logout", "post"),
        ("/app/api/me", "get"), ("/app/api/usage", "get"), ("/app/api/conversations", "get"),
        ("/app/api/conversations", "post"), ("/app/api/conversations/{id}", "get"),
        ("/app/api/conversations/{id}", "patch"), ("/app/api/conversations/{id}", "delete"),
        ("/app/api/conversations/{id}/messages", "post"), ("/app/api/admin/users", "get"),
      ]
      for (path, method) in routes {
        #expect(paths[path]?[method] != nil, "\(method) \(path)")
      }
    }
  }

  /// The artifact preview frame has a policy of its own (an artifact's inline scripts run, nothing
  /// is fetched, only this origin may embed it); every other file keeps the page's strict one.
  @Test func theArtifactFrameHasItsOwnPolicyAndTheRestKeepTheStrictOne() async throws {
    let frameCSP =
      "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'unsafe-inline'; img-src data: blob:; "
      + "font-src data:; media-src data: blob:; connect-src 'none'; form-action 'none'; base-uri 'none'; "
      + "frame-ancestors 'self'"
    let h = try AppHarness()
    let folder = TestPaths.repositoryRoot.appendingPathComponent("Sources/MuseServer/Resources/app")
    try await h.test { c in
      let frame = try await c.call("/app/artifact-frame.html", key: nil)
      #expect(frame.status == .ok)
      #expect(frame.headers[.contentType] == "text/html; charset=utf-8")
      #expect(frame.headers[HTTPField.Name("Content-Security-Policy")!] == frameCSP)
      #expect(frame.headers[HTTPField.Name("X-Frame-Options")!] == "SAMEORIGIN")
      #expect(frame.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff")
      // The bootstrap is a file of this origin, not inline code.
      #expect(frame.text.contains("<script src=\"/app/artifact-frame.js\"></script>"))
      #expect(frame.text.components(separatedBy: "<script").count == 2)
      let bootstrap = try await c.call("/app/artifact-frame.js", key: nil)
      #expect(bootstrap.status == .ok && bootstrap.headers[.contentType] == "text/javascript; charset=utf-8")
      #expect(bootstrap.text.contains("event.source !== window.parent"))

      let pages = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        .filter { $0.hasSuffix(".html") && $0 != "artifact-frame.html" }
      #expect(pages.contains("index.html"))
      for path in ["/"] + pages.map({ "/app/\($0)" }) {
        let r = try await c.call(path, key: nil)
        #expect(r.headers[HTTPField.Name("Content-Security-Policy")!] == Self.csp, "\(path)")
        #expect(r.headers[HTTPField.Name("X-Frame-Options")!] == "DENY", "\(path)")
      }
      // Nothing else is served under the frame's policy, however the name is spelled.
      for path in ["/app/Artifact-Frame.html", "/app/x/../artifact-frame.html"] {
        let r = try await c.call(path, key: nil)
        #expect(r.headers[HTTPField.Name("Content-Security-Policy")!] != frameCSP, "\(path)")
      }
    }
  }
}
