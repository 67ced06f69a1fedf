import Foundation
import MuseEngine

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

/// The completions endpoint's older shape: parallel arrays and a dict of alternatives.
struct CompletionLogprobs: Encodable {
  let tokens: [String]
  let token_logprobs: [Float]
  let top_logprobs: [[String: Float]]
  let text_offset: [Int]

  init(_ lps: [TokenLogprob], offset: Int) {
    tokens = lps.map(\.token)
    token_logprobs = lps.map(\.logprob)
    top_logprobs = lps.map { lp in Dictionary(lp.top.map { ($0.token, $0.logprob) }, uniquingKeysWith: max) }
    var offsets: [Int] = []
    var at = offset
    for lp in lps {
      offsets.append(at)
      at += lp.token.count
    }
    text_offset = offsets
  }
}
// swiftlint:enable identifier_name

// swiftlint:disable identifier_name
struct CompletionFormatter: ResponseFormatter {
  let model: String
  let id = "cmpl-" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
  let created = Int(Date().timeIntervalSince1970)

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

  func complete(text: String, result: GenerationResult, logprobs: [TokenLogprob]?, filter: GuardViolation?)
    -> Complete
  {
    let offset = text.count - result.text.count
    return Complete(
      id: id, created: created, model: model,
      choices: [
        Choice(
          text: text, index: 0, logprobs: logprobs.map { CompletionLogprobs($0, offset: offset) },
          finish_reason: finishReason(result), content_filter: filter)
      ],
      usage: Usage(prompt: result.promptTokens, completion: result.tokens.count))
  }

  func chunk(
    _ text: String, finish: String? = nil, logprobs: [TokenLogprob]? = nil, filter: GuardViolation? = nil
  ) -> Chunk {
    Complete(
      id: id, created: created, model: model,
      choices: [
        Choice(
          text: text, index: 0, logprobs: logprobs.map { CompletionLogprobs($0, offset: 0) },
          finish_reason: finish, content_filter: filter)
      ], usage: nil)
  }

  func start(echo: String?) -> Chunk { chunk(echo ?? "") }
  func deltas(_ text: String, logprobs: [TokenLogprob]?) -> [Chunk] { [chunk(text, logprobs: logprobs)] }
  func end(result: GenerationResult, filter: GuardViolation?) -> [Chunk] {
    [chunk("", finish: finishReason(result), filter: filter)]
  }
  func usage(result: GenerationResult) -> Chunk {
    Complete(
      id: id, created: created, model: model, choices: [],
      usage: Usage(prompt: result.promptTokens, completion: result.tokens.count))
  }
}
// swiftlint:enable identifier_name
