import Crypto
import Foundation

/// What defines a run: two runs with the same configuration score the same items the same way,
/// so a resumed run may add to the results only when this is unchanged. Written as
/// `config.json` in the output directory.
public struct EvalConfiguration: Codable, Equatable, Sendable {
  public var task: String
  public var mode: ScoringMode
  public var model: String
  public var baseURL: String
  public var shots: Int
  public var limit: Int?
  public var sampleSeed: UInt64?
  public var maxTokens: Int?
  public var datasetSHA256: String
  public var promptFormatSHA256: String
  /// The version of the per-item result format.
  public var resultFormat = 1

  public init(
    task: String, mode: ScoringMode, model: String, baseURL: String, shots: Int, limit: Int?,
    sampleSeed: UInt64?,
    maxTokens: Int?, datasetSHA256: String, promptFormatSHA256: String
  ) {
    self.task = task
    self.mode = mode
    self.model = model
    self.baseURL = baseURL
    self.shots = shots
    self.limit = limit
    self.sampleSeed = sampleSeed
    self.maxTokens = maxTokens
    self.datasetSHA256 = datasetSHA256
    self.promptFormatSHA256 = promptFormatSHA256
  }

  enum CodingKeys: String, CodingKey {
    case task, mode, model, shots, limit
    case baseURL = "base_url"
    case sampleSeed = "sample_seed"
    case maxTokens = "max_tokens"
    case datasetSHA256 = "dataset_sha256"
    case promptFormatSHA256 = "prompt_format_sha256"
    case resultFormat = "result_format"
  }

  /// The fields that differ from `other`, by their JSON names.
  public func differences(from other: EvalConfiguration) -> [String] {
    let mine = (try? JSONSerialization.jsonObject(with: JSONOutput.encode(self))) as? [String: Any] ?? [:]
    let theirs = (try? JSONSerialization.jsonObject(with: JSONOutput.encode(other))) as? [String: Any] ?? [:]
    return Set(mine.keys).union(theirs.keys).sorted().filter { key in
      (mine[key].map { "\($0)" }) != (theirs[key].map { "\($0)" })
    }
  }
}

/// One item's result: a line of `items.jsonl`.
public struct ItemResult: Codable, Equatable, Sendable {
  public var id: String
  public var gold: String
  public var prediction: String?
  public var metrics: [String: Double]
  /// Log-likelihood mode: each choice's summed logprob and whether it was greedy.
  public var loglikelihoods: [Double]?
  public var greedy: [Bool]?
  /// Generation mode: the reply.
  public var reply: String?

  public init(
    id: String, gold: String, prediction: String?, metrics: [String: Double], loglikelihoods: [Double]? = nil,
    greedy: [Bool]? = nil, reply: String? = nil
  ) {
    self.id = id
    self.gold = gold
    self.prediction = prediction
    self.metrics = metrics
    self.loglikelihoods = loglikelihoods
    self.greedy = greedy
    self.reply = reply
  }
}

/// Stable JSON: sorted keys, no escaped slashes, so the same values give the same bytes (an
/// attestation can hash the results file and the summary).
public enum JSONOutput {
  public static func encode<T: Encodable>(_ value: T) throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return try encoder.encode(value)
  }

  public static func sha256(_ data: Data) -> String {
    SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
  }
}

public enum EvalRunError: Error, CustomStringConvertible, Equatable {
  case configurationChanged(directory: String, fields: [String])
  case unreadable(file: String, problem: String)

  public var description: String {
    switch self {
    case .configurationChanged(let directory, let fields):
      return
        "\(directory) holds results of another configuration (differing: \(fields.joined(separator: ", "))); "
        + "use another --output directory, or delete it to start again"
    case .unreadable(let file, let problem): return "\(file): \(problem)"
    }
  }
}

