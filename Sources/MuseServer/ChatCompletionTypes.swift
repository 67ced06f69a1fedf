import Foundation

/// A value that OpenAI lets clients send either as one string or as a list of strings.
struct OneOrMany: Decodable {
  let values: [String]
  init(from decoder: Decoder) throws {
    let c = try decoder.singleValueContainer()
    if let s = try? c.decode(String.self) {
      values = [s]
    } else {
      values = try c.decode([String].self)
    }
  }
}

/// Message content: a string, or a list of parts of which Muse reads the text ones.
struct MessageContent: Decodable {
  let text: String
  struct Part: Decodable {
    let type: String
    let text: String?
  }
  init(from decoder: Decoder) throws {
    let c = try decoder.singleValueContainer()
    if c.decodeNil() {
      text = ""
    } else if let s = try? c.decode(String.self) {
      text = s
    } else {
      let parts = try c.decode([Part].self)
      guard parts.allSatisfy({ $0.type == "text" }) else {
        throw DecodingError.dataCorruptedError(
          in: c, debugDescription: "only text content parts are supported by this model")
      }
      text = parts.compactMap(\.text).joined()
    }
  }
}

struct ChatCompletionRequest: Decodable {
  struct Message: Decodable {
    let role: String
    let content: MessageContent?
    let name: String?
    // swiftlint:disable:next identifier_name
    let tool_call_id: String?
  }
  struct StreamOptions: Decodable {
    // swiftlint:disable:next identifier_name
    let include_usage: Bool?
  }
  let model: String
  let messages: [Message]
  let stream: Bool?
  // swiftlint:disable identifier_name
  let stream_options: StreamOptions?
  let max_tokens: Int?
  let max_completion_tokens: Int?
  let temperature: Float?
  let top_p: Float?
  let top_k: Int?
  let min_p: Float?
  let frequency_penalty: Float?
  let repetition_penalty: Float?
  let stop: OneOrMany?
  let seed: UInt64?
  let n: Int?
  let user: String?
  let logprobs: Bool?
  let top_logprobs: Int?
  let ignore_eos: Bool?
  // swiftlint:enable identifier_name
}

struct CompletionRequest: Decodable {
  let model: String
  let prompt: OneOrMany
  let stream: Bool?
  // swiftlint:disable identifier_name
  let stream_options: ChatCompletionRequest.StreamOptions?
  let max_tokens: Int?
  let temperature: Float?
  let top_p: Float?
  let top_k: Int?
  let min_p: Float?
  let stop: OneOrMany?
  let seed: UInt64?
  let echo: Bool?
  let logprobs: Int?
  let n: Int?
  let user: String?
  let ignore_eos: Bool?
  // swiftlint:enable identifier_name
}

struct Usage: Encodable {
  // swiftlint:disable identifier_name
  let prompt_tokens: Int
  let completion_tokens: Int
  let total_tokens: Int
  // swiftlint:enable identifier_name
  init(prompt: Int, completion: Int) {
    prompt_tokens = prompt
    completion_tokens = completion
    total_tokens = prompt + completion
  }
}
