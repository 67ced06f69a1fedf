import Foundation

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// An OpenAI-compatible server inside the test process: URLSession's requests to
/// `http://<host>/…` are answered by the handler registered for that host, so tests running
/// at once each use their own host and no socket is opened.
final class FakeServer: URLProtocol {
  struct Reply {
    var status = 200
    var json: Any = [String: Any]()
    var headers: [String: String] = [:]
  }
  typealias Handler = @Sendable (_ path: String, _ body: [String: Any]) -> Reply

  nonisolated(unsafe) private static var handlers: [String: Handler] = [:]
  nonisolated(unsafe) private static var counts: [String: Int] = [:]
  private static let lock = NSLock()

  static func register(host: String, _ handler: @escaping Handler) {
    lock.lock()
    defer { lock.unlock() }
    handlers[host] = handler
    counts[host] = 0
  }

  static func requests(host: String) -> Int {
    lock.lock()
    defer { lock.unlock() }
    return counts[host] ?? 0
  }

  override class func canInit(with request: URLRequest) -> Bool { true }
  override class func canonicalRequest(for request: URLRequest) -> URLRequest { request }

  override func startLoading() {
    let host = request.url?.host ?? ""
    Self.lock.lock()
    let handler = Self.handlers[host]
    Self.counts[host, default: 0] += 1
    Self.lock.unlock()
    var bodyData = request.httpBody ?? Data()
    if bodyData.isEmpty, let stream = request.httpBodyStream {
      stream.open()
      var buffer = [UInt8](repeating: 0, count: 65536)
      while stream.hasBytesAvailable {
        let n = stream.read(&buffer, maxLength: buffer.count)
        if n <= 0 { break }
        bodyData.append(buffer, count: n)
      }
      stream.close()
    }
    let body = (try? JSONSerialization.jsonObject(with: bodyData)) as? [String: Any] ?? [:]
    let reply =
      handler?(request.url?.path ?? "", body)
      ?? Reply(status: 404, json: ["error": ["message": "no handler"]])
    let response = HTTPURLResponse(
      url: request.url!, statusCode: reply.status, httpVersion: "HTTP/1.1", headerFields: reply.headers)!
    client?.urlProtocol(self, didReceive: response, cacheStoragePolicy: .notAllowed)
    client?.urlProtocol(self, didLoad: (try? JSONSerialization.data(withJSONObject: reply.json)) ?? Data())
    client?.urlProtocolDidFinishLoading(self)
  }

  override func stopLoading() {}

  /// A completions reply echoing `prompt` split into one token per word (each word with the
  /// space before it), token i's logprob given by `logprob(token)`, the first null.
  static func echoReply(prompt: String, logprob: (String) -> Double) -> [String: Any] {
    var tokens: [String] = []
    var current = ""
    for scalar in prompt.unicodeScalars {
      if scalar == " " && !current.isEmpty {
        tokens.append(current)
        current = ""
      }
      current.unicodeScalars.append(scalar)
    }
    if !current.isEmpty { tokens.append(current) }
    tokens.append("!")  // the one generated token (max_tokens 1): not the prompt's
    var offsets: [Int] = []
    var offset = 0
    for token in tokens {
      offsets.append(offset)
      offset += token.unicodeScalars.count
    }
    let values: [Any] = tokens.indices.map { $0 == 0 ? NSNull() : logprob(tokens[$0]) as Any }
    let tops: [Any] = tokens.indices.map { $0 == 0 ? NSNull() : [tokens[$0]: logprob(tokens[$0])] as Any }
    return [
      "choices": [
        [
          "text": prompt + "!", "index": 0,
          "logprobs": [
            "tokens": tokens, "token_logprobs": values, "text_offset": offsets, "top_logprobs": tops,
          ],
        ]
      ]
    ]
  }
}
