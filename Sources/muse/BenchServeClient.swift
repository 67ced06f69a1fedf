import Foundation
import Hummingbird
import Logging
import MuseEngine
import MuseKernels
import MuseModels
import MuseServer
import MuseStore

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// What one streamed request measured.
struct StreamOutcome: Sendable {
  var text = ""
  var completionTokens = 0
  /// Seconds from sending the request to the first generated text.
  var timeToFirstToken: Double?
  /// Tokens after the first per second from the first to the last piece of text.
  var decodeRate: Double?
}

/// A plain OpenAI streaming client (what llama-server and Muse both serve): `/v1/completions`,
/// or with `chat` `/v1/chat/completions` (the prompt as one user message), where a
/// `jsonSchema` constrains every reply (`response_format` of type `json_schema`).
struct StreamingClient: @unchecked Sendable {
  let baseURL: String
  let key: String
  let model: String
  let genTokens: Int
  var chat = false
  /// A JSON Schema object (as JSONSerialization reads it); implies `chat`.
  var jsonSchema: Any?

  func complete(prompt: String, maxTokens: Int, greedy: Bool = false) async throws -> StreamOutcome {
    let chat = chat || jsonSchema != nil
    guard let url = URL(string: baseURL + (chat ? "/v1/chat/completions" : "/v1/completions")) else {
      throw BenchServeError.badURL(baseURL)
    }
    var body: [String: Any] = [
      "model": model, "max_tokens": maxTokens, "stream": true,
      "stream_options": ["include_usage": true], "ignore_eos": true,
    ]
    if chat {
      body["messages"] = [["role": "user", "content": prompt]]
    } else {
      body["prompt"] = prompt
    }
    if let jsonSchema {
      body["response_format"] = [
        "type": "json_schema", "json_schema": ["name": "bench", "strict": true, "schema": jsonSchema],
      ]
    }
    body["temperature"] = greedy ? 0 : 0.8
    if !greedy { body["seed"] = Int.random(in: 0..<1 << 30) }
    let data = try JSONSerialization.data(withJSONObject: body)
    let headers = ["Authorization": "Bearer \(key)", "Content-Type": "application/json"]
    // A thread per stream: the socket reads block, and each stream must be read as it arrives.
    return try await withCheckedThrowingContinuation { continuation in
      let thread = Thread {
        let recorder = StreamRecorder()
        do {
          let status = try PlainHTTPStream.post(url: url, headers: headers, body: data) { line, at in
            recorder.handle(line: line, at: at)
          }
          continuation.resume(with: recorder.outcome(status: status))
        } catch {
          continuation.resume(throwing: error)
        }
      }
      thread.start()
    }
  }

  static func firstModel(baseURL: String, key: String) async throws -> String {
    guard let url = URL(string: baseURL + "/v1/models") else { throw BenchServeError.badURL(baseURL) }
    var request = URLRequest(url: url)
    request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization")
    let (data, _) = try await URLSession.shared.data(for: request)
    guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
      let models = object["data"] as? [[String: Any]], let id = models.first?["id"] as? String
    else {
      throw BenchServeError.unexpectedReply(String(decoding: data.prefix(300), as: UTF8.self))
    }
    return id
  }
}

enum BenchServeError: Error, CustomStringConvertible {
  case badURL(String)
  case unexpectedReply(String)
  case httpStatus(Int, String)
  case serverDidNotStart
  case connectFailed(String, String)

  var description: String {
    switch self {
    case .badURL(let url): "'\(url)' is not a valid base URL (e.g. http://127.0.0.1:8080)"
    case .unexpectedReply(let text):
      "the server's reply was not what an OpenAI-compatible server sends: \(text)"
    case .httpStatus(let status, let text): "the server answered HTTP \(status): \(text)"
    case .serverDidNotStart: "the in-process server did not start within 60 s"
    case .connectFailed(let address, let reason): "cannot connect to \(address): \(reason)"
    }
  }
}

/// Reads one server-sent-event stream, timing the first and last text.
final class StreamRecorder {
  private var text = ""
  private var errorText = ""
  private var pieces = 0
  private var usageTokens: Int?
  private let started = Date()
  private var first: Date?
  private var last: Date?

