/// One sequence's part of a batched forward step: its new tokens, the position of the first,
/// the store holding its past keys and values, and which logits it wants back.
public struct BatchSegment {
  public enum Logits: Sendable, Equatable {
    /// A prefill chunk that does not end the prompt: only its keys and values are wanted.
    case none
    /// The next-token distribution after the segment's last token.
    case last
    /// One row per token (perplexity, tests).
    case all
  }

  public let tokens: [Int]
  public let start: Int
  public let cache: KeyValueStore
  public let logits: Logits

  public init(tokens: [Int], start: Int, cache: KeyValueStore, logits: Logits = .last) {
    self.tokens = tokens
    self.start = start
    self.cache = cache
    self.logits = logits
  }

  /// Logit rows this segment gets back.
  var logitRows: Int {
    switch logits {
    case .none: 0
    case .last: 1
    case .all: tokens.count
    }
  }
}

/// Where a segment's rows sit in the batch's concatenated hidden states.
struct SegmentRows {
  let firstRow: Int
  let count: Int
  let start: Int
  let cache: KeyValueStore
}
