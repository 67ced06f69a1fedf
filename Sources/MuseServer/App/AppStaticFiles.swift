import Foundation
import HTTPTypes
import Hummingbird

/// The app's own files (Resources/app in this target's bundle), served with the security
/// headers the page relies on: scripts and styles only from this origin, no framing (except the
/// artifact preview frame, which only this origin may embed and which has a policy of its own).
enum AppStaticFiles {
  static let contentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    + "frame-src 'self' blob: data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    + "frame-ancestors 'none'"

  /// The artifact preview frame's document, which the app embeds in a sandboxed iframe (opaque
  /// origin) and into which it posts an artifact's HTML or SVG. Artifacts are meant to be
  /// interactive, so their inline scripts and styles run, but nothing may be fetched or sent
  /// anywhere, and only the app itself may embed the frame.
  static let artifactFrame = "artifact-frame.html"
  static let artifactFrameContentSecurityPolicy =
    "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'unsafe-inline'; "
    + "img-src data: blob:; font-src data:; media-src data: blob:; connect-src 'none'; "
    + "form-action 'none'; base-uri 'none'; frame-ancestors 'self'"

  /// The folder the files are served from, resolved once (symlinks included).
  static let root: URL? = Bundle.module.url(
    forResource: "app", withExtension: nil, subdirectory: "Resources")?
    .resolvingSymlinksInPath().standardizedFileURL

  static let contentTypes: [String: String] = [
    "html": "text/html; charset=utf-8", "js": "text/javascript; charset=utf-8",
    "mjs": "text/javascript; charset=utf-8", "css": "text/css; charset=utf-8",
    "json": "application/json", "svg": "image/svg+xml", "png": "image/png", "ico": "image/x-icon",
    "webmanifest": "application/manifest+json", "woff2": "font/woff2", "txt": "text/plain; charset=utf-8",
  ]

  /// The file at `segments` under the app folder, or 404. Only plain names are accepted (no
  /// `..`, no hidden files, no separators inside a segment), and the resolved path must still
  /// lie inside the folder, so no request reaches any other file.
  static func response(for segments: [Substring]) throws -> Response {
    guard let root, !segments.isEmpty,
      segments.allSatisfy({ segment in
        !segment.isEmpty && !segment.hasPrefix(".") && !segment.contains("/") && !segment.contains("\\")
          && !segment.contains("\0") && !segment.contains("%")
      })
    else { throw notFound }
    let url = segments.reduce(root) { $0.appendingPathComponent(String($1)) }.resolvingSymlinksInPath()
      .standardizedFileURL
    var isDirectory: ObjCBool = false
    guard url.path.hasPrefix(root.path + "/"),
      FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue,
      let data = FileManager.default.contents(atPath: url.path)
    else { throw notFound }
    let type = contentTypes[url.pathExtension.lowercased()] ?? "application/octet-stream"
    var headers: HTTPFields = [
      .contentType: type, HTTPField.Name("X-Content-Type-Options")!: "nosniff",
      HTTPField.Name("Referrer-Policy")!: "same-origin", .cacheControl: "no-cache",
    ]
    if segments.count == 1 && segments[0] == artifactFrame {
      headers[HTTPField.Name("Content-Security-Policy")!] = artifactFrameContentSecurityPolicy
      headers[HTTPField.Name("X-Frame-Options")!] = "SAMEORIGIN"
    } else if type.hasPrefix("text/html") {
      headers[HTTPField.Name("Content-Security-Policy")!] = contentSecurityPolicy
      headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
    }
    return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
  }

  static let notFound = OpenAIError(.notFound, "No such file.", code: "not_found")
}
