import Foundation

/// What `muse serve` reads from its config file (JSON or YAML is up to the CLI; this is
/// the decoded shape) and flags.
public struct ServerConfiguration: Codable, Sendable {
  public var host: String
  public var port: Int
  public var dataDirectory: String?
  public var threads: Int?
  /// Seconds a connection may take to send a request's headers (default 30).
  public var headerTimeoutSeconds: Int?
  public var models: [ModelEntry]

  public init(
    host: String = "127.0.0.1", port: Int = 8080, dataDirectory: String? = nil, threads: Int? = nil,
    models: [ModelEntry] = []
  ) {
    self.host = host
    self.port = port
    self.dataDirectory = dataDirectory
    self.threads = threads
    self.models = models
  }

  enum CodingKeys: String, CodingKey {
    case host, port, threads, models
    case dataDirectory = "data_dir"
    case headerTimeoutSeconds = "header_timeout_seconds"
  }

  public init(from decoder: Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    host = try c.decodeIfPresent(String.self, forKey: .host) ?? "127.0.0.1"
    port = try c.decodeIfPresent(Int.self, forKey: .port) ?? 8080
    dataDirectory = try c.decodeIfPresent(String.self, forKey: .dataDirectory)
    threads = try c.decodeIfPresent(Int.self, forKey: .threads)
    headerTimeoutSeconds = try c.decodeIfPresent(Int.self, forKey: .headerTimeoutSeconds)
    if let t = headerTimeoutSeconds, !(1...3600).contains(t) {
      throw DecodingError.dataCorruptedError(
        forKey: .headerTimeoutSeconds, in: c,
        debugDescription: "header_timeout_seconds must be from 1 to 3600")
    }
    models = try c.decodeIfPresent([ModelEntry].self, forKey: .models) ?? []
  }
}
