import Foundation
import Hummingbird
import MuseEngine
import MuseJinja
import MuseModels
import MuseStore

/// `POST /v1/chat/completions` and `POST /v1/completions`.
extension MuseService {
  struct Job {
    let key: APIKey
    let runner: ModelRunner
    let endpoint: String
    let prompt: [Int]
    let maxTokens: Int
    var sampling: SamplingParameters
    let stop: [String]
    let stream: Bool
    let includeUsage: Bool
    let echo: String?
    /// Alternatives per token when log-probabilities are asked for.
    var logprobs: Int?
  }

  func chatCompletions(_ request: Request) async throws -> Response {
    let key = try authenticate(request, scope: .inference)
    let (body, raw) = try await decodeWithBody(ChatCompletionRequest.self, from: request)
    let runner = try model(body.model, for: key)
    guard !body.messages.isEmpty else {
      throw OpenAIError.invalid("'messages' must contain at least one message.", param: "messages")
    }
    let roles: Set = ["system", "developer", "user", "assistant", "tool"]
    for (i, m) in body.messages.enumerated() where !roles.contains(m.role) {
      throw OpenAIError.invalid(
        "Invalid value for 'messages[\(i)].role': '\(m.role)'. Supported: system, developer, user, assistant, tool.",
        param: "messages[\(i)].role", code: "invalid_value")
    }
    // Messages and tools go to the model's own template as the client sent them (tool calls,
    // tool results, content parts), as transformers' apply_chat_template receives them.
    // Parsed again as template values, which keep the client's key order (tool schemas are
    // printed with tojson, and Python dicts keep their order).
    guard case .dict(let json)? = try? JinjaValue(json: raw) else {
      throw OpenAIError.invalid("We could not parse the JSON body of your request.")
    }
    guard case .array(let messages)? = json["messages"] else {
      throw OpenAIError.invalid("'messages' must be an array.", param: "messages", code: "invalid_type")
    }
    var tools: [JinjaValue]?
    if case .array(let t)? = json["tools"] { tools = t }
    var extra: [String: JinjaValue] = [:]
    if case .dict(let kwargs)? = json["chat_template_kwargs"] {
      for (k, v) in kwargs { extra[k.stringValue] = v }
    }
    if case .string(let effort)? = json["reasoning_effort"] { extra["reasoning_effort"] = .string(effort) }
    let prompt: [Int]
    do {
      prompt = try runner.model.chatPrompt(messages: messages, tools: tools, extra: extra)
    } catch {
      throw OpenAIError.invalid(
        "The model's chat template rejected these messages: \(error)", code: "invalid_messages")
    }
    var job = try makeJob(
      key: key, runner: runner, endpoint: "chat.completions", prompt: prompt,
      maxTokens: body.max_completion_tokens ?? body.max_tokens, n: body.n, temperature: body.temperature,
      topP: body.top_p, topK: body.top_k, minP: body.min_p,
      repetitionPenalty: body.repetition_penalty, seed: body.seed, stop: body.stop?.values ?? [],
      stream: body.stream ?? false, includeUsage: body.stream_options?.include_usage ?? false, echo: nil)
    if let top = body.top_logprobs, !(0...20).contains(top) || body.logprobs != true {
      throw OpenAIError.invalid(
        "'top_logprobs' must be between 0 and 20, and needs 'logprobs': true.", param: "top_logprobs",
        code: "invalid_value")
    }
    job.logprobs = body.logprobs == true ? (body.top_logprobs ?? 0) : nil
    job.sampling.ignoreEOS = body.ignore_eos == true
    return try await run(job, format: ChatFormatter(model: runner.entry.id))
  }