  func handle(line: String, at now: Date) {
    guard line.hasPrefix("data:") else {
      errorText += line
      return
    }
    let payload = line.dropFirst(5).trimmingCharacters(in: .whitespaces)
    guard payload != "[DONE]", let object = try? JSONSerialization.jsonObject(with: Data(payload.utf8)),
      let event = object as? [String: Any]
    else { return }
    if let usage = event["usage"] as? [String: Any], let tokens = usage["completion_tokens"] as? Int {
      usageTokens = tokens
    }
    guard let choice = (event["choices"] as? [[String: Any]])?.first else { return }
    let piece =
      (choice["text"] as? String) ?? ((choice["delta"] as? [String: Any])?["content"] as? String) ?? ""
    guard !piece.isEmpty else { return }
    if first == nil { first = now }
    last = now
    pieces += 1
    text += piece
  }

  func outcome(status: Int) -> Result<StreamOutcome, Error> {
    guard status == 200 else {
      return .failure(BenchServeError.httpStatus(status, String(errorText.prefix(300))))
    }
    var o = StreamOutcome(text: text, completionTokens: usageTokens ?? pieces)
    if let first {
      o.timeToFirstToken = first.timeIntervalSince(started)
      if let last, last > first, o.completionTokens > 1 {
        o.decodeRate = Double(o.completionTokens - 1) / last.timeIntervalSince(first)
      }
    }
    return .success(o)
  }
}

/// Muse serving one model on a free loopback port, with a fresh store and inference key.
final class LoopbackServer: @unchecked Sendable {
  let baseURL: String
  let key: String
  let modelID: String
  private let task: Task<Void, Error>

  private init(baseURL: String, key: String, modelID: String, task: Task<Void, Error>) {
    self.baseURL = baseURL
    self.key = key
    self.modelID = modelID
    self.task = task
  }

  /// `guardPolicy`: also serve the model as `<id>-guarded` under that policy (a second runner on
  /// the same weights), so guarded and unguarded streams are measured side by side.
  static func start(
    model path: String, threads: Int?, kvCacheType: KVCacheType, guardPolicy: GuardPolicy? = nil,
    moderation: ModerationClassifier? = nil
  ) async throws -> LoopbackServer {
    let lm = try LanguageModel(path: path, threads: threads)
    lm.kvCacheType = kvCacheType
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("muse-bench-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let store = try SQLiteStore(path: dir.appendingPathComponent("muse.sqlite").path)
    let (secret, key) = APIKey.generate(name: "bench", scopes: [.inference])
    try store.insert(key)
    let id = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
    var runners = [
      ModelRunner(
        entry: ModelEntry(id: id, path: path, visibility: .closed), model: lm, weightsDigest: "bench")
    ]
    if let guardPolicy {
      var entry = ModelEntry(id: id + "-guarded", path: path, visibility: .closed)
      entry.guardPolicy = guardPolicy
      runners.append(ModelRunner(entry: entry, model: lm, weightsDigest: "bench"))
    }
    // The benchmark reports what goes wrong itself; the server's own lines (its start, and the
    // cancellation errors of stopping it on purpose) would only interleave with the results.
    var logger = Logger(label: "muse-bench-server")
    logger.logLevel = .critical
    let service = MuseService(
      runners: runners, store: store, logger: logger,
      guardrails: try Guardrails.build(runners: runners, moderation: moderation))
    let port = try freeLoopbackPort()
    let app = buildApplication(service: service, http: HTTPSettings(host: "127.0.0.1", port: port))
    let task = Task { try await app.runService() }
    let server = LoopbackServer(baseURL: "http://127.0.0.1:\(port)", key: secret, modelID: id, task: task)
    for _ in 0..<600 {
      if (try? await StreamingClient.firstModel(baseURL: server.baseURL, key: secret)) != nil {
        return server
      }
      try await Task.sleep(for: .milliseconds(100))
    }
    task.cancel()
    throw BenchServeError.serverDidNotStart
  }

  func stop() { task.cancel() }
}

/// A port the kernel has just handed out for loopback, released again for the server to bind.
private func freeLoopbackPort() throws -> Int {
  let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
  guard fd >= 0 else { throw BenchServeError.serverDidNotStart }
  defer { close(fd) }
  var address = sockaddr_in()
  address.sin_family = sa_family_t(AF_INET)
  address.sin_port = 0
  address.sin_addr.s_addr = inet_addr("127.0.0.1")
  var length = socklen_t(MemoryLayout<sockaddr_in>.size)
  let bound = withUnsafeMutablePointer(to: &address) {
    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
      bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
    }
  }
  guard bound else { throw BenchServeError.serverDidNotStart }
  return Int(UInt16(bigEndian: address.sin_port))
}
