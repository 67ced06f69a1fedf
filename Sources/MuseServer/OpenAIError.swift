import Foundation
import Hummingbird

/// An error in OpenAI's shape: `{"error": {"message", "type", "param", "code"}}`. Every
/// failure a client can see goes through this one type.
public struct OpenAIError: HTTPResponseError, Equatable {
  public let status: HTTPResponse.Status
  public let message: String
  public let type: String
  public let param: String?
  public let code: String?
  public var retryAfter: Int?
  /// The methods a path takes, for a 405.
  public var allow: String?

  public init(
    _ status: HTTPResponse.Status, _ message: String, type: String = "invalid_request_error",
    param: String? = nil, code: String? = nil, retryAfter: Int? = nil
  ) {
    self.status = status
    self.message = message
    self.type = type
    self.param = param
    self.code = code
    self.retryAfter = retryAfter
  }

  struct Body: Encodable {
    struct Inner: Encodable {
      let message: String
      let type: String
      let param: String?
      let code: String?
      func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(message, forKey: .message)
        try c.encode(type, forKey: .type)
        try c.encode(param, forKey: .param)
        try c.encode(code, forKey: .code)
      }
      enum CodingKeys: String, CodingKey { case message, type, param, code }
    }
    let error: Inner
  }

  public var json: String {
    let body = Body(error: .init(message: message, type: type, param: param, code: code))
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return String(decoding: (try? encoder.encode(body)) ?? Data(), as: UTF8.self)
  }

  public func response(from request: Request, context: some RequestContext) throws -> Response {
    var headers: HTTPFields = [.contentType: "application/json"]
    if let retryAfter { headers[.retryAfter] = String(retryAfter) }
    if let allow { headers[.allow] = allow }
    return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: json)))
  }

  static func invalid(_ message: String, param: String? = nil, code: String? = nil) -> OpenAIError {
    OpenAIError(.badRequest, message, param: param, code: code)
  }

  static func modelNotFound(_ id: String) -> OpenAIError {
    OpenAIError(
      .notFound, "The model '\(id)' does not exist or you do not have access to it.", param: "model",
      code: "model_not_found")
  }

  static let missingKey = OpenAIError(
    .unauthorized, "You didn't provide an API key. Send it as 'Authorization: Bearer muse-...'.",
    type: "invalid_request_error", code: "missing_api_key")
  static let invalidKey = OpenAIError(
    .unauthorized, "Incorrect API key provided.", type: "invalid_request_error", code: "invalid_api_key")
}