  func completions(_ request: Request) async throws -> Response {
    let key = try authenticate(request, scope: .inference)
    let body = try await decode(CompletionRequest.self, from: request)
    let runner = try model(body.model, for: key)
    guard !body.prompt.values.isEmpty else {
      throw OpenAIError.invalid("'prompt' must not be an empty list.", param: "prompt", code: "invalid_value")
    }
    if let n = body.logprobs, !(0...20).contains(n) {
      throw OpenAIError.invalid(
        "'logprobs' must be between 0 and 20.", param: "logprobs", code: "invalid_value")
    }
    let jobs = try body.prompt.values.map { text in
      var job = try makeJob(
        key: key, runner: runner, endpoint: "completions",
        prompt: runner.model.tokenizer.encode(text, addSpecial: true, parseSpecial: false),
        maxTokens: body.max_tokens ?? 16, n: body.n, temperature: body.temperature, topP: body.top_p,
        topK: body.top_k, minP: body.min_p, repetitionPenalty: nil, seed: body.seed,
        stop: body.stop?.values ?? [],
        stream: body.stream ?? false, includeUsage: body.stream_options?.include_usage ?? false,
        echo: body.echo == true ? text : nil)
      job.logprobs = body.logprobs
      job.sampling.ignoreEOS = body.ignore_eos == true
      return job
    }
    if jobs.count > 1 {
      guard body.stream != true else {
        throw OpenAIError.invalid(
          "Streaming takes one prompt; send a list of prompts without 'stream'.", param: "prompt",
          code: "unsupported_value")
      }
      return try await completeEach(jobs, format: CompletionFormatter(model: runner.entry.id))
    }
    let job = jobs[0]
    return try await run(job, format: CompletionFormatter(model: runner.entry.id))
  }

  // swiftlint:disable:next function_parameter_count
  private func makeJob(
    key: APIKey, runner: ModelRunner, endpoint: String, prompt: [Int], maxTokens: Int?, n: Int?,
    temperature: Float?,
    topP: Float?, topK: Int?, minP: Float?, repetitionPenalty: Float?, seed: UInt64?, stop: [String],
    stream: Bool,
    includeUsage: Bool, echo: String?
  ) throws -> Job {
    let entry = runner.entry
    let context = runner.model.contextLength
    if let n, n != 1 {
      throw OpenAIError.invalid("Only n = 1 is supported.", param: "n", code: "unsupported_value")
    }
    if let t = temperature, !(0...2).contains(t) {
      throw OpenAIError.invalid(
        "'temperature' must be between 0 and 2.", param: "temperature", code: "invalid_value")
    }
    if let p = topP, !(p > 0 && p <= 1) {
      throw OpenAIError.invalid("'top_p' must be in (0, 1].", param: "top_p", code: "invalid_value")
    }
    if let m = maxTokens, m < 1 {
      throw OpenAIError.invalid(
        "'max_tokens' must be at least 1.", param: "max_tokens", code: "invalid_value")
    }
    guard stop.count <= 4 else {
      throw OpenAIError.invalid("'stop' takes at most 4 sequences.", param: "stop", code: "invalid_value")
    }
    let limit = maxTokens ?? entry.defaultMaxTokens ?? (context - prompt.count)
    guard prompt.count + limit <= context, prompt.count < context else {
      throw OpenAIError.invalid(
        "This model's maximum context length is \(context) tokens. However, you requested "
          + "\(prompt.count + limit) tokens (\(prompt.count) in the messages, \(limit) in the completion). "
          + "Please reduce the length of the messages or completion.",
        param: "messages", code: "context_length_exceeded")
    }
    let sampling = SamplingParameters(
      temperature: temperature ?? entry.defaultTemperature ?? 1, topK: topK ?? 0,
      topP: topP ?? entry.defaultTopP ?? 1, minP: minP ?? 0, repetitionPenalty: repetitionPenalty ?? 1,
      seed: seed)
    return Job(
      key: key, runner: runner, endpoint: endpoint, prompt: prompt, maxTokens: limit, sampling: sampling,
      stop: stop,
      stream: stream, includeUsage: includeUsage, echo: echo)
  }

