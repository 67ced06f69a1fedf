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
}
