import Foundation
import MuseEngine

/// Shapes generated text into one endpoint's JSON: the whole response, or its stream chunks.
protocol ResponseFormatter: Sendable {
  associatedtype Complete: Encodable
  associatedtype Chunk: Encodable
  func complete(text: String, result: GenerationResult) -> Complete
  func start(echo: String?) -> Chunk
  func delta(_ text: String) -> Chunk
  func end(result: GenerationResult) -> Chunk
  func usage(result: GenerationResult) -> Chunk
}

private func finishReason(_ r: GenerationResult) -> String {
  r.finishReason == .length ? "length" : "stop"
}

// swiftlint:disable identifier_name
struct ChatFormatter: ResponseFormatter {
  let model: String
  let id = "chatcmpl-" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
  let created = Int(Date().timeIntervalSince1970)

  struct Message: Encodable {
    let role: String?
    let content: String?
  }
  struct Choice: Encodable {
    let index: Int
    let message: Message
    let logprobs: String?
    let finish_reason: String
    func encode(to encoder: Encoder) throws {
      var c = encoder.container(keyedBy: CodingKeys.self)
      try c.encode(index, forKey: .index)
      try c.encode(message, forKey: .message)
      try c.encode(logprobs, forKey: .logprobs)
      try c.encode(finish_reason, forKey: .finish_reason)
    }
    enum CodingKeys: String, CodingKey { case index, message, logprobs, finish_reason }
  }
  struct Complete: Encodable {
    let id: String
    let object = "chat.completion"
    let created: Int
    let model: String
    let choices: [Choice]
    let usage: Usage
  }
  struct DeltaChoice: Encodable {
    let index: Int
    let delta: Message
    let finish_reason: String?
    func encode(to encoder: Encoder) throws {
      var c = encoder.container(keyedBy: CodingKeys.self)
      try c.encode(index, forKey: .index)
      try c.encode(delta, forKey: .delta)
      try c.encode(finish_reason, forKey: .finish_reason)
    }
    enum CodingKeys: String, CodingKey { case index, delta, finish_reason }
  }
  struct Chunk: Encodable {
    let id: String
    let object = "chat.completion.chunk"
    let created: Int
    let model: String
    let choices: [DeltaChoice]
    let usage: Usage?
  }

  func complete(text: String, result: GenerationResult) -> Complete {
    Complete(
      id: id, created: created, model: model,
      choices: [
        Choice(
          index: 0, message: Message(role: "assistant", content: text), logprobs: nil,
          finish_reason: finishReason(result))
      ], usage: Usage(prompt: result.promptTokens, completion: result.tokens.count))
  }

  func chunk(_ delta: Message, finish: String? = nil) -> Chunk {
    Chunk(
      id: id, created: created, model: model,
      choices: [DeltaChoice(index: 0, delta: delta, finish_reason: finish)], usage: nil)
  }

  func start(echo: String?) -> Chunk { chunk(Message(role: "assistant", content: "")) }
  func delta(_ text: String) -> Chunk { chunk(Message(role: nil, content: text)) }
  func end(result: GenerationResult) -> Chunk {
    chunk(Message(role: nil, content: nil), finish: finishReason(result))
  }
  func usage(result: GenerationResult) -> Chunk {
    Chunk(
      id: id, created: created, model: model, choices: [],
      usage: Usage(prompt: result.promptTokens, completion: result.tokens.count))
  }
}

struct CompletionFormatter: ResponseFormatter {
  let model: String
  let id = "cmpl-" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
  let created = Int(Date().timeIntervalSince1970)

  struct Choice: Encodable {
    let text: String
    let index: Int
    let logprobs: String?
    let finish_reason: String?
    func encode(to encoder: Encoder) throws {
      var c = encoder.container(keyedBy: CodingKeys.self)
      try c.encode(text, forKey: .text)
      try c.encode(index, forKey: .index)
      try c.encode(logprobs, forKey: .logprobs)
      try c.encode(finish_reason, forKey: .finish_reason)
    }
    enum CodingKeys: String, CodingKey { case text, index, logprobs, finish_reason }
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

  func complete(text: String, result: GenerationResult) -> Complete {
    Complete(
      id: id, created: created, model: model,
      choices: [Choice(text: text, index: 0, logprobs: nil, finish_reason: finishReason(result))],
      usage: Usage(prompt: result.promptTokens, completion: result.tokens.count))
  }

  func chunk(_ text: String, finish: String? = nil) -> Chunk {
    Complete(
      id: id, created: created, model: model,
      choices: [Choice(text: text, index: 0, logprobs: nil, finish_reason: finish)], usage: nil)
  }

  func start(echo: String?) -> Chunk { chunk(echo ?? "") }
  func delta(_ text: String) -> Chunk { chunk(text) }
  func end(result: GenerationResult) -> Chunk { chunk("", finish: finishReason(result)) }
  func usage(result: GenerationResult) -> Chunk {
    Complete(
      id: id, created: created, model: model, choices: [],
      usage: Usage(prompt: result.promptTokens, completion: result.tokens.count))
  }
}
// swiftlint:enable identifier_name
