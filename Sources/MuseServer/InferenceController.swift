import Foundation
import Hummingbird
import MuseEngine
import MuseJinja
import MuseModels
import MuseStore

/// `POST /v1/chat/completions` and `POST /v1/completions`: decode and
/// check the request, build its `GenerationJob`, and hand it to `MeteredGeneration`.
struct InferenceController: Sendable {
  let service: MuseService

  func register(on v1: RouterGroup<MuseRequestContext>) {
    v1.post("/chat/completions") { request, context in
      try await self.chatCompletions(request, context: context)
    }
    v1.post("/completions") { request, context in try await self.completions(request, context: context) }
  }

  func chatCompletions(_ request: Request, context: MuseRequestContext) async throws -> Response {
    let key = try context.requireKey(.inference)
    let (body, raw) = try await service.decodeWithBody(ChatCompletionRequest.self, from: request)
    let runner = try service.model(body.model, for: key)
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
    guard case .array(let sent)? = json["messages"] else {
      throw OpenAIError.invalid("'messages' must be an array.", param: "messages", code: "invalid_type")
    }
    let tools = try ToolFields.check(
      tools: json["tools"], choice: json["tool_choice"], parallel: json["parallel_tool_calls"])
    let output = try ResponseFormatFields.check(
      responseFormat: json["response_format"], grammar: json["grammar"])
    // The input rails see (and may redact) the messages before the template does.
    let guardContext = GuardContext(requestID: UUID().uuidString, keyID: key.id, model: runner.entry.id)
    let messages = try await service.screen(
      messages: sent.map(RequestPrompt.flattenTextParts), context: guardContext)
    var extra: [String: JinjaValue] = [:]
    switch json["chat_template_kwargs"] {
    case nil, .none?: break
    case .dict(let kwargs)?: for (k, v) in kwargs { extra[k.stringValue] = v }
    default:
      throw OpenAIError.invalid(
        "Invalid type for 'chat_template_kwargs': expected an object.", param: "chat_template_kwargs",
        code: "invalid_type")
    }
    if case .string(let effort)? = json["reasoning_effort"] { extra["reasoning_effort"] = .string(effort) }
    let plan = try ChatReplyPlan(
      runner: runner, messages: messages, tools: tools, output: output, extra: extra)
    let fields = SamplingFields(
      maxTokens: body.max_completion_tokens ?? body.max_tokens,
      maxTokensField: body.max_completion_tokens == nil ? "max_tokens" : "max_completion_tokens",
      temperature: body.temperature, topP: body.top_p, topK: body.top_k, minP: body.min_p,
      frequencyPenalty: body.frequency_penalty, presencePenalty: body.presence_penalty,
      logitBias: body.logit_bias,
      repetitionPenalty: body.repetition_penalty, seed: body.seed, n: body.n, stop: body.stop?.values ?? [],
      ignoreEOS: body.ignore_eos == true)
    var job = try fields.job(
      key: key, runner: runner, endpoint: "chat.completions", prompt: plan.prompt,
      requestID: guardContext.requestID)
    job.constraint = plan.constraint
    job.hasTools = tools != nil
    job.userTurn = GuardContext.lastUserTurn(in: messages)
    let top = try RequestChecks.integer(body.top_logprobs, "top_logprobs", 0...20)
    if top != nil && body.logprobs != true {
      throw OpenAIError.invalid(
        "'top_logprobs' needs 'logprobs': true.", param: "top_logprobs", code: "invalid_value")
    }
    job.logprobs = body.logprobs == true ? (top ?? 0) : nil
    let format = ChatFormatter(model: runner.entry.id, reader: plan.reader)
    job.responseID = format.id
    job.requestBody = raw
    job.replyReader = plan.reader
    let reply = Reply(
      stream: body.stream ?? false, includeUsage: body.stream_options?.include_usage ?? false, echo: nil,
      wantsLogprobs: job.logprobs != nil)
    return try await respond(job, reply, format: format, context: context)
  }

  func completions(_ request: Request, context: MuseRequestContext) async throws -> Response {
    let key = try context.requireKey(.inference)
    let (body, raw) = try await service.decodeWithBody(CompletionRequest.self, from: request)
    let runner = try service.model(body.model, for: key)
    let tokenizer = runner.model.tokenizer
    let prompts = try body.prompt.prompts(vocabularySize: runner.model.config.vocabularySize)
    let logprobs = try RequestChecks.integer(body.logprobs, "logprobs", 0...20)
    try RequestChecks.onlyOne(body.best_of, "best_of")
    if let suffix = body.suffix, !suffix.isEmpty {
      throw OpenAIError.invalid(
        "'suffix' is not supported: the completion is not inserted before a text.", param: "suffix",
        code: "unsupported_value")
    }
    let echo = body.echo == true
    let fields = SamplingFields(
      maxTokens: body.max_tokens, temperature: body.temperature, topP: body.top_p, topK: body.top_k,
      minP: body.min_p, frequencyPenalty: body.frequency_penalty, presencePenalty: body.presence_penalty,
      logitBias: body.logit_bias, repetitionPenalty: body.repetition_penalty, seed: body.seed, n: body.n,
      stop: body.stop?.values ?? [], ignoreEOS: body.ignore_eos == true, routeDefaultMaxTokens: 16,
      scoresOnly: echo)
    let guardContext = GuardContext(requestID: UUID().uuidString, keyID: key.id, model: runner.entry.id)
    // Token prompts are screened as the text they decode to; a redaction re-encodes it.
    let sent = prompts.map { p in
      switch p {
      case .text(let text): text
      case .tokens(let ids): tokenizer.decode(ids)
      }
    }
    let texts = try await service.screen(
      texts: sent.enumerated().map { (sent.count == 1 ? "prompt" : "prompt[\($0)]", $1) },
      context: guardContext)
    // One response id for every prompt's choice (the reply's), each choice its own receipt.
    let responseID = CompletionFormatter(model: runner.entry.id).id
    let jobs = try texts.enumerated().map { i, text in
      let ids: [Int] =
        if case .tokens(let ids) = prompts[i], text == sent[i] { ids } else {
          tokenizer.encode(text, addSpecial: true, parseSpecial: false)
        }
      var job = try fields.job(
        key: key, runner: runner, endpoint: "completions", prompt: ids,
        requestID: i == 0 ? guardContext.requestID : UUID().uuidString)
      job.logprobs = logprobs
      job.responseID = responseID
      job.choiceIndex = i
      job.requestBody = raw
      var format = CompletionFormatter(model: runner.entry.id, id: responseID)
      if echo, logprobs != nil {
        let scores = PromptScores()
        job.promptScores = scores
        format.scoring = .init(prompt: ids, echo: text, scores: scores, tokenizer: tokenizer)
      }
      return (job, text, format)
    }
    if jobs.count > 1 {
      guard body.stream != true else {
        throw OpenAIError.invalid(
          "Streaming takes one prompt; send a list of prompts without 'stream'.", param: "prompt",
          code: "unsupported_value")
      }
      return try await completeEach(jobs.map { ($0.0, echo ? $0.1 : nil, $0.2) }, context: context)
    }
    let reply = Reply(
      stream: body.stream ?? false, includeUsage: body.stream_options?.include_usage ?? false,
      echo: echo ? jobs[0].1 : nil, wantsLogprobs: logprobs != nil)
    return try await respond(jobs[0].0, reply, format: jobs[0].2, context: context)
  }
}