/// The output directory: `config.json`, `items.jsonl` (one `ItemResult` a line, appended as
/// items finish), `summary.json`.
public actor ResultsDirectory {
  public nonisolated let directory: URL
  var handle: FileHandle?

  public nonisolated var configFile: URL { directory.appendingPathComponent("config.json") }
  public nonisolated var itemsFile: URL { directory.appendingPathComponent("items.jsonl") }
  public nonisolated var summaryFile: URL { directory.appendingPathComponent("summary.json") }

  public init(directory: URL) { self.directory = directory }

  /// Opens the directory for `configuration`: creates it, or checks that the results in it
  /// were made by the same configuration, and returns the results already there. A last line
  /// cut short by an interruption is dropped (its item is sent again).
  public func open(for configuration: EvalConfiguration) throws -> [ItemResult] {
    let files = FileManager.default
    try files.createDirectory(at: directory, withIntermediateDirectories: true)
    if files.fileExists(atPath: configFile.path) {
      let data = try Data(contentsOf: configFile)
      guard let existing = try? JSONDecoder().decode(EvalConfiguration.self, from: data) else {
        throw EvalRunError.unreadable(file: configFile.path, problem: "not a muse eval configuration")
      }
      let fields = configuration.differences(from: existing)
      if !fields.isEmpty {
        throw EvalRunError.configurationChanged(directory: directory.path, fields: fields)
      }
    } else {
      try JSONOutput.encode(configuration).write(to: configFile)
    }
    var results: [ItemResult] = []
    var keptBytes = 0
    if files.fileExists(atPath: itemsFile.path) {
      let data = try Data(contentsOf: itemsFile)
      var start = data.startIndex
      while let newline = data[start...].firstIndex(of: UInt8(ascii: "\n")) {
        guard let result = try? JSONDecoder().decode(ItemResult.self, from: data[start..<newline]) else {
          throw EvalRunError.unreadable(
            file: itemsFile.path, problem: "line \(results.count + 1) is not an item result")
        }
        results.append(result)
        start = newline + 1
      }
      keptBytes = start - data.startIndex
    } else {
      files.createFile(atPath: itemsFile.path, contents: nil)
    }
    let handle = try FileHandle(forWritingTo: itemsFile)
    try handle.truncate(atOffset: UInt64(keptBytes))
    try handle.seekToEnd()
    self.handle = handle
    return results
  }

  /// Appends one result as a line, written in one call and synced, so an interruption loses at
  /// most the line being written.
  public func append(_ result: ItemResult) throws {
    guard let handle else { return }
    try handle.write(contentsOf: JSONOutput.encode(result) + Data([UInt8(ascii: "\n")]))
    try handle.synchronize()
  }

  public func close() throws {
    try handle?.close()
    handle = nil
  }

  public func writeSummary(_ summary: EvalSummary) throws {
    var data = try JSONOutput.encode(summary)
    data.append(UInt8(ascii: "\n"))
    try data.write(to: summaryFile)
  }
}

/// The score of a run: what `summary.json` holds.
public struct EvalSummary: Codable, Equatable, Sendable {
  public var configuration: EvalConfiguration
  public var promptFormat: String
  /// Why the mode was chosen (`--mode auto`).
  public var modeReason: String
  public var items: Int
  public var metrics: [String: ScoreInterval]
  /// Items with no answer extracted from the reply (generation; counted wrong).
  public var unanswered: Int
  /// SHA-256 of the results sorted by id, each as its stable JSON line ending in "\n".
  public var resultsSHA256: String

  enum CodingKeys: String, CodingKey {
    case configuration, items, metrics, unanswered
    case promptFormat = "prompt_format"
    case modeReason = "mode_reason"
    case resultsSHA256 = "results_sha256"
  }

  public init(
    configuration: EvalConfiguration, promptFormat: String, modeReason: String, metricNames: [String],
    results: [ItemResult]
  ) throws {
    self.configuration = configuration
    self.promptFormat = promptFormat
    self.modeReason = modeReason
    items = results.count
    var metrics: [String: ScoreInterval] = [:]
    for name in metricNames { metrics[name] = ScoreInterval(values: results.compactMap { $0.metrics[name] }) }
    self.metrics = metrics
    unanswered = configuration.mode == .generate ? results.filter { $0.prediction == nil }.count : 0
    resultsSHA256 = try Self.resultsHash(results)
  }

  /// SHA-256 of `results` sorted by id, each as its stable JSON line ending in "\n".
  public static func resultsHash(_ results: [ItemResult]) throws -> String {
    var lines = Data()
    for result in results.sorted(by: { $0.id < $1.id }) {
      lines.append(try JSONOutput.encode(result))
      lines.append(UInt8(ascii: "\n"))
    }
    return JSONOutput.sha256(lines)
  }
}
