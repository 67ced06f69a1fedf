import ArgumentParser
import Foundation
import MuseEval
import MuseServer
import MuseStore

/// What `muse eval --attest`, `muse claims add` and `muse verify-claim` share: the fields an
/// eval attestation signs, built from a run's summary, and the per-item results read back.
enum EvalAttestation {
  /// The signed fields (integers and strings) of a run: configuration, hashes, each metric's
  /// score, stderr and 95 % interval (normal approximation, as lm-eval reports), the model's
  /// published weights digests and the ids of the items whose receipts come with it.
  static func fields(
    _ summary: EvalSummary, weightsSHA256: String?, weightsRoot: String?, sampleIDs: [String]
  ) -> [String: ReceiptValue] {
    let c = summary.configuration
    var fields: [String: ReceiptValue] = [
      "task": .string(c.task), "mode": .string(c.mode.rawValue), "model": .string(c.model),
      "base_url": .string(c.baseURL), "shots": .int(c.shots), "items": .int(summary.items),
      "dataset_sha256": .string(c.datasetSHA256), "prompt_format_sha256": .string(c.promptFormatSHA256),
      "results_sha256": .string(summary.resultsSHA256), "temperature": .string("0"),
      "sample_items": .string(sampleIDs.joined(separator: ",")),
    ]
    if let limit = c.limit { fields["limit"] = .int(limit) }
    if let seed = c.sampleSeed { fields["sample_seed"] = .string(String(seed)) }
    if let maxTokens = c.maxTokens { fields["max_tokens"] = .int(maxTokens) }
    if let weightsSHA256 { fields["weights_sha256"] = .string(weightsSHA256) }
    if let weightsRoot { fields["weights_root"] = .string(weightsRoot) }
    for (name, score) in summary.metrics {
      fields["score.\(name)"] = .string(format(score.mean))
      fields["stderr.\(name)"] = .string(format(score.stderr))
      fields["interval.\(name)"] = .string(format(score.normal[0]) + "," + format(score.normal[1]))
    }
    return fields
  }

  static func format(_ value: Double) -> String { String(format: "%.6f", value) }

  /// The per-item results of `items.jsonl` text; the error names the line.
  static func results(jsonl: String, file: String) throws -> [ItemResult] {
    var results: [ItemResult] = []
    for (i, line) in jsonl.split(separator: "\n", omittingEmptySubsequences: true).enumerated() {
      do {
        results.append(try JSONDecoder().decode(ItemResult.self, from: Data(line.utf8)))
      } catch {
        throw ValidationError("\(file): line \(i + 1) is not an item result (\(error))")
      }
    }
    return results
  }

  /// Checks that `items` are what `attestation` signed: their hash, count and every score.
  /// Returns the problems found (none: the results are the attested ones).
  static func problems(_ attestation: Attestation, items: [ItemResult]) -> [String] {
    var problems: [String] = []
    let hash = (try? EvalSummary.resultsHash(items)) ?? ""
    if attestation.string("results_sha256") != hash {
      problems.append("the per-item results do not hash to the attested results_sha256")
    }
    if attestation.int("items") != items.count {
      problems.append("\(items.count) items where the attestation says \(attestation.int("items") ?? 0)")
    }
    for (field, value) in attestation.payload where field.hasPrefix("score.") {
      let metric = String(field.dropFirst("score.".count))
      let recomputed = ScoreInterval(values: items.compactMap { $0.metrics[metric] }).mean
      if case .string(let claimed) = value, claimed != format(recomputed) {
        problems.append("\(metric): the items give \(format(recomputed)), the attestation says \(claimed)")
      }
    }
    return problems
  }

  /// Draws `count` ids from `ids` with `seed` as `muse eval --sample-seed` draws items (the
  /// same draw for the same inputs on every platform), in id order.
  static func sample(_ ids: [String], count: Int, seed: UInt64) -> [String] {
    ItemSelection.select(ids.sorted(), limit: count, seed: seed)
  }
}