/// How a generation's reply is shaped.
struct Reply {
  let stream: Bool
  let includeUsage: Bool
  /// The prompt, when `echo` asked for it in front of the completion.
  let echo: String?
  let wantsLogprobs: Bool
}

extension InferenceController {
  /// Runs a job through `MeteredGeneration` and answers with one JSON reply or a stream of
  /// server-sent events. Either way a client that goes away stops the generation at its next
  /// step and is billed for what it received.
  fileprivate func respond(
    _ job: GenerationJob, _ reply: Reply, format: some ResponseFormatter, context: MuseRequestContext
  ) async throws -> Response {
    let generation = try await MeteredGeneration.start(job, service: service)
    guard reply.stream else {
      let watch = await context.watchClient { generation.cancel() }
      defer { watch?.stop() }
      let (text, result) = try await collect(generation, echo: reply.echo)
      var response = try jsonResponse(
        format.complete(
          text: text, result: result, logprobs: reply.wantsLogprobs ? result.logprobs : nil,
          filter: generation.violation))
      if let receipt = generation.receipt { response.headers[.museReceipt] = receipt.compact }
      return response
    }
    return await eventStream(of: generation, context: context) { send in
      var started = false
      if !format.holdsStart {
        started = true
        do {
          try await send(sse(format.start(echo: reply.echo)))
        } catch {
          generation.cancel()
        }
      }
      await generation.run(piecesReachClient: true) { event in
        if !started {
          started = true
          try await send(sse(format.start(echo: reply.echo)))
        }
        switch event {
        case .text(let piece, let logprobs):
          for chunk in format.deltas(piece, logprobs: reply.wantsLogprobs ? logprobs : nil) {
            try await send(sse(chunk))
          }
        case .finished(let result):
          for chunk in format.end(result: result, filter: generation.violation) { try await send(sse(chunk)) }
          if let receipt = generation.receipt {
            try await send(sse(format.receiptChunk(receipt, usage: reply.includeUsage ? result : nil)))
          } else if reply.includeUsage {
            try await send(sse(format.usage(result: result)))
          }
          try await send("data: [DONE]\n\n")
        }
      }
    }
  }

  /// Runs a generation to its end for a single JSON reply.
  fileprivate func collect(_ generation: MeteredGeneration, echo: String?) async throws -> (
    String, GenerationResult
  ) {
    var text = echo ?? ""
    let outcome = await generation.run(piecesReachClient: false) { event in
      if case .text(let piece, _) = event { text += piece }
    }
    switch outcome {
    case .completed(let result): return (text, result)
    case .abandoned:
      throw OpenAIError(.init(code: 499), "The client closed the request.", type: "server_error")
    case .failed:
      throw OpenAIError(.internalServerError, "The model failed to generate a reply.", type: "server_error")
    }
  }

  /// Several prompts in one completions request: each is admitted, generated and metered on
  /// its own, and the reply holds one choice per prompt (OpenAI's `index`), usage summed.
  fileprivate func completeEach(
    _ jobs: [(GenerationJob, String?, CompletionFormatter)], context: MuseRequestContext
  )
    async throws -> Response
  {
    let format = jobs[0].2
    var choices: [CompletionFormatter.Choice] = []
    var promptTokens = 0
    var completionTokens = 0
    for (index, (job, echo, format)) in jobs.enumerated() {
      let generation = try await MeteredGeneration.start(job, service: service)
      let watch = await context.watchClient { generation.cancel() }
      defer { watch?.stop() }
      let (text, result) = try await collect(generation, echo: echo)
      let one = format.complete(
        text: text, result: result, logprobs: job.logprobs == nil ? nil : result.logprobs,
        filter: generation.violation)
      choices += one.choices.map {
        CompletionFormatter.Choice(
          text: $0.text, index: index, logprobs: $0.logprobs, finish_reason: $0.finish_reason,
          content_filter: $0.content_filter)
      }
      promptTokens += result.promptTokens
      completionTokens += result.tokens.count
    }
    // Several receipts do not fit one header: they are on `GET /v1/receipts/{id}`.
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
