import Foundation

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

public enum EvalClientError: Error, CustomStringConvertible, Equatable {
  case badURL(String)
  /// The server answered with an error status (after retries for 429 / 5xx).
  case http(url: String, status: Int, message: String)
  /// No answer at all (after retries).
  case transport(url: String, problem: String)
  case badResponse(url: String, problem: String)
  /// `echo` came back without the prompt tokens' logprobs: scoring would be at chance.
  case noPromptLogprobs(url: String, problem: String)

  public var description: String {
    switch self {
    case .badURL(let url): return "'\(url)' is not an http(s) base URL"
    case .http(let url, let status, let message): return "\(url) answered \(status): \(message)"
    case .transport(let url, let problem): return "\(url): \(problem)"
    case .badResponse(let url, let problem): return "\(url) answered something unexpected: \(problem)"
    case .noPromptLogprobs(let url, let problem):
      return "\(url) gives no log-probabilities for the prompt's tokens with echo (\(problem)); "
        + "log-likelihood scores would be at chance. Use --mode generate, or a server that returns them"
    }
  }
}

/// An OpenAI-compatible server: `/v1/completions` with `echo` + `logprobs` for scoring,
/// `/v1/chat/completions` for generation. 429 and 5xx are retried with exponential backoff
/// (or the server's `Retry-After`); other errors name the URL and the status.
public struct OpenAIClient: Sendable {
  public let baseURL: String
  public let apiKey: String?
  public let model: String
  public var maxRetries = 6
  /// The first wait before a retry; doubled each time, at most 60 s.
  public var initialBackoff: Double = 1
  let session: URLSession

  /// `baseURL` with or without a trailing `/v1`. `protocolClasses` replace the network (tests).
  public init(
    baseURL: String, apiKey: String?, model: String, concurrency: Int, protocolClasses: [AnyClass]? = nil
  ) throws {
    var base = baseURL
    while base.hasSuffix("/") { base.removeLast() }
    if base.hasSuffix("/v1") { base.removeLast(3) }
    guard let url = URL(string: base), let scheme = url.scheme, ["http", "https"].contains(scheme),
      url.host != nil
    else { throw EvalClientError.badURL(baseURL) }
    self.baseURL = base
    self.apiKey = apiKey
    self.model = model
    let configuration = URLSessionConfiguration.ephemeral
    configuration.httpMaximumConnectionsPerHost = max(concurrency, 1)
    configuration.timeoutIntervalForRequest = 900
    if let protocolClasses { configuration.protocolClasses = protocolClasses }
    session = URLSession(configuration: configuration)
  }

  /// Where the `Muse-Receipt` header of every answered request goes, when set (an attestation
  /// keeps the receipts of the items it re-scores).
  public var receipts: ReceiptLog?

  /// POSTs a JSON body and returns the decoded JSON object.
  func post(_ path: String, body: [String: Any]) async throws -> [String: Any] {
    try await send(path, body: body)
  }

  /// GETs a JSON object (a model card).
  public func get(_ path: String) async throws -> [String: Any] {
    try await send(path, body: nil)
  }

  /// GETs a body as text (JSON Lines).
  public func getText(_ path: String) async throws -> String {
    String(decoding: try await exchange(path, body: nil), as: UTF8.self)
  }

