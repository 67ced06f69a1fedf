import Foundation
import Hummingbird
import Logging
import MuseEngine
import MuseModels
import MuseStore

/// What the controllers share: the model catalogue, the store, admission control, metrics, the
/// generation stages, the receipt stage and the sign-in throttle. The controllers (`InferenceController`,
/// `ModelController`, `EmbeddingController`, `AccountController`, `AppController`) hold it.
public final class MuseService: Sendable {
  public let models: [String: ModelRunner]
  public let embedders: [String: EmbeddingRunner]
  public let modelOrder: [String]
  public let store: Store
  public let admission: Admission
  public let metrics: ServerMetrics
  public let logger: Logger
  public let maxBodyBytes: Int
  public let app: AppSettings
  public let loginThrottle: LoginThrottle
  /// Run in order on every billed generation (`MeteredGeneration`).
  public let stages: [any GenerationStage]
  /// The operator's guardrails per model, and the built-in moderation classifier.
  public let guardrails: Guardrails
  /// Signs and stores a receipt for every completed generation; nil: no receipts.
  public let receipts: ReceiptStage?

  public init(
    runners: [ModelRunner], embedders: [EmbeddingRunner] = [], store: Store,
    metrics: ServerMetrics = ServerMetrics(),
    logger: Logger = Logger(label: "muse"), maxBodyBytes: Int = 4 << 20, app: AppSettings = AppSettings(),
    loginThrottle: LoginThrottle = LoginThrottle(), stages: [any GenerationStage] = [],
    guardrails: Guardrails = Guardrails(), receipts: ReceiptStage? = nil
  ) {
    models = Dictionary(runners.map { ($0.entry.id, $0) }, uniquingKeysWith: { a, _ in a })
    self.embedders = Dictionary(embedders.map { ($0.entry.id, $0) }, uniquingKeysWith: { a, _ in a })
    modelOrder = runners.map(\.entry.id) + embedders.map(\.entry.id)
    self.store = store
    admission = Admission(store: store)
    self.metrics = metrics
    self.logger = logger
    self.maxBodyBytes = maxBodyBytes
    self.app = app
    self.loginThrottle = loginThrottle
    self.stages = stages
    self.guardrails = guardrails
    self.receipts = receipts
  }

  /// The model a key asked for, if it exists and the key may use it. A model the key may not
  /// use is named as forbidden only when the key could otherwise see it exists.
  func model(_ id: String, for key: APIKey) throws -> ModelRunner {
    guard let runner = models[id] else { throw OpenAIError.modelNotFound(id) }
    guard key.allows(model: id) else {
      throw OpenAIError(
        .forbidden, "This key is not allowed to use the model '\(id)'.", param: "model",
        code: "model_not_allowed")
    }
    return runner
  }

  /// Meters a call that reads tokens and generates none (embeddings, moderations): its ledger
  /// row, the reservation settled, and the request counted in `/metrics`.
  func meterPromptOnly(
    key: APIKey, model: String, endpoint: String, tokens: Int, cost: Int, elapsed: Duration,
    reservation: Admission.Reservation
  ) async {
    do {
      try store.record(
        UsageRecord(
          keyID: key.id, model: model, endpoint: endpoint, promptTokens: tokens, completionTokens: 0,
          costMicrodollars: cost, latencyMilliseconds: Int(elapsed.seconds * 1000),
          timeToFirstTokenMilliseconds: nil, status: 200, finishReason: nil))
    } catch {
      logger.error("could not record usage for key \(key.prefix)…: \(error)")
    }
    await admission.settle(reservation, tokensUsed: tokens)
    metrics.request(model: model, endpoint: endpoint, status: 200)
    metrics.tokens(model: model, prompt: tokens, completion: 0)
    metrics.latency(model: model, seconds: elapsed.seconds, timeToFirstToken: nil)
  }

  /// Decodes a JSON body, turning every failure into a 400/413 that says what was wrong.
  func decode<T: Decodable>(_ type: T.Type, from request: Request) async throws -> T {
    try await decodeWithBody(type, from: request).value
  }

  /// The decoded body and its raw bytes (for fields passed on as they are, like chat messages).
  func decodeWithBody<T: Decodable>(_ type: T.Type, from request: Request) async throws -> (
    value: T, body: Data
  ) {
    var request = request
    let buffer: ByteBuffer
    do {
      buffer = try await request.collectBody(upTo: maxBodyBytes)
    } catch {
      throw OpenAIError(
        .contentTooLarge, "The request body is larger than \(maxBodyBytes) bytes.", code: "request_too_large")
    }
    let data = Data(buffer: buffer)
    guard String(data: data, encoding: .utf8) != nil else {
      throw OpenAIError.invalid(
        "We could not parse the JSON body of your request: it is not valid UTF-8.", code: "invalid_json")
    }
    do {
      return (try JSONDecoder().decode(T.self, from: data), data)
    } catch DecodingError.dataCorrupted(let context) where context.codingPath.isEmpty {
      throw OpenAIError.invalid("We could not parse the JSON body of your request: it is not valid JSON.")
    } catch DecodingError.keyNotFound(let key, let context) {
      throw OpenAIError.invalid(
        "Missing required parameter: '\(Self.path(context.codingPath + [key]))'.",
        param: Self.path(context.codingPath + [key]), code: "missing_required_parameter")
    } catch DecodingError.typeMismatch(let type, let context) {
      throw OpenAIError.invalid(
        "Invalid type for '\(Self.path(context.codingPath))': expected \(Self.name(of: type)).",
        param: Self.path(context.codingPath), code: "invalid_type")
    } catch DecodingError.valueNotFound(let type, let context) {
      throw OpenAIError.invalid(
        "Invalid value for '\(Self.path(context.codingPath))': expected \(Self.name(of: type)), got null.",
        param: Self.path(context.codingPath), code: "invalid_type")
    } catch DecodingError.dataCorrupted(let context) {
      throw OpenAIError.invalid(
        "Invalid value for '\(Self.path(context.codingPath))': \(context.debugDescription)",
        param: Self.path(context.codingPath), code: "invalid_value")
    } catch {
      throw OpenAIError.invalid("We could not parse the JSON body of your request.")
    }
  }

  private static func path(_ keys: [CodingKey]) -> String {
    keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().trimmingCharacters(
      in: CharacterSet(charactersIn: "."))
  }

  private static func name(of type: Any.Type) -> String {
    switch type {
    case is String.Type: "a string"
    case is Int.Type, is UInt64.Type, is Int64.Type: "an integer"
    case is JSONNumber.Type: "a number"
    case is Float.Type, is Double.Type: "a number"
    case is Bool.Type: "a boolean"
    default: "\(type)".contains("Array") ? "an array" : "an object"
    }
  }
}

extension Data {
  init(buffer: ByteBuffer) {
    self = buffer.withUnsafeReadableBytes { Data($0) }
  }
}

/// JSON responses with the content type set.
func jsonResponse<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
  let encoder = JSONEncoder()
  encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
  // Unix seconds, the API's one time convention.
  encoder.dateEncodingStrategy = .secondsSince1970
  let data = try encoder.encode(value)
  return Response(
    status: status, headers: [.contentType: "application/json"],
    body: .init(byteBuffer: ByteBuffer(bytes: data)))
}
