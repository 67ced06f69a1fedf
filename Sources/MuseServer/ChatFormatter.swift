import Foundation
import MuseEngine
import MuseModels
import MuseStore

// swiftlint:disable identifier_name
/// A tool call in OpenAI's shape: `{"id", "type": "function", "function": {"name", "arguments"}}`,
/// the arguments a JSON string.
struct ToolCallView: Codable, Equatable {
  struct Function: Codable, Equatable {
    let name: String
    var arguments: String
  }
  let id: String
  var type = "function"
  var function: Function

  init(id: String, name: String, arguments: String) {
    self.id = id
    function = Function(name: name, arguments: arguments)
  }
}

/// The piece of a call a stream chunk carries: the first names it (`index`, `id`, `type`,
/// `function.name`), later ones add argument fragments.
struct ToolCallDeltaView: Encodable {
  struct Function: Encodable {
    let name: String?
    let arguments: String?
  }
  let index: Int
  let id: String?
  let type: String?
  let function: Function
}

/// Chat completions: the whole reply or its chunks, with reasoning and tool calls read out of
/// the model's text by the reply's `ChatReplyReader`.
final class ChatFormatter: ResponseFormatter, @unchecked Sendable {
  let model: String
  let id = "chatcmpl-" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
  let created = Int(Date().timeIntervalSince1970)
  var chunkObject: String { "chat.completion.chunk" }
  /// One request's reader; a formatter serves one reply, from one task.
  private var reader: ChatReplyReader

  init(model: String, reader: ChatReplyReader = ChatReplyReader()) {
    self.model = model
    self.reader = reader
  }

  struct Message: Encodable {
    var role: String?
    var content: String?
    var reasoning_content: String?
    var tool_calls: [ToolCallView]?

    func encode(to encoder: Encoder) throws {
      // `content` is written as null when absent (a reply of tool calls), as OpenAI does.
      var c = encoder.container(keyedBy: CodingKeys.self)
      try c.encodeIfPresent(role, forKey: .role)
      try c.encode(content, forKey: .content)
      try c.encodeIfPresent(reasoning_content, forKey: .reasoning_content)
      try c.encodeIfPresent(tool_calls, forKey: .tool_calls)
    }
    enum CodingKeys: String, CodingKey { case role, content, reasoning_content, tool_calls }
  }
  struct Delta: Encodable {
    var role: String?
    var content: String?
    var reasoning_content: String?
    var tool_calls: [ToolCallDeltaView]?
  }
  struct Choice: Encodable {
    let index: Int
    let message: Message
    let logprobs: ChatLogprobs?
    let finish_reason: String
    /// Muse's addition: which guardrail ended a `content_filter` reply.
    var content_filter: GuardViolation?
    func encode(to encoder: Encoder) throws {
      var c = encoder.container(keyedBy: CodingKeys.self)
      try c.encode(index, forKey: .index)
      try c.encode(message, forKey: .message)
      try c.encode(logprobs, forKey: .logprobs)
      try c.encode(finish_reason, forKey: .finish_reason)
      try c.encodeIfPresent(content_filter, forKey: .content_filter)
    }
    enum CodingKeys: String, CodingKey { case index, message, logprobs, finish_reason, content_filter }
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
    let delta: Delta
    var logprobs: ChatLogprobs?
    let finish_reason: String?
    var content_filter: GuardViolation?
    func encode(to encoder: Encoder) throws {
      var c = encoder.container(keyedBy: CodingKeys.self)
      try c.encode(index, forKey: .index)
      try c.encode(delta, forKey: .delta)
      try c.encode(logprobs, forKey: .logprobs)
      try c.encode(finish_reason, forKey: .finish_reason)
      try c.encodeIfPresent(content_filter, forKey: .content_filter)
    }
    enum CodingKeys: String, CodingKey { case index, delta, logprobs, finish_reason, content_filter }
  }
  struct Chunk: Encodable {
    let id: String
    let object = "chat.completion.chunk"
    let created: Int
    let model: String
    let choices: [DeltaChoice]
    let usage: Usage?
  }

  /// `stop` becomes `tool_calls` when the reply called tools, as OpenAI reports it.
  private func finish(_ result: GenerationResult, called: Bool) -> String {
    let reason = finishReason(result)
    return reason == "stop" && called ? "tool_calls" : reason
  }

  func complete(text: String, result: GenerationResult, logprobs: [TokenLogprob]?, filter: GuardViolation?)
    -> Complete
  {
    var whole = reader
    _ = whole.read(text)
    _ = whole.finish()
    let reply = whole.reply
    let message = Message(
      role: "assistant", content: reply.toolCalls.isEmpty || !reply.content.isEmpty ? reply.content : nil,
      reasoning_content: reply.reasoning.isEmpty ? nil : reply.reasoning,
      tool_calls: reply.toolCalls.isEmpty ? nil : reply.callViews)
    return Complete(
      id: id, created: created, model: model,
      choices: [
        Choice(
          index: 0, message: message, logprobs: logprobs.map(ChatLogprobs.init),
          finish_reason: finish(result, called: !reply.toolCalls.isEmpty), content_filter: filter)
      ], usage: Usage(prompt: result.promptTokens, completion: result.tokens.count))
  }

  func chunk(
    _ delta: Delta, finish: String? = nil, logprobs: [TokenLogprob]? = nil, filter: GuardViolation? = nil
  ) -> Chunk {
    Chunk(
      id: id, created: created, model: model,
      choices: [
        DeltaChoice(
          index: 0, delta: delta, logprobs: logprobs.map(ChatLogprobs.init), finish_reason: finish,
          content_filter: filter)
      ], usage: nil)
  }

  func start(echo: String?) -> Chunk { chunk(Delta(role: "assistant", content: "")) }

  func deltas(_ text: String, logprobs: [TokenLogprob]?) -> [Chunk] {
    let pieces = reader.read(text)
    // Log-probabilities ride on the first chunk of their text, or alone when it is held back.
    guard !pieces.isEmpty else {
      return logprobs?.isEmpty == false ? [chunk(Delta(), logprobs: logprobs)] : []
    }
    return pieces.enumerated().map { i, piece in chunk(Self.delta(piece), logprobs: i == 0 ? logprobs : nil) }
  }

  func end(result: GenerationResult, filter: GuardViolation?) -> [Chunk] {
    let held = result.finishReason == .cancelled ? [] : reader.finish()
    return held.map { chunk(Self.delta($0)) }
      + [chunk(Delta(), finish: finish(result, called: !reader.reply.toolCalls.isEmpty), filter: filter)]
  }

  func usage(result: GenerationResult) -> Chunk {
    Chunk(
      id: id, created: created, model: model, choices: [],
      usage: Usage(prompt: result.promptTokens, completion: result.tokens.count))
  }

  private static func delta(_ piece: AssistantDelta) -> Delta {
    switch piece {
    case .content(let text):
      return Delta(content: text)
    case .reasoning(let text):
      return Delta(reasoning_content: text)
    case .toolCallStart(let index, let id, let name):
      return Delta(
        tool_calls: [
          ToolCallDeltaView(
            index: index, id: id, type: "function", function: .init(name: name, arguments: ""))
        ])
    case .toolCallArguments(let index, let fragment):
      return Delta(
        tool_calls: [
          ToolCallDeltaView(index: index, id: nil, type: nil, function: .init(name: nil, arguments: fragment))
        ])
    case .invalidToolCall(_, let text):
      return Delta(content: text)
    }
  }
}
// swiftlint:enable identifier_name