  private func run(_ job: Job, format: some ResponseFormatter) async throws -> Response {
    let entry = job.runner.entry
    let reservation = try await admission.admit(
      key: job.key, tokens: job.prompt.count + job.maxTokens,
      microdollars: entry.cost(promptTokens: job.prompt.count, completionTokens: job.maxTokens))
    let started = ContinuousClock.now
    metrics.queue(model: entry.id, depth: job.runner.queueDepth + 1, active: job.runner.activeSequences)
    let events = try await startGeneration(job, reservation: reservation)
    let meter = Meter(service: self, job: job, reservation: reservation, started: started)
    guard job.stream else {
      let (text, result) = try await collect(events, job: job, meter: meter, started: started)
      return try jsonResponse(
        format.complete(text: text, result: result, logprobs: job.logprobs == nil ? nil : result.logprobs))
    }
    let body = ResponseBody { writer in
      var firstToken: Duration?
      var metered = false
      do {
        try await writer.write(ByteBuffer(string: sse(format.start(echo: job.echo))))
        for try await event in events {
          switch event {
          case .text(let piece, let logprobs):
            if firstToken == nil { firstToken = ContinuousClock.now - started }
            let lp = job.logprobs == nil ? nil : logprobs
            try await writer.write(ByteBuffer(string: sse(format.delta(piece, logprobs: lp))))
          case .finished(let result):
            // Metered before the client sees the end, so a reply it has is a reply billed.
            await meter.finish(result, status: 200, firstToken: firstToken)
            metered = true
            try await writer.write(ByteBuffer(string: sse(format.end(result: result))))
            if job.includeUsage {
              try await writer.write(ByteBuffer(string: sse(format.usage(result: result))))
            }
            try await writer.write(ByteBuffer(string: "data: [DONE]\n\n"))
          }
        }
        try await writer.finish(nil)
      } catch {
        // The client went away (or the model failed): generation has stopped with the stream.
      }
      if !metered { await meter.fail(status: 499) }
    }
    return Response(
      status: .ok,
      headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: body)
  }
}

extension MuseService {
  /// Hands a job to its model's scheduler, round-robin by key. A scheduler at capacity answers
  /// 503 with Retry-After (running generations are never failed for new ones); the budget
  /// reservation is returned unused.
  fileprivate func startGeneration(
    _ job: Job, reservation: Admission.Reservation
  ) async throws -> AsyncThrowingStream<ModelRunner.Event, Error> {
    do {
      return try job.runner.start(
        prompt: job.prompt, maxTokens: job.maxTokens, sampling: job.sampling, stop: job.stop,
        logprobs: job.logprobs, owner: String(describing: job.key.id))
    } catch let error as SchedulerError {
      await admission.settle(reservation, tokensUsed: 0)
      switch error {
      case .overloaded:
        metrics.request(model: job.runner.entry.id, endpoint: job.endpoint, status: 503)
        throw OpenAIError(
          .serviceUnavailable, "The model is at capacity. Please retry shortly.", type: "server_error",
          code: "model_overloaded", retryAfter: 1)
      case .tooLarge:
        throw OpenAIError.invalid("\(error)", param: "max_tokens", code: "context_length_exceeded")
      case .emptyPrompt:
        throw OpenAIError.invalid("The prompt has no tokens.", param: "prompt", code: "invalid_value")
      }
    }
  }

  /// Runs a job to the end and meters it: the non-streaming path.
  fileprivate func collect(
    _ events: AsyncThrowingStream<ModelRunner.Event, Error>, job: Job, meter: Meter,
    started: ContinuousClock.Instant
  ) async throws -> (String, GenerationResult) {
    var text = job.echo ?? ""
    var firstToken: Duration?
    do {
      for try await event in events {
        switch event {
        case .text(let piece, _):
          if firstToken == nil { firstToken = ContinuousClock.now - started }
          text += piece
        case .finished(let result):
          await meter.finish(result, status: 200, firstToken: firstToken)
          return (text, result)
        }
      }
    } catch {
      await meter.fail(status: 500)
      throw OpenAIError(.internalServerError, "The model failed: \(error)", type: "server_error")
    }
    await meter.fail(status: 500)
    throw OpenAIError(.internalServerError, "The generation ended without a result.", type: "server_error")
  }

