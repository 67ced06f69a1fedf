import Foundation

/// Whether a model's weights may leave the server.
public enum Visibility: String, Codable, Sendable {
  /// Reachable only through the API; no route reveals the weights or where they are.
  case closed
  /// Also downloadable by keys with the weights scope.
  case open
}

/// One model in the catalogue, as the operator configures it.
public struct ModelEntry: Codable, Sendable {
  public var id: String
  public var path: String
  public var visibility: Visibility
  public var displayName: String?
  public var description: String?
  public var contextLength: Int?
  /// US dollars per million tokens.
  public var inputPricePerMillion: Double
  public var outputPricePerMillion: Double
  public var defaultTemperature: Float?
  public var defaultTopP: Float?
  public var defaultMaxTokens: Int?

  public init(
    id: String, path: String, visibility: Visibility = .closed, displayName: String? = nil,
    description: String? = nil, contextLength: Int? = nil, inputPricePerMillion: Double = 0,
    outputPricePerMillion: Double = 0, defaultTemperature: Float? = nil, defaultTopP: Float? = nil,
    defaultMaxTokens: Int? = nil
  ) {
    self.id = id
    self.path = path
    self.visibility = visibility
    self.displayName = displayName
    self.description = description
    self.contextLength = contextLength
    self.inputPricePerMillion = inputPricePerMillion
    self.outputPricePerMillion = outputPricePerMillion
    self.defaultTemperature = defaultTemperature
    self.defaultTopP = defaultTopP
    self.defaultMaxTokens = defaultMaxTokens
  }

  enum CodingKeys: String, CodingKey {
    case id, path, visibility, description
    case displayName = "display_name"
    case contextLength = "context_length"
    case inputPricePerMillion = "input_price_per_million"
    case outputPricePerMillion = "output_price_per_million"
    case defaultTemperature = "temperature"
    case defaultTopP = "top_p"
    case defaultMaxTokens = "max_tokens"
  }

  public init(from decoder: Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    id = try c.decode(String.self, forKey: .id)
    path = try c.decode(String.self, forKey: .path)
    visibility = try c.decodeIfPresent(Visibility.self, forKey: .visibility) ?? .closed
    displayName = try c.decodeIfPresent(String.self, forKey: .displayName)
    description = try c.decodeIfPresent(String.self, forKey: .description)
    contextLength = try c.decodeIfPresent(Int.self, forKey: .contextLength)
    inputPricePerMillion = try c.decodeIfPresent(Double.self, forKey: .inputPricePerMillion) ?? 0
    outputPricePerMillion = try c.decodeIfPresent(Double.self, forKey: .outputPricePerMillion) ?? 0
    defaultTemperature = try c.decodeIfPresent(Float.self, forKey: .defaultTemperature)
    defaultTopP = try c.decodeIfPresent(Float.self, forKey: .defaultTopP)
    defaultMaxTokens = try c.decodeIfPresent(Int.self, forKey: .defaultMaxTokens)
  }

  /// Cost in micro-dollars of a request.
  public func cost(promptTokens: Int, completionTokens: Int) -> Int {
    Int(
      (Double(promptTokens) * inputPricePerMillion + Double(completionTokens) * outputPricePerMillion)
        .rounded())
  }
}
