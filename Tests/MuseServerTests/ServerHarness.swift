import Foundation
import Hummingbird
import HummingbirdTesting
import MuseEngine
import MuseModels
import MuseStore
import MuseTestSupport

@testable import MuseServer

/// A server over a fresh store with SmolLM2 as a closed model and a fixture model as an open
/// one, plus keys of each kind.
struct ServerHarness {
  static let smol: LanguageModel? = try? LanguageModel(path: TestPaths.smolLM2(), threads: 2)
  static let minilm: EmbeddingModel? = try? EmbeddingModel(
    path: TestPaths.cachedModel("all-MiniLM-L6-v2"), threads: 2)
  static let fixture: LanguageModel? = try? LanguageModel(
    path: TestPaths.fixture("models/llama-q8_0.gguf"), threads: 1)
  /// A Hermes-style template whose reply is text and two `<tool_call>` blocks, whatever it is asked.
  static let scriptedTools: LanguageModel? = try? LanguageModel(
    path: TestPaths.fixture("models/scripted-tools.gguf"), threads: 1)

  let store: SQLiteStore
  let service: MuseService
  /// The deployment's signing key: receipts are on, as in `muse serve`.
  let identity: ServerIdentity
  let admin: String
  let user: String
  let weightsOnly: String
  let fixturePath = TestPaths.fixture("models/llama-q8_0.gguf")

  /// `toolsModel`: also serve `scriptedTools` as the open model "tools".
  init(limits: KeyLimits = KeyLimits(), userModels: [String] = [], toolsModel: Bool = false) throws {
    let dir = try TestPaths.temporaryDirectory()
    let store = try SQLiteStore(path: dir.appendingPathComponent("muse.sqlite").path)
    self.store = store
    _ = try TestPaths.smolLM2()
    guard let smol = Self.smol, let fixture = Self.fixture else {
      throw TestPaths.MissingModel(path: "models")
    }
    let closed = ModelRunner(
      entry: ModelEntry(
        id: "smol", path: smol.gguf!.path, visibility: .closed, inputPricePerMillion: 1_000_000,
        outputPricePerMillion: 2_000_000),
      model: smol, weightsDigest: WeightsDigest.sha256(of: smol.gguf!, cacheDirectory: dir.path))
    let open = ModelRunner(
      entry: ModelEntry(id: "tiny", path: fixture.gguf!.path, visibility: .open),
      model: fixture, weightsDigest: WeightsDigest.sha256(of: fixture.gguf!, cacheDirectory: dir.path))
    _ = try TestPaths.cachedModel("all-MiniLM-L6-v2")
    guard let minilm = Self.minilm else { throw TestPaths.MissingModel(path: "all-MiniLM-L6-v2") }
    let embedder = try EmbeddingRunner(
      entry: ModelEntry(id: "minilm", path: minilm.path, visibility: .closed, inputPricePerMillion: 1),
      model: minilm)
    var runners = [closed, open]
    if toolsModel {
      guard let tools = Self.scriptedTools else { throw TestPaths.MissingModel(path: "scripted-tools.gguf") }
      runners.append(
        ModelRunner(
          entry: ModelEntry(id: "tools", path: tools.gguf!.path, visibility: .open),
          model: tools, weightsDigest: WeightsDigest.sha256(of: tools.gguf!, cacheDirectory: dir.path)))
    }
    identity = try ServerIdentity(dataDirectory: dir.path)
    service = MuseService(
      runners: runners, embedders: [embedder], store: store, maxBodyBytes: 64 << 10,
      receipts: ReceiptStage(identity: identity))
    func key(_ scopes: [KeyScope], _ models: [String] = [], _ limits: KeyLimits = KeyLimits()) throws
      -> String
    {
      // Uses the local store: self is not fully initialised yet.
      let (secret, k) = APIKey.generate(name: "test", scopes: scopes, models: models, limits: limits)
      try store.insert(k)
      return secret
    }
    admin = try key([.admin])
    user = try key([.inference], userModels, limits)
    weightsOnly = try key([.weights])
  }

  func test(_ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
    let app = buildApplication(service: service)
    try await app.test(.router, body)
  }
}

extension TestClientProtocol {
  @discardableResult
  func call(
    _ path: String, method: HTTPRequest.Method = .get, key: String?, json: String? = nil,
    headers extra: HTTPFields = [:]
  ) async throws -> TestResponse {
    var headers = extra
    if let key { headers[.authorization] = "Bearer \(key)" }
    if json != nil { headers[.contentType] = "application/json" }
    return try await execute(
      uri: path, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) }
    ) { $0 }
  }
}

extension TestResponse {
  var text: String { String(buffer: body) }
  var json: [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
  }
  var error: [String: Any] { json["error"] as? [String: Any] ?? [:] }
}