  /// Several prompts in one completions request: each is admitted, generated and metered on
  /// its own, and the reply holds one choice per prompt (OpenAI's `index`), usage summed.
  func completeEach(_ jobs: [Job], format: CompletionFormatter) async throws -> Response {
    var choices: [CompletionFormatter.Choice] = []
    var promptTokens = 0
    var completionTokens = 0
    for (index, job) in jobs.enumerated() {
      let entry = job.runner.entry
      let reservation = try await admission.admit(
        key: job.key, tokens: job.prompt.count + job.maxTokens,
        microdollars: entry.cost(promptTokens: job.prompt.count, completionTokens: job.maxTokens))
      let started = ContinuousClock.now
      let events = try await startGeneration(job, reservation: reservation)
      let meter = Meter(service: self, job: job, reservation: reservation, started: started)
      let (text, result) = try await collect(events, job: job, meter: meter, started: started)
      let one = format.complete(
        text: text, result: result, logprobs: job.logprobs == nil ? nil : result.logprobs)
      choices += one.choices.map {
        CompletionFormatter.Choice(
          text: $0.text, index: index, logprobs: $0.logprobs, finish_reason: $0.finish_reason)
      }
      promptTokens += result.promptTokens
      completionTokens += result.tokens.count
    }
    return try jsonResponse(
      CompletionFormatter.Complete(
        id: format.id, created: format.created, model: format.model, choices: choices,
        usage: Usage(prompt: promptTokens, completion: completionTokens)))
  }
}

func sse<T: Encodable>(_ value: T) -> String {
  let encoder = JSONEncoder()
  encoder.outputFormatting = [.withoutEscapingSlashes]
  let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
  return "data: " + String(decoding: data, as: UTF8.self) + "\n\n"
}

/// Writes the ledger entry, metrics and the budget settlement of one request, once.
struct Meter {
  let service: MuseService
  let job: MuseService.Job
  let reservation: Admission.Reservation
  let started: ContinuousClock.Instant

  func finish(_ result: GenerationResult, status: Int, firstToken: Duration?) async {
    await record(
      completion: result.tokens.count, status: status,
      finishReason: result.finishReason == .cancelled ? "cancelled" : result.finishReason.rawValue,
      firstToken: firstToken)
  }

  func fail(status: Int) async {
    await record(completion: 0, status: status, finishReason: nil, firstToken: nil)
  }

  func record(completion: Int, status: Int, finishReason: String?, firstToken: Duration?) async {
    let entry = job.runner.entry
    let elapsed = ContinuousClock.now - started
    let usage = UsageRecord(
      keyID: job.key.id, model: entry.id, endpoint: job.endpoint, promptTokens: job.prompt.count,
      completionTokens: completion,
      costMicrodollars: entry.cost(promptTokens: job.prompt.count, completionTokens: completion),
      latencyMilliseconds: Int(elapsed.seconds * 1000),
      timeToFirstTokenMilliseconds: firstToken.map { Int($0.seconds * 1000) },
      status: status, finishReason: finishReason)
    do {
      try service.store.record(usage)
    } catch {
      service.logger.error("could not record usage for key \(job.key.prefix)…: \(error)")
    }
    await service.admission.settle(reservation, tokensUsed: job.prompt.count + completion)
    service.metrics.request(model: entry.id, endpoint: job.endpoint, status: status)
    service.metrics.tokens(model: entry.id, prompt: job.prompt.count, completion: completion)
    service.metrics.latency(model: entry.id, seconds: elapsed.seconds, timeToFirstToken: firstToken?.seconds)
    service.metrics.queue(model: entry.id, depth: job.runner.queueDepth, active: job.runner.activeSequences)
    service.metrics.kvCache(model: entry.id, statistics: job.runner.scheduler.pool.statistics)
  }
}

extension Duration {
  var seconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}
