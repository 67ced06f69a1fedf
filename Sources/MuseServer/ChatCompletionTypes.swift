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

/// A JSON number as the client sent it, kept until it is range-checked under its field's name,
/// so that `max_tokens: 2^64`, `seed: -1` or `temperature: 1e39` get a 400 naming the field and
/// its range rather than a decoding failure.
struct JSONNumber: Decodable, Sendable {
  let value: Double
  /// The number when it is a whole number that fits 64 bits, signed or not.
  let integer: Int64?
  let unsigned: UInt64?

  init(from decoder: Decoder) throws {
    let c = try decoder.singleValueContainer()
    if let i = try? c.decode(Int64.self) {
      (value, integer, unsigned) = (Double(i), i, i >= 0 ? UInt64(i) : nil)
    } else if let u = try? c.decode(UInt64.self) {
      (value, integer, unsigned) = (Double(u), nil, u)
    } else {
      value = try c.decode(Double.self)
      (integer, unsigned) = (nil, nil)
    }
  }
}

/// Message content: a string, or a list of parts of which Muse reads the text ones (a part
/// without a `type` is read as text, as the spec allows).
struct MessageContent: Decodable {
  let text: String
  struct Part: Decodable {
    let type: String?
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
      guard parts.allSatisfy({ ($0.type ?? "text") == "text" }) else {
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
  let max_tokens: JSONNumber?
  let max_completion_tokens: JSONNumber?
  let temperature: JSONNumber?
  let top_p: JSONNumber?
  let top_k: JSONNumber?
  let min_p: JSONNumber?
  let frequency_penalty: JSONNumber?
  let presence_penalty: JSONNumber?
  let logit_bias: [String: JSONNumber]?
  let repetition_penalty: JSONNumber?
  let stop: OneOrMany?
  let seed: JSONNumber?
  let n: JSONNumber?
  let user: String?
  let logprobs: Bool?
  let top_logprobs: JSONNumber?
  let ignore_eos: Bool?
  // swiftlint:enable identifier_name
}

struct CompletionRequest: Decodable {
  let model: String
  let prompt: CompletionPrompt
  let stream: Bool?
  // swiftlint:disable identifier_name
  let stream_options: ChatCompletionRequest.StreamOptions?
  let max_tokens: JSONNumber?
  let temperature: JSONNumber?
  let top_p: JSONNumber?
  let top_k: JSONNumber?
  let min_p: JSONNumber?
  let frequency_penalty: JSONNumber?
  let presence_penalty: JSONNumber?
  let logit_bias: [String: JSONNumber]?
  let repetition_penalty: JSONNumber?
  let stop: OneOrMany?
  let seed: JSONNumber?
  let echo: Bool?
  let logprobs: JSONNumber?
  let n: JSONNumber?
  let best_of: JSONNumber?
  let suffix: String?
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
