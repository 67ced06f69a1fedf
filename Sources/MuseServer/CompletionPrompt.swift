import Foundation
import MuseEngine
import MuseModels

/// `prompt` of `POST /v1/completions` as OpenAI's API takes it: a string, a list of strings,
/// a list of token ids (one prompt), or a list of such lists (several).
struct CompletionPrompt: Decodable {
  enum Element {
    case text(String)
    case id(JSONNumber)
    case ids([JSONNumber])
  }
  /// What the client sent, element by element (a lone string is a list of one).
  let elements: [Element]

  init(from decoder: Decoder) throws {
    let c = try decoder.singleValueContainer()
    if let s = try? c.decode(String.self) {
      elements = [.text(s)]
    } else {
      elements = try c.decode([ElementValue].self).map(\.element)
    }
  }

  private struct ElementValue: Decodable {
    let element: Element
    init(from decoder: Decoder) throws {
      let c = try decoder.singleValueContainer()
      if let s = try? c.decode(String.self) {
        element = .text(s)
      } else if let n = try? c.decode(JSONNumber.self) {
        element = .id(n)
      } else if let ids = try? c.decode([JSONNumber].self) {
        element = .ids(ids)
      } else {
        throw DecodingError.dataCorruptedError(
          in: c, debugDescription: "expected a string, a token id or a list of token ids.")
      }
    }
  }

  /// One prompt to run: its text (what `echo` returns) or the client's token ids.
  enum Prompt {
    case text(String)
    case tokens([Int])
  }

  /// The prompts, each token id checked against the vocabulary (400 naming `prompt[i]` or
  /// `prompt[i][j]`); a list mixing strings, ids and lists of ids is refused.
  func prompts(vocabularySize: Int) throws -> [Prompt] {
    guard !elements.isEmpty else {
      throw OpenAIError.invalid("'prompt' must not be an empty list.", param: "prompt", code: "invalid_value")
    }
    func kind(_ e: Element) -> Int {
      switch e {
      case .text: 0
      case .id: 1
      case .ids: 2
      }
    }
    if let i = elements.firstIndex(where: { kind($0) != kind(elements[0]) }) {
      throw OpenAIError.invalid(
        "Invalid value for 'prompt[\(i)]': a prompt list must be all strings, all token ids, or all lists of "
          + "token ids, not a mix.", param: "prompt[\(i)]", code: "invalid_value")
    }
    func id(_ n: JSONNumber, _ name: String) throws -> Int {
      guard let v = n.integer, v >= 0, v < vocabularySize else {
        throw OpenAIError.invalid(
          "Invalid value for '\(name)': expected a token id from 0 to \(vocabularySize - 1).", param: name,
          code: "invalid_value")
      }
      return Int(v)
    }
    switch elements[0] {
    case .text:
      return elements.compactMap { e -> Prompt? in
        guard case .text(let s) = e else { return nil }
        return .text(s)
      }
    case .id:
      var ids: [Int] = []
      for (i, e) in elements.enumerated() { if case .id(let n) = e { ids.append(try id(n, "prompt[\(i)]")) } }
      return [.tokens(ids)]
    case .ids:
      var prompts: [Prompt] = []
      for (i, e) in elements.enumerated() {
        guard case .ids(let list) = e else { continue }
        guard !list.isEmpty else {
          throw OpenAIError.invalid(
            "Invalid value for 'prompt[\(i)]': a list of token ids must not be empty.", param: "prompt[\(i)]",
            code: "invalid_value")
        }
        prompts.append(.tokens(try list.enumerated().map { j, n in try id(n, "prompt[\(i)][\(j)]") }))
      }
      return prompts
    }
  }
}

extension CompletionLogprobs {
  /// `echo` with `logprobs`: the prompt's tokens in front of the completion's, the first with
  /// no log-probability and no alternatives (nothing predicts it), as OpenAI's legacy
  /// completions returned them. `text_offset` counts Unicode scalars (Python's string indices)
  /// into the echoed text and completion: a prompt token's is the length of the text its
  /// predecessors decode to, a completion token's continues from the end of `echo`.
  init(
    prompt: [Int], echo: String, scores: [TokenLogprob], completion: [TokenLogprob], tokenizer: Tokenizer
  ) {
    var tokens: [String] = []
    var logprobs: [Float?] = []
    var tops: [[String: Float]?] = []
    let echoLength = echo.unicodeScalars.count
    var offsets = tokenizer.scalarOffsets(prompt).map { min($0, echoLength) }
    for (i, id) in prompt.enumerated() {
      tokens.append(String(decoding: tokenizer.tokenBytes(id), as: UTF8.self))
      if i == 0 {
        logprobs.append(nil)
        tops.append(nil)
      } else if i - 1 < scores.count {
        logprobs.append(scores[i - 1].logprob)
        tops.append(Self.alternatives(scores[i - 1]))
      } else {
        logprobs.append(nil)
        tops.append(nil)
      }
    }
    var at = echoLength
    for lp in completion {
      tokens.append(lp.token)
      logprobs.append(lp.logprob)
      tops.append(Self.alternatives(lp))
      offsets.append(at)
      at += lp.token.unicodeScalars.count
    }
    self.init(tokens: tokens, token_logprobs: logprobs, top_logprobs: tops, text_offset: offsets)
  }
}
