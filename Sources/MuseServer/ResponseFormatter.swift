import Foundation
import MuseEngine
import MuseModels

/// Shapes generated text into one endpoint's JSON: the whole response, or its stream chunks.
/// A formatter may hold text back (a chat reply's possible tool-call opener) until a later
/// piece or the end decides what it is, so a piece gives zero or more chunks.
protocol ResponseFormatter: Sendable {
  associatedtype Complete: Encodable
  associatedtype Chunk: Encodable
  /// `filter`: the guardrail that ended the reply, shown beside `finish_reason: "content_filter"`.
  func complete(text: String, result: GenerationResult, logprobs: [TokenLogprob]?, filter: GuardViolation?)
    -> Complete
  func start(echo: String?) -> Chunk
  func deltas(_ text: String, logprobs: [TokenLogprob]?) -> [Chunk]
  /// What was held back, then the chunk with the finish reason.
  func end(result: GenerationResult, filter: GuardViolation?) -> [Chunk]
  func usage(result: GenerationResult) -> Chunk
  /// Whether the first chunk waits for the model's first output (it carries the prompt's
  /// scores, known once the prompt is prefilled).
  var holdsStart: Bool { get }
  /// The response's id, model and creation time, which every chunk repeats.
  var id: String { get }
  var model: String { get }
  var created: Int { get }
  /// The `object` of a stream chunk.
  var chunkObject: String { get }
}

extension ResponseFormatter {
  var holdsStart: Bool { false }

  /// The stream's last chunk before `[DONE]`: no choices, the reply's signed receipt.
  func receiptChunk(_ receipt: Receipt) -> ReceiptChunk {
    ReceiptChunk(id: id, object: chunkObject, created: created, model: model, receipt: receipt)
  }
}

/// A stream chunk that carries the reply's receipt (shaped like the usage chunk: no choices).
struct ReceiptChunk: Encodable {
  let id: String
  let object: String
  let created: Int
  let model: String
  let choices: [String] = []
  let receipt: Receipt
}

/// OpenAI's finish reason for a generation's end.
func finishReason(_ r: GenerationResult) -> String {
  switch r.finishReason {
  case .length: "length"
  case .contentFilter: "content_filter"
  case .stop, .cancelled: "stop"
  }
}

// swiftlint:disable identifier_name
/// Chat log-probabilities in OpenAI's shape: `{"content": [{token, logprob, bytes, top_logprobs}]}`.
struct ChatLogprobs: Encodable {
  struct Top: Encodable {
    let token: String
    let logprob: Float
    let bytes: [UInt8]
  }
  struct Entry: Encodable {
    let token: String
    let logprob: Float
    let bytes: [UInt8]
    let top_logprobs: [Top]
  }
  let content: [Entry]

  init(_ lps: [TokenLogprob]) {
    content = lps.map { lp in
      Entry(
        token: lp.token, logprob: lp.logprob, bytes: lp.bytes,
        top_logprobs: lp.top.map { Top(token: $0.token, logprob: $0.logprob, bytes: $0.bytes) })
    }
  }
}

/// The completions endpoint's older shape: parallel arrays and a dict of alternatives (`null`
/// for an echoed prompt's first token, which nothing predicts).
struct CompletionLogprobs: Encodable {
  let tokens: [String]
  let token_logprobs: [Float?]
  let top_logprobs: [[String: Float]?]
  let text_offset: [Int]

  init(tokens: [String], token_logprobs: [Float?], top_logprobs: [[String: Float]?], text_offset: [Int]) {
    self.tokens = tokens
    self.token_logprobs = token_logprobs
    self.top_logprobs = top_logprobs
    self.text_offset = text_offset
  }

  init(_ lps: [TokenLogprob], offset: Int) {
    tokens = lps.map(\.token)
    token_logprobs = lps.map(\.logprob)
    top_logprobs = lps.map(Self.alternatives)
    var offsets: [Int] = []
    var at = offset
    for lp in lps {
      offsets.append(at)
      at += lp.token.count
    }
    text_offset = offsets
  }

  static func alternatives(_ lp: TokenLogprob) -> [String: Float] {
    Dictionary(lp.top.map { ($0.token, $0.logprob) }, uniquingKeysWith: max)
  }
}
// swiftlint:enable identifier_name

// swiftlint:disable identifier_name
struct CompletionFormatter: ResponseFormatter {
  let model: String
  let id: String
  let created = Int(Date().timeIntervalSince1970)
  var chunkObject: String { "text_completion" }

  init(
    model: String,
    id: String = "cmpl-" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
  ) {
    self.model = model
    self.id = id
  }

