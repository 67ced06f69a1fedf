import Crypto
import Foundation
import MuseEngine
import MuseModels
import MuseServer

/// `muse verify --model F.gguf`: what an auditor with the weights checks beyond the signature
/// and hashes — that the file is the one the receipt names, that the request renders to the
/// prompt the model saw, and, by one prefill pass, that the reply's activation commitment is
/// what these weights compute for these tokens.
enum ReceiptReplay {
  static func check(_ entry: ReceiptFile.Entry, request: Data?, model lm: LanguageModel) -> [ReceiptCheck] {
    var checks: [ReceiptCheck] = []
    func add(_ name: String, _ problem: String?) { checks.append(ReceiptCheck(name: name, problem: problem)) }
    let receipt = entry.receipt
    if let gguf = lm.gguf {
      if let root = receipt.string("weights_root") {
        let ours = WeightsCommitment(file: gguf).root
        add("weights file", ours == root ? nil : "its weights_root \(ours) is not the receipt's \(root)")
      } else if let digest = receipt.string("weights_sha256") {
        let ours = WeightsDigest.sha256(of: gguf, cacheDirectory: NSTemporaryDirectory())
        add("weights file", ours == digest ? nil : "its SHA-256 \(ours) is not the receipt's \(digest)")
      }
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
    if let signed = receipt.string("activations_sha256") {
      let hash = Array(SHA256.hash(data: bytes)).hexString
      add("activations hash", hash == signed ? nil : "the commitment's SHA-256 is not the receipt's")
    }
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
