import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import MuseEngine
import MuseModels
import MuseStore
import MuseTestSupport

@testable import MuseServer

/// A server for the chat app over a fresh store: the scripted-reply model (closed, priced) and
/// the tiny llama fixture (open), the reasoning and tool-calling scripted models, users alice and
/// bob (plain) and root (admin).
struct AppHarness {
  static let scripted: LanguageModel? = try? LanguageModel(
    path: TestPaths.fixture("models/scripted-reply.gguf"), threads: 1)
  static let thinker: LanguageModel? = try? LanguageModel(
    path: TestPaths.fixture("models/scripted-reasoning.gguf"), threads: 1)
  static let tiny: LanguageModel? = try? LanguageModel(
    path: TestPaths.fixture("models/llama-q8_0.gguf"), threads: 1)
  /// The reply the scripted model gives to anything (written by Scripts/fixtures/make_scripted_model.py
  /// from its numpy forward pass).
  static let scriptedReply: String = scriptedGolden?.reply ?? ""
  /// How many tokens that reply is (the numpy forward pass's count), as usage bills them.
  static let scriptedCompletionTokens: Int = scriptedGolden?.completionTokens ?? -1
  private struct ScriptedGolden: Decodable {
    let reply: String
    let completionTokens: Int
    enum CodingKeys: String, CodingKey {
      case reply
      case completionTokens = "completion_tokens"
    }
  }
  private static let scriptedGolden = try? TestPaths.golden(
    "scripted/scripted-reply.json", as: ScriptedGolden.self)

  static let passwords = ["alice": "alice-password", "bob": "bob-password-1", "root": "root-password"]

  let store: SQLiteStore
  let service: MuseService
  let alice: User
  let bob: User
  let root: User
  let logger: Logger

  init(
    aliceModels: [String] = [], aliceLimits: KeyLimits = KeyLimits(), logger: Logger = Logger(label: "muse")
  )
    throws
  {
    let dir = try TestPaths.temporaryDirectory()
    store = try SQLiteStore(path: dir.appendingPathComponent("muse.sqlite").path)
    guard let scripted = Self.scripted, let tiny = Self.tiny, let thinker = Self.thinker else {
      throw TestPaths.MissingModel(path: TestPaths.fixture("models/scripted-reply.gguf"))
    }
    let closed = ModelRunner(
      entry: ModelEntry(
        id: "scripted", path: scripted.gguf!.path, visibility: .closed, displayName: "Scripted",
        description: "Always the same reply", inputPricePerMillion: 1,
        outputPricePerMillion: 2),
      model: scripted, weightsDigest: "0")
    let open = ModelRunner(
      entry: ModelEntry(id: "tiny", path: tiny.gguf!.path, visibility: .open, defaultMaxTokens: 8),
      model: tiny, weightsDigest: "0")
    let reasoning = ModelRunner(
      entry: ModelEntry(id: "thinker", path: thinker.gguf!.path, visibility: .closed), model: thinker,
      weightsDigest: "0")
    guard let toolCaller = ServerHarness.scriptedTools else {
      throw TestPaths.MissingModel(path: TestPaths.fixture("models/scripted-tools.gguf"))
    }
    let tools = ModelRunner(
      entry: ModelEntry(id: "tools", path: toolCaller.gguf!.path, visibility: .open), model: toolCaller,
      weightsDigest: "0")
    // Few iterations keep the tests fast; PasswordHasherTests covers the real count.
    let hasher = PasswordHasher(iterations: 1000)
    self.logger = logger
    service = MuseService(
      runners: [closed, open, reasoning, tools], store: store, logger: logger, maxBodyBytes: 64 << 10,
      app: AppSettings(passwordHasher: hasher))
    let accounts = UserAccounts(store: store, hasher: hasher)
    alice = try accounts.create(
      username: "alice", password: Self.passwords["alice"]!, models: aliceModels, limits: aliceLimits)
    bob = try accounts.create(username: "bob", password: Self.passwords["bob"]!)
    root = try accounts.create(username: "root", password: Self.passwords["root"]!, isAdmin: true)
  }

  func test(_ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
    let app = buildApplication(service: service)
    try await app.test(.router, body)
  }
}

extension TestClientProtocol {
  /// An app API call: the session cookie, and the CSRF header unless `csrf` is false.
  @discardableResult
  func app(
    _ path: String, method: HTTPRequest.Method = .get, session: String?, json: String? = nil,
    csrf: Bool = true,
    headers extra: HTTPFields = [:]
  ) async throws -> TestResponse {
    var headers = extra
    if let session { headers[.cookie] = "muse_session=\(session)" }
    if csrf { headers[HTTPField.Name("X-Muse-App")!] = "1" }
    if json != nil { headers[.contentType] = "application/json" }
    return try await execute(
      uri: path, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) }
    ) { $0 }
  }

  /// Signs in and returns the session token from the cookie.
  func signIn(_ username: String, password: String? = nil) async throws -> String {
    let pass = password ?? AppHarness.passwords[username]!
    let r = try await app(
      "/app/api/login", method: .post, session: nil,
      json: #"{"username": "\#(username)", "password": "\#(pass)"}"#)
    guard r.status == .ok, let cookie = r.headers[.setCookie],
      let value = cookie.split(separator: ";").first?.split(separator: "=", maxSplits: 1).last
    else { throw AppTestError.signInFailed(r.text) }
    return String(value)
  }

  /// Creates a conversation and returns its id.
  func newConversation(_ session: String, model: String = "scripted", extra: String = "") async throws
    -> String
  {
    let r = try await app(
      "/app/api/conversations", method: .post, session: session,
      json: #"{"model": "\#(model)", "temperature": 0\#(extra)}"#)
    guard let id = r.json["id"] as? String else { throw AppTestError.signInFailed(r.text) }
    return id
  }
}

enum AppTestError: Error { case signInFailed(String) }

extension TestResponse {
  /// The server-sent events of a streamed reply, as JSON objects.
  var events: [[String: Any]] {
    text.components(separatedBy: "\n\n").compactMap { block in
      guard block.hasPrefix("data: ") else { return nil }
      return (try? JSONSerialization.jsonObject(with: Data(block.dropFirst(6).utf8))) as? [String: Any]
    }
  }

  var cookieHeader: String { headers[.setCookie] ?? "" }
}
