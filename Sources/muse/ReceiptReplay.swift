import Foundation
import MuseEngine
import MuseModels
import MuseServer

/// `muse verify --model F.gguf`: what an auditor with the weights checks beyond the signature
/// and hashes — that the file is the one the receipt names, that the request renders to the
/// prompt the model saw, and, by one prefill pass, that the reply's activation commitment is
/// what these weights compute for these tokens. The file's digests are computed once for all
/// the receipts checked.
final class ReceiptReplay {
  let lm: LanguageModel
  private lazy var root: String? = lm.gguf.map { WeightsCommitment(file: $0).root }
  private lazy var sha256: String? = lm.gguf.map { WeightsDigest.sha256(of: $0) }

  init(model: LanguageModel) { lm = model }

  func check(_ entry: ReceiptFile.Entry, request: Data?) -> [ReceiptCheck] {
    var checks: [ReceiptCheck] = []
    func add(_ name: String, _ problem: String?) { checks.append(ReceiptCheck(name: name, problem: problem)) }
    let receipt = entry.receipt
    if let claimed = receipt.string("weights_root"), let ours = root {
      add("weights file", ours == claimed ? nil : "its weights_root \(ours) is not the receipt's \(claimed)")
    } else if let claimed = receipt.string("weights_sha256"), let ours = sha256 {
      add("weights file", ours == claimed ? nil : "its SHA-256 \(ours) is not the receipt's \(claimed)")
    }
    guard let prompt = entry.promptTokenIDs, let completion = entry.completionTokenIDs else {
      add("replay", "no token ids: fetch the receipt with --id (GET /v1/receipts/{id})")
      return checks
    }
    if let request {
      let (tokens, what) = RequestPrompt.tokens(request: request, model: lm)
      if let tokens {
        add(
          "prompt",
          tokens == prompt
            ? nil
            : "\(what) render to \(tokens.count) tokens, not the \(prompt.count) the model saw "
              + "(a system prompt added, or text redacted by the input rails)")
      }
    }
    guard let bytes = entry.activations else {
      add("activations", "the receipt came without an activation commitment")
      return checks
    }
    guard let commitment = ActivationCommitment(encoded: Array(bytes)), commitment.tokens == completion.count
    else {
      add("activations", "not an activation commitment of \(completion.count) tokens")
      return checks
    }
    // That these bytes are the ones the receipt signs is ReceiptVerifier's "activation commitment".
    do {
      let rows = try lm.committedRows(prompt: prompt, generated: completion, kvCacheType: .f16)
      let results = commitment.check(rows: rows) ?? []
      let failed = results.enumerated().filter { !$0.element.passes }
      add(
        "activations (\(results.count) chunks by one prefill)",
        failed.isEmpty
          ? nil
          : "chunk \(failed[0].offset): overlap \(failed[0].element.overlap), relative error "
            + String(format: "%.4f", failed[0].element.relativeError)
            + " — these weights did not compute this reply from this prompt")
    } catch {
      add("activations", "the prefill failed: \(error)")
    }
    return checks
  }
}
