import Foundation
import MuseEngine
import MuseModels
import MuseStore

/// Range checks for request fields, each failing with a 400 that names the field and its range.
/// Everything a generation is built from passes through here, so no arithmetic on a request
/// value can overflow.
enum RequestChecks {
  static func integer(_ n: JSONNumber?, _ field: String, _ range: ClosedRange<Int>) throws -> Int? {
    guard let n else { return nil }
    guard let i = n.integer, i >= range.lowerBound, i <= range.upperBound else {
      throw OpenAIError.invalid(
        "Invalid value for '\(field)': it must be an integer from \(range.lowerBound) to \(range.upperBound).",
        param: field, code: "invalid_value")
    }
    return Int(i)
  }

  /// A number in `range`; `above` makes the lower bound exclusive.
  static func number(_ n: JSONNumber?, _ field: String, _ range: ClosedRange<Double>, above: Bool = false)
    throws -> Float?
  {
    guard let n else { return nil }
    let v = n.value
    let low = above ? v > range.lowerBound : v >= range.lowerBound
    guard v.isFinite, low, v <= range.upperBound else {
      let lower = above ? "greater than \(range.lowerBound)" : "at least \(range.lowerBound)"
      throw OpenAIError.invalid(
        "Invalid value for '\(field)': it must be \(lower) and at most \(range.upperBound).", param: field,
        code: "invalid_value")
    }
    return Float(v)
  }

  /// `seed`: an integer from 0 to 2^64 − 1; -1 means none (llama-server's convention).
  static func seed(_ n: JSONNumber?) throws -> UInt64? {
    guard let n else { return nil }
    if n.integer == -1 { return nil }
    guard let u = n.unsigned else {
      throw OpenAIError.invalid(
        "Invalid value for 'seed': it must be an integer from 0 to 18446744073709551615 (or -1 for none).",
        param: "seed", code: "invalid_value")
    }
    return u
  }

  /// A count of alternatives (`n`, `best_of`): from 1 to 128, and only 1 is generated.
  static func onlyOne(_ n: JSONNumber?, _ field: String) throws {
    if let n = try integer(n, field, 1...128), n != 1 {
      throw OpenAIError.invalid("Only \(field) = 1 is supported.", param: field, code: "unsupported_value")
    }
  }

  /// The most entries `logit_bias` takes (OpenAI's limit).
  static let logitBiasLimit = 300

  /// `logit_bias`: token ids written in decimal (no sign, no leading zero: the language of the
  /// pattern /openapi.json gives) mapped to numbers from -100 to 100.
  static func logitBias(_ bias: [String: JSONNumber]?, vocabularySize: Int) throws -> [Int: Float] {
    guard let bias else { return [:] }
    guard bias.count <= logitBiasLimit else {
      throw OpenAIError.invalid(
        "Invalid value for 'logit_bias': it takes at most \(logitBiasLimit) token ids, not \(bias.count).",
        param: "logit_bias", code: "invalid_value")
    }
    var out: [Int: Float] = [:]
    for (key, value) in bias.sorted(by: { $0.key < $1.key }) {
      let digits = key.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
      guard digits, !key.isEmpty, key.utf8.count <= 10, key == "0" || !key.hasPrefix("0"),
        let id = Int(key), id < vocabularySize
      else {
        throw OpenAIError.invalid(
          "Invalid key in 'logit_bias': \(String(reflecting: String(key.prefix(40)))) is not a token id from 0 to "
            + "\(vocabularySize - 1).", param: "logit_bias", code: "invalid_value")
      }
      out[id] = try number(value, "logit_bias[\(key)]", -100...100)
    }
    return out
  }

  static func stop(_ stop: [String]) throws -> [String] {
    guard stop.count <= 4 else {
      throw OpenAIError.invalid("'stop' takes at most 4 sequences.", param: "stop", code: "invalid_value")
    }
    for (i, s) in stop.enumerated() where s.isEmpty || s.unicodeScalars.count > 256 {
      throw OpenAIError.invalid(
        "Invalid value for 'stop[\(i)]': a stop sequence must be 1 to 256 characters long.", param: "stop",
        code: "invalid_value")
    }
    return stop
  }
}

