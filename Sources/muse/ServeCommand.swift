import ArgumentParser
import Foundation
import Hummingbird
import Logging
import MuseEngine
import MuseKernels
import MuseModels
import MuseServer
import MuseStore
import Yams

struct ServeCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "serve",
    abstract: "Serve models through an authenticated OpenAI-compatible API.",
    discussion: """
      With no arguments it serves the default model (SmolLM2-135M-Instruct) as a closed model.
      A config file (YAML or JSON) lists several:
        host: 127.0.0.1
        port: 8080
        data_dir: /var/lib/muse
        models:
          - id: flagship
            path: /models/flagship-q4_k_m.gguf
            visibility: closed        # or open: downloadable with the weights scope
            display_name: Flagship
            description: Our best model
            context_length: 8192
            input_price_per_million: 0.5
            output_price_per_million: 1.5
            temperature: 0.7
            top_p: 0.9
            max_tokens: 1024
            guard:                    # the operator's guardrails (see docs/GUARDRAILS.md)
              input:  [{rail: pii, action: redact}, {rail: injection, action: block}]
              output: [{rail: pii, action: redact}, {rail: moderation, action: block}]
      """)

  @Option(name: .long, help: "Config file (YAML or JSON) with the model catalogue.") var config: String?
  @Option(name: .shortAndLong, help: "A GGUF model to serve (instead of a config file).") var model: String?
  @Option(name: .long, help: "Id of --model in the API (default: the file name).") var modelId: String?
  @Option(name: .long, help: "closed (API only) or open (also downloadable).") var visibility: String =
    "closed"
  @Option(name: .long, help: "Address to listen on.") var host: String?
  @Option(name: .long, help: "Port to listen on.") var port: Int?
  @Option(name: .long, help: "Where keys and the usage ledger are kept (default ~/.muse).") var dataDir:
    String?
  @Option(name: .shortAndLong, help: "Threads for inference (default: all cores).") var threads: Int?
  @Option(
    name: .long,
    help:
      "KV cache memory per model in MiB, shared by its concurrent requests (default: 25% of RAM, at most 8192)."
  ) var kvCacheMb: Int?
  @Option(
    name: .long,
    help: "How the KV cache stores keys and values: f16 (half the memory and reads) or f32 (exact).")
  var kvCacheType: KVCacheType = .f16
  @Option(
    name: .customLong("guard"),
    help: ArgumentHelp(
      "A guardrail, STAGE:RAIL:ACTION[:THRESHOLD] (repeatable), for every model without a guard: section, e.g. input:pii:redact, output:moderation:block.",
      valueName: "rule")) var guardRules: [String] = []
  @Option(name: .long, help: "A guard policy file (YAML or JSON) for every model without a guard: section.")
  var guardPolicy: String?
  @Option(
    name: .long,
    help:
      "The all-MiniLM-L6-v2 folder for the built-in moderation classifier (/v1/moderations, the moderation rail)."
  )
  var moderationModel: String?

  func run() async throws {
    ProcessMemory.keepFreedMemory()
    do {
      try await serve()
    } catch let error as ExitCode {
      throw error
    } catch {
      printError("muse: error: \(error)")
      throw ExitCode.failure
    }
  }

  private func serve() async throws {
    if let kvCacheMb, kvCacheMb <= 0 {
      throw ValidationError("--kv-cache-mb takes a positive number of MiB, not \(kvCacheMb)")
    }
    var settings = ServerConfiguration()
    if let config {
      guard let data = FileManager.default.contents(atPath: config) else {
        throw ValidationError("\(config): cannot read the config file")
      }
      do {
        // YAML is a superset of JSON, so either works.
        settings = try YAMLDecoder().decode(
          ServerConfiguration.self, from: String(decoding: data, as: UTF8.self))
      } catch {
        throw ValidationError("\(config): not a valid config: \(error)")
      }
    }
    if let model {
      guard let v = Visibility(rawValue: visibility) else {
        throw ValidationError("--visibility takes closed or open, not '\(visibility)'")
      }
      let id = modelId ?? ((model as NSString).lastPathComponent as NSString).deletingPathExtension
      settings.models.append(ModelEntry(id: id, path: model, visibility: v))
    }
    if settings.models.isEmpty {
      settings.models = [ModelEntry.builtInDefault(path: try DefaultModel.resolve(nil))]
    }
    if let policy = try GuardPolicyFile.policy(file: guardPolicy, rules: guardRules) {
      for i in settings.models.indices where settings.models[i].guardPolicy == nil {
        settings.models[i].guardPolicy = policy
      }
    }
    settings.host = host ?? settings.host
    settings.port = port ?? settings.port
    let dataDirectory = dataDir ?? settings.dataDirectory ?? DataDirectory.default
    try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
    let store = try SQLiteStore(path: dataDirectory + "/muse.sqlite")
    // Generations a stopped server left running keep their last checkpoint, marked as such.
    let interrupted = try store.closeInterruptedUsage()

    var runners: [ModelRunner] = []
    var embedders: [EmbeddingRunner] = []
    for entry in settings.models {
      if EmbeddingRunner.isEmbeddingFolder(entry.path) {
        embedders.append(
          try EmbeddingRunner(entry: entry, model: EmbeddingModel(path: entry.path, threads: threads)))
        continue
      }
      var bar = ProgressBar(label: "loading \(entry.id)")
      let lm = try LanguageModel(
        path: entry.path, options: ModelOptions(contextLength: entry.contextLength),
        threads: threads ?? settings.threads,
        progress: { bar.update($0) })
      lm.kvCacheType = kvCacheType
      guard let gguf = lm.gguf else {
        throw ValidationError(
          "\(entry.path): muse serve takes GGUF files; turn a checkpoint folder into one with muse convert")
      }
      let digest = WeightsDigest.sha256(of: gguf, cacheDirectory: dataDirectory)
      let root = WeightsDigest.merkleRoot(of: gguf, cacheDirectory: dataDirectory)
      runners.append(
        ModelRunner(
          entry: entry, model: lm, weightsDigest: digest, weightsRoot: root,
          kvCacheBytes: kvCacheMb.map { $0 << 20 } ?? BatchScheduler.Configuration.defaultKVCacheBytes))
    }
    var logger = Logger(label: "muse")
    logger.logLevel = .info
    let guardrails = try Guardrails.build(
      runners: runners,
      moderation: try ModerationSetup.classifier(folder: moderationModel, embedders: embedders))
    // The deployment's signing key, made on first start (`muse identity` shows and rotates it).
    let identity = try ServerIdentity(dataDirectory: dataDirectory)
    let service = MuseService(
      runners: runners, embedders: embedders, store: store, logger: logger, guardrails: guardrails,
      receipts: ReceiptStage(identity: identity))
    let adminSecret = try AdminKey.ensure(in: store)
    let adminPassword = try FirstAppUser.ensure(in: store)
    let url = "http://\(settings.host):\(settings.port)"
    let ids = (runners.map(\.entry.id) + embedders.map(\.entry.id)).joined(separator: ", ")
    let cacheLines = runners.map { runner in
      let pool = runner.scheduler.pool
      return "KV cache of \(runner.entry.id): \(pool.byteCount >> 20) MiB (\(pool.elementType)), "
        + "\(pool.blockCount * pool.blockSize) positions shared by its requests"
    }
    let http = HTTPSettings(
      host: settings.host, port: settings.port, headerTimeout: .seconds(settings.headerTimeoutSeconds ?? 30))
    let app = buildApplication(
      service: service, http: http,
      onServerRunning: { _ in
        if interrupted > 0 {
          print(
            "\(interrupted) generation(s) were still running when the server last stopped; billed as delivered"
          )
        }
        print("Muse is serving \(ids) at \(url)/v1")
        if let keyID = try? identity.currentKeyID() {
          print("Receipts are signed by \(keyID) (public keys at \(url)/.well-known/muse-keys)")
        }
        for line in cacheLines { print(line) }
        if let adminSecret {
          print("Admin key (shown once, keep it safe): \(adminSecret)")
        }
        if let adminPassword {
          print("Chat app: open \(url)/ and sign in as admin / \(adminPassword) (shown once)")
        }
        fflush(stdout)
      })
    try await app.runService()
  }
}

enum DataDirectory {
  static var `default`: String {
    ProcessInfo.processInfo.environment["MUSE_DATA_DIR"]
      ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".muse").path
  }

  static func store(_ given: String?) throws -> SQLiteStore {
    try SQLiteStore(path: path(given) + "/muse.sqlite")
  }

  /// The data directory, made if missing.
  static func path(_ given: String?) throws -> String {
    let dir = given ?? DataDirectory.default
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
  }
}

enum AdminKey {
  /// Creates the first admin key when the store has none; returns its secret to show once.
  static func ensure(in store: Store) throws -> String? {
    guard try !store.keys().contains(where: { $0.scopes.contains(.admin) && $0.isActive() }) else {
      return nil
    }
    let (secret, key) = APIKey.generate(name: "admin", scopes: [.admin, .inference, .weights])
    try store.insert(key)
    return secret
  }
}

extension KVCacheType: ExpressibleByArgument {}
