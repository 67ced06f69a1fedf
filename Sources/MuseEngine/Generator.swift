import Foundation
import MuseKernels
import MuseModels

/// Why generation stopped, in OpenAI's words.
public enum FinishReason: String, Sendable {
  /// The model ended its turn or a stop sequence appeared.
  case stop
  /// The token limit or the context window was reached.
  case length
  /// The caller asked to stop.
  case cancelled
  /// The server's guardrails ended the reply (OpenAI's `content_filter`).
  case contentFilter = "content_filter"
}

public struct GenerationResult: Sendable {
  public var tokens: [Int] = []
  public var text = ""
  public var promptTokens = 0
  public var finishReason = FinishReason.length
  /// Per generated token, when asked for.
  public var logprobs: [TokenLogprob] = []
  /// With logprobs: the step that chose the end of sequence (a token with no text, not in
  /// `tokens`), as the completions API reports it.
  public var endLogprob: TokenLogprob?
  /// With a constraint: the steps whose sampled token the grammar refused, so the whole
  /// vocabulary was masked and the sampler run again.
  public var constraintMasks = 0
  /// With `GenerationRequest.commitActivations`: the commitment to the hidden states that
  /// chose `tokens`.
  public var activations: ActivationCommitment?
  public var prefillSeconds = 0.0
  public var decodeSeconds = 0.0

  /// Prompt tokens per second of prefill.
  public var prefillRate: Double { prefillSeconds > 0 ? Double(promptTokens) / prefillSeconds : 0 }
  /// Generated tokens per second, counting from the first generated token (whose logits
  /// came out of prefill) to the last.
  public var decodeRate: Double { decodeSeconds > 0 ? Double(max(tokens.count - 1, 0)) / decodeSeconds : 0 }
}

extension LanguageModel {
  /// Generates after `prompt`, calling `onText` with each piece of complete UTF-8 text as it
  /// is produced; `onText` returns false to stop.
  public func generate(
    prompt: [Int], maxTokens: Int, sampling: SamplingParameters, stop: [String] = [],
    constraint: GenerationConstraint? = nil, onText: (String) -> Bool = { _ in true }
  ) throws -> GenerationResult {
    try generate(
      prompt: prompt, maxTokens: maxTokens, sampling: sampling, stop: stop, logprobs: nil,
      constraint: constraint, onPiece: { text, _ in onText(text) })
  }

  /// Generates as above; with `logprobs` (the number of alternatives, 0–20) every generated
  /// token's log-probability is computed, reported with the piece of text it completed. With
  /// `constraint` the text follows its grammar and ends (`stop`) when the grammar is complete.
  public func generate(
    prompt: [Int], maxTokens: Int, sampling: SamplingParameters, stop: [String], logprobs: Int?,
    constraint: GenerationConstraint? = nil, onPiece: (String, [TokenLogprob]) -> Bool
  ) throws -> GenerationResult {
    var state = try GenerationState(
      prompt: prompt, maxTokens: maxTokens, sampling: sampling, stop: stop, logprobs: logprobs,
      tokenizer: tokenizer, contextLength: contextLength, constraint: constraint)
    let cache = KVCache(config: config, capacity: state.capacity, type: kvCacheType)
    let clock = ContinuousClock()
    let prefillStart = clock.now
    var logits = try model.forward(prompt, start: 0, cache: cache, pool: pool)
    let prefillSeconds = (clock.now - prefillStart).seconds
    let decodeStart = clock.now
    while state.accept(logits, onPiece: onPiece) {
      logits = try model.forward([state.lastToken], start: state.nextPosition, cache: cache, pool: pool)
    }
    return state.finish(
      prefillSeconds: prefillSeconds, decodeSeconds: (clock.now - decodeStart).seconds, onPiece: onPiece)
  }
}

extension Duration {
  var seconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}