/// The sampling fields both completion routes take, as the client sent them.
struct SamplingFields {
  var maxTokens: JSONNumber?
  /// How the client spelled the token limit (`max_tokens` or `max_completion_tokens`).
  var maxTokensField = "max_tokens"
  var temperature: JSONNumber?
  var topP: JSONNumber?
  var topK: JSONNumber?
  var minP: JSONNumber?
  var frequencyPenalty: JSONNumber?
  var presencePenalty: JSONNumber?
  var logitBias: [String: JSONNumber]?
  var repetitionPenalty: JSONNumber?
  var seed: JSONNumber?
  var n: JSONNumber?
  var stop: [String] = []
  var ignoreEOS = false
  /// The route's own default limit (OpenAI's completions: 16), before the model's.
  var routeDefaultMaxTokens: Int?
  /// `echo` was asked for: `max_tokens: 0` then scores the prompt without generating.
  var scoresOnly = false

  /// The generation for `prompt`: checked fields, the model's catalogue defaults where the
  /// client said nothing, and a token limit within the context window.
  func job(
    key: APIKey, runner: ModelRunner, endpoint: String, prompt: [Int], requestID: String = UUID().uuidString
  ) throws -> GenerationJob {
    let entry = runner.entry
    let context = runner.contextLength
    try RequestChecks.onlyOne(n, "n")
    let requested = try RequestChecks.integer(maxTokens, maxTokensField, 0...Int(Int32.max))
    if requested == 0 && !scoresOnly {
      throw OpenAIError.invalid(
        "Invalid value for '\(maxTokensField)': 0 generates nothing; it is allowed only with 'echo': true, "
          + "to score the prompt.", param: maxTokensField, code: "invalid_value")
    }
    guard prompt.count < context else {
      throw OpenAIError.invalid(
        "This model's maximum context length is \(context) tokens, and the prompt is \(prompt.count) tokens.",
        param: "messages", code: "context_length_exceeded")
    }
    let room = context - prompt.count
    if let requested, requested > room {
      throw OpenAIError.invalid(
        "This model's maximum context length is \(context) tokens. However, you requested "
          + "\(prompt.count + requested) tokens (\(prompt.count) in the messages, \(requested) in the completion). "
          + "Please reduce the length of the messages or completion.",
        param: maxTokensField, code: "context_length_exceeded")
    }
    let limit = requested ?? min(routeDefaultMaxTokens ?? entry.defaultMaxTokens ?? room, room)
    var sampling = SamplingParameters(
      temperature: try RequestChecks.number(temperature, "temperature", 0...2) ?? entry.defaultTemperature
        ?? 1,
      topK: try RequestChecks.integer(topK, "top_k", 0...1_000_000) ?? 0,
      topP: try RequestChecks.number(topP, "top_p", 0...1, above: true) ?? entry.defaultTopP ?? 1,
      minP: try RequestChecks.number(minP, "min_p", 0...1) ?? 0,
      repetitionPenalty: try RequestChecks.number(
        repetitionPenalty, "repetition_penalty", 0...10, above: true) ?? 1,
      seed: try RequestChecks.seed(seed))
    sampling.ignoreEOS = ignoreEOS
    sampling.frequencyPenalty = try RequestChecks.number(frequencyPenalty, "frequency_penalty", -2...2) ?? 0
    sampling.presencePenalty = try RequestChecks.number(presencePenalty, "presence_penalty", -2...2) ?? 0
    sampling.logitBias = try RequestChecks.logitBias(
      logitBias, vocabularySize: runner.model.config.vocabularySize)
    return GenerationJob(
      key: key, runner: runner, endpoint: endpoint, prompt: prompt, maxTokens: limit, sampling: sampling,
      stop: try RequestChecks.stop(stop), requestID: requestID)
  }
}
