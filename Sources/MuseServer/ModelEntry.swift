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
  /// The operator's guardrails for this model (`guard:` in the catalogue).
  public var guardPolicy: GuardPolicy?

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
    case guardPolicy = "guard"
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
    guardPolicy = try c.decodeIfPresent(GuardPolicy.self, forKey: .guardPolicy)
    func refuse(_ key: CodingKeys, _ message: String) -> DecodingError {
      .dataCorruptedError(forKey: key, in: c, debugDescription: "model '\(id)': \(key.rawValue) \(message)")
    }
    for (price, key) in [
      (inputPricePerMillion, CodingKeys.inputPricePerMillion),
      (outputPricePerMillion, .outputPricePerMillion),
    ]
    where !(price.isFinite && (0...1_000_000).contains(price)) {
      throw refuse(key, "must be from 0 to 1000000 dollars")
    }
    if let t = defaultTemperature, !(0...2).contains(t) {
      throw refuse(.defaultTemperature, "must be from 0 to 2")
    }
    if let p = defaultTopP, !(p > 0 && p <= 1) { throw refuse(.defaultTopP, "must be in (0, 1]") }
    if let m = defaultMaxTokens, m < 1 { throw refuse(.defaultMaxTokens, "must be at least 1") }
    if let n = contextLength, !(1...10_000_000).contains(n) {
      throw refuse(.contextLength, "must be from 1 to 10000000")
    }
  }

  /// The catalogue entry of the model `muse serve` runs when none is named (SmolLM2-135M-Instruct).
  /// Greedy by default: at temperature 1 a 135M model answers the README's question with
  /// nonsense, and at its card's 0.2 / top_p 0.9 it loops more often than not; greedy says
  /// "The capital of France is Paris." every time. The cap keeps a looping reply from holding
  /// a slot for the whole 8,192-token context.
  public static func builtInDefault(path: String) -> ModelEntry {
    ModelEntry(
      id: "smollm2-135m-instruct", path: path, visibility: .closed, displayName: "SmolLM2 135M Instruct",
      description: "Hugging Face's small chat model (Apache-2.0).", defaultTemperature: 0,
      defaultMaxTokens: 512)
  }

  /// Cost in micro-dollars of a request, saturating rather than trapping on absurd prices.
  public func cost(promptTokens: Int, completionTokens: Int) -> Int {
    let cost =
      (Double(promptTokens) * inputPricePerMillion + Double(completionTokens) * outputPricePerMillion)
      .rounded()
    guard cost.isFinite, cost > 0 else { return 0 }
    return cost < 9e18 ? Int(cost) : Int.max / 2
  }
}
