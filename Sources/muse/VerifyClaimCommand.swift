import ArgumentParser
import Foundation
import MuseEval
import MuseServer
import MuseStore

/// `muse verify-claim`: checks an operator's claims through the API alone — the attestation's
/// signature against the published keys, the per-item results against its hashes and scores,
/// then a random sample of the items scored again, which must give the attested answers, and
/// whose accuracy's 95 % Wilson interval must hold the claimed score.
struct VerifyClaimCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "verify-claim",
    abstract: "Check a model's attested claims through its API and re-run a random sample of their items.",
    discussion: "Exits 0 when every claim checked holds, 2 when one does not.")

  @Option(help: "The server's base URL, e.g. http://127.0.0.1:8080.") var baseURL: String
  @Option(help: "The model id.") var model: String
  @Option(help: "The API key (default: $OPENAI_API_KEY).") var apiKey: String?
  @Option(help: "Check only this claim.") var claim: String?
  @Option(help: "Items to score again per claim.") var sample = 20
  @Option(help: "The seed of the sample (default: random, printed).") var seed: UInt64?
  @Option(help: "The benchmark data (default: the cache, ~/.cache/muse/eval).") var dataDir: String?
  @Option(help: "Items scored at once.") var concurrency = 4

  func run() async throws {
    var holds = true
    do {
      guard (1...1000).contains(sample) else { throw ValidationError("--sample takes 1 to 1000") }
      guard (1...64).contains(concurrency) else { throw ValidationError("--concurrency takes 1 to 64") }
      let client = try OpenAIClient(
        baseURL: baseURL, apiKey: apiKey ?? ProcessInfo.processInfo.environment["OPENAI_API_KEY"],
        model: model, concurrency: concurrency)
      let keysObject = try await client.get("/.well-known/muse-keys")
      let keys = try JSONDecoder().decode(
        ServerIdentity.KeySet.self, from: JSONSerialization.data(withJSONObject: keysObject)
      ).keys
      let list = try await client.get("/v1/models/\(model)/claims")
      let claims = (list["data"] as? [[String: Any]] ?? []).filter {
        claim == nil || $0["id"] as? String == claim
      }
      guard !claims.isEmpty else {
        throw ValidationError("\(model): no claim\(claim.map { " '\($0)'" } ?? "s") to check")
      }
      let seed = seed ?? UInt64.random(in: 0...UInt64(UInt32.max))
      print("sample seed \(seed)")
      for object in claims {
        holds = try await check(object, keys: keys, client: client, seed: seed) && holds
      }
    } catch let error as ValidationError {
      throw error
    } catch {
      printError("muse: error: \(error)")
      throw ExitCode.failure
    }
    if !holds { throw ExitCode(2) }
  }

  private func check(
    _ object: [String: Any], keys: [ServerIdentity.PublicKey], client: OpenAIClient, seed: UInt64
  ) async throws -> Bool {
    let id = object["id"] as? String ?? "?"
    print("claim \(id): \(object["statement"] as? String ?? "")")
    var holds = true
    func report(_ ok: Bool, _ what: String) {
      print((ok ? "  ok      " : "  FAILED  ") + what)
      if !ok { holds = false }
    }
    let attestation = try Attestation(
      json: JSONSerialization.data(withJSONObject: object["attestation"] ?? [:]))
    do {
      try attestation.verify(keys: keys)
      report(true, "the attestation is signed by \(attestation.string("key_id") ?? "?"), a published key")
    } catch {
      report(false, "the attestation: \(error)")
      return false
    }
    report(attestation.string("model") == model, "it attests the model \(model)")
    let text = try await client.getText(object["items_url"] as? String ?? "")
    let attested = try EvalAttestation.results(jsonl: text, file: "items of \(id)")
    let problems = EvalAttestation.problems(attestation, items: attested)
    report(
      problems.isEmpty,
      problems.isEmpty
        ? "the \(attested.count) item results hash and score as attested" : problems.joined(separator: "; "))

    // Score a random sample again, the same way.
    let task = try EvalTasks.named(attestation.string("task") ?? "")
    let mode = try ScoringMode(rawValue: attestation.string("mode") ?? "").orThrow("an unknown scoring mode")
    let dataDirectory = dataDir.map { URL(fileURLWithPath: $0) } ?? EvalData.defaultDirectory()
    let localHash = try EvalData.datasetHash(files: task.dataFiles(in: dataDirectory), in: dataDirectory)
    guard localHash == attestation.string("dataset_sha256") else {
      report(false, "the local \(task.name) data is not the attested data set (\(dataDirectory.path))")
      return false
    }
    let items = try task.loadItems(dataDirectory: dataDirectory, shots: attestation.int("shots") ?? 0)
    let byID = Dictionary(items.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
    let chosen = EvalAttestation.sample(attested.map(\.id), count: sample, seed: seed)
    let runner = EvalRunner(task: task, client: client, concurrency: concurrency)
    var agree = 0
    var values: [Double] = []
    let metric = Self.metric(of: attestation)
    for itemID in chosen {
      guard let item = byID[itemID], let claimed = attested.first(where: { $0.id == itemID }) else {
        continue
      }
      let again = try await runner.score(item, mode: mode)
      if again.prediction == claimed.prediction { agree += 1 }
      if let metric, let value = again.metrics[metric] { values.append(value) }
    }
    report(agree == chosen.count, "\(agree) of \(chosen.count) items scored again give the attested answer")
    if let metric, let claimedText = attestation.string("score.\(metric)"),
      let claimedScore = Double(claimedText),
      !values.isEmpty
    {
      let score = ScoreInterval(values: values)
      let interval = score.wilson ?? score.normal
      let inside = interval[0] <= claimedScore && claimedScore <= interval[1]
      report(
        inside,
        String(
          format: "%@ %.4f on the sample, 95%% %@ interval [%.4f, %.4f], claimed %@", metric, score.mean,
          score.wilson == nil ? "normal" : "Wilson", interval[0], interval[1], claimedText))
    }
    print(holds ? "  the claim holds" : "  the claim does NOT hold")
    return holds
  }

  /// The headline metric: acc_norm, then acc, then the first attested.
  static func metric(of attestation: Attestation) -> String? {
    let names = attestation.payload.keys.filter { $0.hasPrefix("score.") }.map { String($0.dropFirst(6)) }
      .sorted()
    return ["acc_norm", "acc", "mc2", "mc1", "exact_match"].first { names.contains($0) } ?? names.first
  }
}

extension Optional {
  func orThrow(_ what: String) throws -> Wrapped {
    guard let self else { throw ValidationError(what) }
    return self
  }
}
