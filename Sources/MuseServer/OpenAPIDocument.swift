import Foundation

/// The OpenAPI description of every route, committed as Resources/openapi.json.
public enum OpenAPIDocument {
  public static let json: String = {
    guard
      let url = Bundle.module.url(forResource: "openapi", withExtension: "json", subdirectory: "Resources"),
      let data = try? Data(contentsOf: url)
    else { return "{}" }
    return String(decoding: data, as: UTF8.self)
  }()

  /// Each path of the document as segments (`{name}` matches any one segment) with its methods.
  private static let routes: [(segments: [Substring], methods: [String])] = {
    guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
      let paths = object["paths"] as? [String: Any]
    else { return [] }
    return paths.compactMap { path, item in
      guard let operations = item as? [String: Any] else { return nil }
      let methods = operations.keys.map { $0.uppercased() }.filter {
        ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"].contains($0)
      }
      return (path.split(separator: "/"), methods.sorted())
    }
  }()

  /// The methods the document lists for `path` (empty when it lists no such path).
  static func methods(forPath path: String) -> [String] {
    let segments = path.split(separator: "/")
    var found: Set<String> = []
    for route in routes where route.segments.count == segments.count {
      let matches = zip(route.segments, segments).allSatisfy { pattern, segment in
        pattern.hasPrefix("{") || pattern == segment
      }
      if matches { found.formUnion(route.methods) }
    }
    return found.sorted()
  }
}
