import Foundation
import MuseModels

/// Everything one generation carries from step to step: its sampler, streaming decoder, stop
/// sequences, history and result. `muse run`'s single-sequence loop and the batch scheduler
/// both drive it, so a request behaves the same whichever runs it.
struct GenerationState {
  let prompt: [Int]
  let maxTokens: Int
  let logprobs: Int?
  /// Positions the sequence may use: its prompt and completion, within the context window.
  let capacity: Int
  private let tokenizer: Tokenizer
  private let ignoresEndOfGeneration: Bool
  private var sampler: Sampler
  private var decoder: StreamingDecoder
  private var matcher: StopSequenceMatcher
  /// The grammar the text must follow, if the request has one.
  let constrained: ConstrainedDecoder?
  private(set) var history: [Int]
  private(set) var result = GenerationResult()
  private var pending: [TokenLogprob] = []
  private var stoppedBySequence = false
  private(set) var finished = false

  init(
    prompt: [Int], maxTokens: Int, sampling: SamplingParameters, stop: [String], logprobs: Int?,
    tokenizer: Tokenizer, contextLength: Int, constraint: GenerationConstraint? = nil
  ) throws {
    guard prompt.count < contextLength else {
      throw ModelError.contextOverflow(tokens: prompt.count, contextLength: contextLength)
    }
    self.prompt = prompt
    self.maxTokens = maxTokens
    self.logprobs = logprobs
    self.tokenizer = tokenizer
    ignoresEndOfGeneration = sampling.ignoreEOS
    capacity = min(contextLength, prompt.count + maxTokens)
    sampler = Sampler(sampling, completionStart: prompt.count)
    decoder = StreamingDecoder(tokenizer: tokenizer)
    matcher = StopSequenceMatcher(stops: stop)
    constrained = constraint.map { ConstrainedDecoder($0, tokenizer: tokenizer) }
    history = prompt
    result.promptTokens = prompt.count
  }

  /// The token to run next: the last one chosen.
  var lastToken: Int { history[history.count - 1] }
  /// Where `lastToken` goes in the cache.
  var nextPosition: Int { history.count - 1 }

  /// Chooses the next token from `logits` and streams its text. Returns false when the
  /// generation is over (end of turn, stop sequence, limits, or `onPiece` said stop);
  /// `finish` then completes the result.
  mutating func accept(_ logits: [Float], onPiece: (String, [TokenLogprob]) -> Bool) -> Bool {
    accept(choose(logits), onPiece: onPiece)
  }

  /// The sampling half of `accept`: touches only this generation's state, so the scheduler
  /// runs it for all sequences of a step in parallel. Nil when the generation is at its limit.
  mutating func choose(_ logits: [Float]) -> Choice? {
    guard result.tokens.count < maxTokens else { return nil }
    let token: Int
    if let constrained {
      // No token the grammar allows: the vocabulary cannot spell what it needs.
      guard
        let allowed = constrained.choose(
          logits, sampler: &sampler, history: history, endAllowed: !ignoresEndOfGeneration)
      else { return Choice(token: Choice.noneAllowed, logprob: nil) }
      token = allowed
    } else {
      token = sampler.sample(logits, history: history)
    }
    // The end of sequence keeps its entry too: a client scoring the reply sees why it ended.
    guard let logprobs else { return Choice(token: token, logprob: nil) }
    let lp = TokenLogprob.compute(logits: logits, chosen: token, top: logprobs) { tokenizer.tokenBytes($0) }
    return Choice(token: token, logprob: lp)
  }

  private func ends(_ token: Int) -> Bool {
    !ignoresEndOfGeneration && tokenizer.isEndOfGeneration(token)
  }

  struct Choice {
    /// The token, or `noneAllowed` when a grammar left no token to choose.
    let token: Int
    static let noneAllowed = -1
    let logprob: TokenLogprob?
  }

  /// The streaming half of `accept`, with the token `choose` picked.
  mutating func accept(_ choice: Choice?, onPiece: (String, [TokenLogprob]) -> Bool) -> Bool {
    guard let choice else { return false }
    let token = choice.token
    if token == Choice.noneAllowed || ends(token) {
      // Its text is not part of the reply; its log-probability is kept beside it.
      if token != Choice.noneAllowed { result.endLogprob = choice.logprob }
      result.finishReason = .stop
      return false
    }
    if let lp = choice.logprob {
      pending.append(lp)
      result.logprobs.append(lp)
    }
    result.tokens.append(token)
    history.append(token)
    let outcome = constrained?.accept(token) ?? .open
    let (piece, stopped) = matcher.append(decoder.append(token))
    result.text += piece
    if !piece.isEmpty {
      defer { pending.removeAll() }
      if !onPiece(piece, pending) {
        result.finishReason = .cancelled
        return false
      }
    }
    if stopped {
      stoppedBySequence = true
      result.finishReason = .stop
      return false
    }
    // A complete grammar admits nothing more (a refused one, nothing at all).
    if outcome != .open {
      result.finishReason = .stop
      return false
    }
    // The token just chosen sits at nextPosition; running it needs one more position.
    if result.tokens.count == maxTokens || nextPosition + 1 >= capacity {
      result.finishReason = .length
      return false
    }
    return true
  }

  /// Ends the generation as cancelled (its consumer went away between steps).
  mutating func cancel() {
    result.finishReason = .cancelled
  }

  /// Flushes text held back by the decoder and the stop matcher, unless the generation was
  /// cancelled or cut by a stop sequence, and returns the result.
  mutating func finish(
    prefillSeconds: Double, decodeSeconds: Double, onPiece: (String, [TokenLogprob]) -> Bool
  ) -> GenerationResult {
    if !finished && result.finishReason != .cancelled && !stoppedBySequence {
      let tail = matcher.append(decoder.flush()).text + matcher.finish()
      result.text += tail
      if !tail.isEmpty { _ = onPiece(tail, pending) }
    }
    finished = true
    result.constraintMasks = constrained?.fullMasks ?? 0
    result.prefillSeconds = prefillSeconds
    result.decodeSeconds = decodeSeconds
    return result
  }
}