  struct Choice: Encodable {
    let text: String
    let index: Int
    let logprobs: CompletionLogprobs?
    let finish_reason: String?
    /// Muse's addition: which guardrail ended a `content_filter` reply.
    var content_filter: GuardViolation?
    func encode(to encoder: Encoder) throws {
      var c = encoder.container(keyedBy: CodingKeys.self)
      try c.encode(text, forKey: .text)
      try c.encode(index, forKey: .index)
      try c.encode(logprobs, forKey: .logprobs)
      try c.encode(finish_reason, forKey: .finish_reason)
      try c.encodeIfPresent(content_filter, forKey: .content_filter)
    }
    enum CodingKeys: String, CodingKey { case text, index, logprobs, finish_reason, content_filter }
  }
  struct Complete: Encodable {
    let id: String
    let object = "text_completion"
    let created: Int
    let model: String
    let choices: [Choice]
    let usage: Usage?
  }
  typealias Chunk = Complete

  /// `echo` with `logprobs`: the prompt scored in front of the completion.
  struct Scoring: Sendable {
    let prompt: [Int]
    let echo: String
    let scores: PromptScores
    let tokenizer: Tokenizer
    func logprobs(_ completion: [TokenLogprob]) -> CompletionLogprobs {
      CompletionLogprobs(
        prompt: prompt, echo: echo, scores: scores.logprobs ?? [], completion: completion,
        tokenizer: tokenizer)
    }
  }
  var scoring: Scoring?
  /// Where the next streamed completion token's `text_offset` starts.
  let streamed = OffsetCounter()

  var holdsStart: Bool { scoring != nil }

  func complete(text: String, result: GenerationResult, logprobs: [TokenLogprob]?, filter: GuardViolation?)
    -> Complete
  {
    let offset = text.count - result.text.count
    // The end of sequence's entry closes the list, as OpenAI's completions returned it.
    let all = logprobs.map { $0 + (result.endLogprob.map { [$0] } ?? []) }
    let shaped =
      if let scoring { all.map { scoring.logprobs($0) } } else {
        all.map { CompletionLogprobs($0, offset: offset) }
      }
    return Complete(
      id: id, created: created, model: model,
      choices: [
        Choice(
          text: text, index: 0, logprobs: shaped, finish_reason: finishReason(result), content_filter: filter)
      ],
      usage: Usage(prompt: result.promptTokens, completion: result.tokens.count))
  }

  func chunk(
    _ text: String, finish: String? = nil, logprobs: CompletionLogprobs? = nil, filter: GuardViolation? = nil
  ) -> Chunk {
    Complete(
      id: id, created: created, model: model,
      choices: [
        Choice(text: text, index: 0, logprobs: logprobs, finish_reason: finish, content_filter: filter)
      ],
      usage: nil)
  }

  func start(echo: String?) -> Chunk {
    guard let scoring else { return chunk(echo ?? "") }
    streamed.set(scoring.echo.unicodeScalars.count)
    return chunk(scoring.echo, logprobs: scoring.logprobs([]))
  }
  func deltas(_ text: String, logprobs: [TokenLogprob]?) -> [Chunk] {
    guard let logprobs else { return [chunk(text)] }
    guard scoring != nil else { return [chunk(text, logprobs: CompletionLogprobs(logprobs, offset: 0))] }
    let at = streamed.advance(by: logprobs.reduce(0) { $0 + $1.token.unicodeScalars.count })
    var shaped = CompletionLogprobs(logprobs, offset: 0)
    shaped = CompletionLogprobs(
      tokens: shaped.tokens, token_logprobs: shaped.token_logprobs, top_logprobs: shaped.top_logprobs,
      text_offset: logprobs.indices.map { i in
        at + logprobs[..<i].reduce(0) { $0 + $1.token.unicodeScalars.count }
      })
    return [chunk(text, logprobs: shaped)]
  }
  func end(result: GenerationResult, filter: GuardViolation?) -> [Chunk] {
    // The end of sequence's entry (only there when logprobs were asked) comes with the finish.
    let last = result.endLogprob.flatMap { deltas("", logprobs: [$0]).first?.choices.first?.logprobs }
    return [chunk("", finish: finishReason(result), logprobs: last, filter: filter)]
  }
  func usage(result: GenerationResult) -> Chunk {
    Complete(
      id: id, created: created, model: model, choices: [],
      usage: Usage(prompt: result.promptTokens, completion: result.tokens.count))
  }
}
// swiftlint:enable identifier_name

/// A running count shared by a stream's chunks (the formatter is a value handed to each).
final class OffsetCounter: @unchecked Sendable {
  private let lock = NSLock()
  private var value = 0
  func set(_ v: Int) { lock.withLock { value = v } }
  /// The count before adding `n`.
  func advance(by n: Int) -> Int {
    lock.withLock {
      defer { value += n }
      return value
    }
  }
}
