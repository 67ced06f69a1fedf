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

  /// The document for a deployment: the `model` field of each request lists the ids this server
  /// serves (chat and completion models, embedding models), so a client generator or a fuzzer
  /// (schemathesis) reaches past "model not found".
  /// `vocabularySize`: the smallest of the chat models', bounding every token id
  /// (`x-muse-token-id`) so that ids the document allows are ids every model takes.
  public static func json(
    chatModels: [String], embeddingModels: [String], embeddingDimensions: [Int] = [],
    vocabularySize: Int? = nil
  ) -> String {
    guard var object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
      var components = object["components"] as? [String: Any],
      var schemas = components["schemas"] as? [String: Any]
    else { return json }
    let targets = [
      ("ChatCompletionRequest", chatModels), ("CompletionRequest", chatModels),
      ("EmbeddingRequest", embeddingModels), ("TokenizeRequest", chatModels),
      ("DetokenizeRequest", chatModels),
    ]
    for (name, ids) in targets where !ids.isEmpty {
      guard var schema = schemas[name] as? [String: Any],
        var properties = schema["properties"] as? [String: Any]
      else { continue }
      properties["model"] = ["type": "string", "enum": ids]
      if name == "EmbeddingRequest", !embeddingDimensions.isEmpty {
        properties["dimensions"] = ["type": ["integer", "null"], "enum": embeddingDimensions + [NSNull()]]
      }
      schema["properties"] = properties
      schemas[name] = schema
    }
    if let vocabularySize {
      func bound(_ value: Any) -> Any {
        if var dict = value as? [String: Any] {
          for (k, v) in dict { dict[k] = bound(v) }
          if dict["x-muse-token-id"] as? Bool == true { dict["maximum"] = vocabularySize - 1 }
          if dict["x-muse-token-id-keys"] as? Bool == true {
            dict["pattern"] = decimalPattern(upTo: vocabularySize - 1)
          }
          return dict
        }
        if let list = value as? [Any] { return list.map(bound) }
        return value
      }
      schemas = bound(schemas) as? [String: Any] ?? schemas
    }
    components["schemas"] = schemas
    object["components"] = components
    guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else {
      return json
    }
    return String(decoding: data, as: UTF8.self)
  }

  /// A regular expression for the integers 0 ... `max` written in decimal without a sign or a
  /// leading zero (`logit_bias`'s keys): shorter numbers, then numbers as long as `max` that
  /// follow its digits up to one smaller digit, then `max` itself.
  static func decimalPattern(upTo max: Int) -> String {
    let digits = String(Swift.max(0, max)).utf8.map { Int($0) - 0x30 }
    var alternatives = ["0"]
    for length in 1..<digits.count {
      alternatives.append(length == 1 ? "[1-9]" : "[1-9][0-9]{\(length - 1)}")
    }
    for i in digits.indices {
      let low = i == 0 ? 1 : 0
      let high = digits[i] - 1
      guard high >= low else { continue }
      let rest = digits.count - i - 1
      alternatives.append(
        digits[..<i].map(String.init).joined() + (low == high ? "\(low)" : "[\(low)-\(high)]")
          + (rest > 0 ? "[0-9]{\(rest)}" : ""))
    }
    if max > 0 { alternatives.append(String(max)) }
    return "^(" + alternatives.joined(separator: "|") + ")$"
  }

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