  private func send(_ path: String, body: [String: Any]?) async throws -> [String: Any] {
    let data = try await exchange(path, body: body)
    guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
      throw EvalClientError.badResponse(url: baseURL + path, problem: "the body is not a JSON object")
    }
    return object
  }

  /// One request with retries; the body of its 200 answer.
  private func exchange(_ path: String, body: [String: Any]?) async throws -> Data {
    let address = baseURL + path
    guard let url = URL(string: address) else { throw EvalClientError.badURL(address) }
    var request = URLRequest(url: url)
    if let body {
      request.httpMethod = "POST"
      request.httpBody = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
      request.setValue("application/json", forHTTPHeaderField: "Content-Type")
    }
    if let apiKey { request.setValue("Bearer \(apiKey)", forHTTPHeaderField: "Authorization") }
    var wait = initialBackoff
    var attempt = 0
    while true {
      attempt += 1
      let data: Data
      let response: URLResponse
      do {
        (data, response) = try await session.data(for: request)
      } catch {
        if attempt > maxRetries {
          throw EvalClientError.transport(url: address, problem: error.localizedDescription)
        }
        try await Task.sleep(nanoseconds: UInt64(wait * 1e9))
        wait = min(wait * 2, 60)
        continue
      }
      let status = (response as? HTTPURLResponse)?.statusCode ?? 0
      if status == 200 {
        if let receipt = (response as? HTTPURLResponse)?.value(forHTTPHeaderField: "Muse-Receipt") {
          receipts?.add(receipt)
        }
        return data
      }
      if (status == 429 || status >= 500) && attempt <= maxRetries {
        let retryAfter = (response as? HTTPURLResponse)?.value(forHTTPHeaderField: "Retry-After").flatMap(
          Double.init)
        try await Task.sleep(nanoseconds: UInt64(min(retryAfter ?? wait, 120) * 1e9))
        wait = min(wait * 2, 60)
        continue
      }
      throw EvalClientError.http(url: address, status: status, message: Self.errorMessage(data))
    }
  }

  /// OpenAI's `{"error": {"message": …}}`, else the body's first 300 characters.
  static func errorMessage(_ data: Data) -> String {
    if let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
      let error = object["error"] as? [String: Any], let message = error["message"] as? String
    {
      return message
    }
    let text = String(decoding: data.prefix(300), as: UTF8.self)
    return text.isEmpty ? "(empty body)" : text
  }

  /// The log-likelihood of `continuation` after `context`: one completions request with the
  /// two joined, `echo` and `logprobs: 1`, `max_tokens: 1` (what lm-eval sends; servers that
  /// refuse 0 take it), and the logprobs of the tokens that start inside the continuation
  /// (`text_offset` counts Unicode scalars, as Python's string indices do).
  public func loglikelihood(context: String, continuation: String) async throws -> ChoiceLoglikelihood {
    let prompt = context + continuation
    let object = try await post(
      "/v1/completions",
      body: [
        "model": model, "prompt": prompt, "max_tokens": 1, "echo": true, "logprobs": 1, "temperature": 0,
      ])
    return try Self.continuationLoglikelihood(
      object, contextLength: context.unicodeScalars.count, promptLength: prompt.unicodeScalars.count,
      url: baseURL + "/v1/completions")
  }

  /// Reads a completions reply's echoed logprobs; refuses a reply without the prompt's.
  public static func continuationLoglikelihood(
    _ object: [String: Any], contextLength: Int, promptLength: Int, url: String
  ) throws -> ChoiceLoglikelihood {
    guard let choices = object["choices"] as? [[String: Any]], let choice = choices.first else {
      throw EvalClientError.badResponse(url: url, problem: "no choices")
    }
    guard let logprobs = choice["logprobs"] as? [String: Any], let tokens = logprobs["tokens"] as? [String],
      let values = logprobs["token_logprobs"] as? [Any], let offsets = logprobs["text_offset"] as? [Int],
      values.count == tokens.count, offsets.count == tokens.count
    else {
      throw EvalClientError.noPromptLogprobs(url: url, problem: "no logprobs with tokens and text_offset")
    }
    let tops = logprobs["top_logprobs"] as? [Any] ?? []
    guard offsets.first == 0 else {
      throw EvalClientError.noPromptLogprobs(url: url, problem: "the logprobs do not start at the prompt")
    }
    var total = 0.0
    var greedy = true
    var scored = 0
    for i in tokens.indices
    where offsets[i] < promptLength && offsets[i] + tokens[i].unicodeScalars.count > contextLength {
      // A token that starts before the continuation but ends inside it is the continuation's
      // too: the boundary fell inside a token, and its probability is what the text costs.
      guard let value = (values[i] as? NSNumber)?.doubleValue else {
        throw EvalClientError.noPromptLogprobs(
          url: url, problem: "token \(i) of the prompt has a null logprob")
      }
      total += value
      scored += 1
      // lm-eval's is_greedy: the token's logprob is the top alternative's.
      if i < tops.count, let top = tops[i] as? [String: Any] {
        let best = top.values.compactMap { ($0 as? NSNumber)?.doubleValue }.max() ?? -.infinity
        if value < best { greedy = false }
      }
    }
    guard scored > 0 else {
      throw EvalClientError.noPromptLogprobs(url: url, problem: "no token of the continuation was scored")
    }
    return ChoiceLoglikelihood(logprob: total, isGreedy: greedy)
  }

  /// A greedy chat completion's text.
  public func chat(_ request: GenerationRequest) async throws -> String {
    let object = try await post(
      "/v1/chat/completions",
      body: [
        "model": model, "messages": request.messages.map { ["role": $0.role, "content": $0.content] },
        "max_tokens": request.maxTokens, "temperature": 0,
      ])
    guard let choices = object["choices"] as? [[String: Any]],
      let message = choices.first?["message"] as? [String: Any]
    else {
      throw EvalClientError.badResponse(
        url: baseURL + "/v1/chat/completions", problem: "no choices[0].message")
    }
    return message["content"] as? String ?? ""
  }
}

/// The receipts a client was given, in the order the answers came.
public final class ReceiptLog: @unchecked Sendable {
  private let lock = NSLock()
  private var list: [String] = []
  public init() {}
  public var all: [String] { lock.withLock { list } }
  func add(_ receipt: String) { lock.withLock { list.append(receipt) } }
}
