import Foundation
import MuseEval
import Testing

@Suite struct OpenAIClientTests {
  func client(_ host: String) throws -> OpenAIClient {
    var client = try OpenAIClient(
      baseURL: "http://\(host)/v1", apiKey: "k", model: "m", concurrency: 2,
      protocolClasses: [FakeServer.self])
    client.initialBackoff = 0.01
    return client
  }

  /// Token logprob: minus the token's length, so sums are easy to state.
  static func lengthLogprob(_ token: String) -> Double { -Double(token.unicodeScalars.count) }

  @Test func continuationIsTheTokensAfterTheContext() async throws {
    FakeServer.register(host: "echo.test") { path, body in
      #expect(path == "/v1/completions")
      #expect(body["echo"] as? Bool == true)
      #expect(body["logprobs"] as? Int == 1)
      return .init(
        json: FakeServer.echoReply(prompt: body["prompt"] as? String ?? "", logprob: Self.lengthLogprob))
    }
    let score = try await client("echo.test").loglikelihood(
      context: "Question: où?\nAnswer:", continuation: " Paris is big")
    // " Paris" + " is" + " big": 6 + 3 + 4 scalars; the generated "!" is not counted.
    #expect(score.logprob == -13)
    #expect(score.isGreedy)
  }

  @Test func echoWithoutPromptLogprobsIsRefused() async throws {
    // llama.cpp #27174: the prompt's text echoed, logprobs only for the generated token.
    FakeServer.register(host: "nolp.test") { _, body in
      let prompt = body["prompt"] as? String ?? ""
      return .init(json: [
        "choices": [
          [
            "text": prompt + " x",
            "logprobs": [
              "tokens": [" x"], "token_logprobs": [-0.5], "text_offset": [prompt.unicodeScalars.count],
              "top_logprobs": [[" x": -0.5]],
            ],
          ]
        ]
      ])
    }
    await #expect(throws: EvalClientError.self) {
      _ = try await client("nolp.test").loglikelihood(context: "Q:", continuation: " A")
    }
    do {
      _ = try await client("nolp.test").loglikelihood(context: "Q:", continuation: " A")
    } catch let error as EvalClientError {
      guard case .noPromptLogprobs(let url, _) = error else {
        Issue.record("expected noPromptLogprobs, got \(error)")
        return
      }
      #expect(url == "http://nolp.test/v1/completions")
    }
  }

  @Test func nullLogprobsAreRefused() async throws {
    FakeServer.register(host: "null.test") { _, body in
      .init(json: ["choices": [["text": body["prompt"] as? String ?? "", "logprobs": NSNull()]]])
    }
    await #expect(throws: EvalClientError.self) {
      _ = try await client("null.test").loglikelihood(context: "Q:", continuation: " A")
    }
  }

  @Test func tooManyRequestsAndServerErrorsAreRetried() async throws {
    let host = "retry.test"
    FakeServer.register(host: host) { _, body in
      switch FakeServer.requests(host: host) {
      case 1:
        return .init(status: 429, json: ["error": ["message": "slow down"]], headers: ["Retry-After": "0"])
      case 2: return .init(status: 503, json: ["error": ["message": "busy"]])
      default:
        return .init(
          json: FakeServer.echoReply(prompt: body["prompt"] as? String ?? "", logprob: Self.lengthLogprob))
      }
    }
    let score = try await client(host).loglikelihood(context: "Q:", continuation: " A")
    #expect(score.logprob == -2)
    #expect(FakeServer.requests(host: host) == 3)
  }

  @Test func otherErrorsNameTheURLAndStatusWithoutRetrying() async throws {
    FakeServer.register(host: "denied.test") { _, _ in
      .init(status: 401, json: ["error": ["message": "Invalid API key."]])
    }
    do {
      _ = try await client("denied.test").chat(
        GenerationRequest(messages: [ChatMessage(role: "user", content: "hi")], maxTokens: 4))
      Issue.record("a 401 was accepted")
    } catch let error as EvalClientError {
      #expect(
        error
          == .http(url: "http://denied.test/v1/chat/completions", status: 401, message: "Invalid API key."))
      #expect("\(error)".contains("http://denied.test/v1/chat/completions answered 401"))
    }
    #expect(FakeServer.requests(host: "denied.test") == 1)
  }

  @Test func autoModeFallsBackToGenerationOnlyWhereTheTaskHasIt() async throws {
    FakeServer.register(host: "chatonly.test") { path, _ in
      path == "/v1/completions"
        ? .init(status: 404, json: ["error": ["message": "not found"]])
        : .init(json: ["choices": [["message": ["role": "assistant", "content": "B"]]]])
    }
    let item = EvalItem(
      id: "1", context: "Q: x\nA:", choices: ["yes", "no"], gold: 1, question: "x", options: ["yes", "no"])
    let arc = EvalRunner(task: ARCChallengeTask(), client: try client("chatonly.test"), concurrency: 1)
    let (mode, reason) = try await arc.resolveMode(nil, probe: item)
    #expect(mode == .generate)
    #expect(reason.contains("404"))
    let truthful = EvalRunner(
      task: TruthfulQATask(variant: .mc2), client: try client("chatonly.test"), concurrency: 1)
    await #expect(throws: EvalClientError.self) { _ = try await truthful.resolveMode(nil, probe: item) }
    // Asked for log-likelihood, a server without it is an error, never a silent fallback.
    await #expect(throws: EvalClientError.self) { _ = try await arc.resolveMode(.loglikelihood, probe: item) }
    // A refused key is reported as such, not taken for a server without log-likelihoods.
    FakeServer.register(host: "badkey.test") { _, _ in
      .init(status: 401, json: ["error": ["message": "bad key"]])
    }
    let refused = EvalRunner(task: ARCChallengeTask(), client: try client("badkey.test"), concurrency: 1)
    do {
      _ = try await refused.resolveMode(nil, probe: item)
      Issue.record("a 401 fell back to generation")
    } catch let error as EvalClientError {
      #expect(error == .http(url: "http://badkey.test/v1/completions", status: 401, message: "bad key"))
    }
  }

  @Test func baseURLIsCheckedAndNormalised() throws {
    #expect(
      try OpenAIClient(baseURL: "http://h:8080/v1/", apiKey: nil, model: "m", concurrency: 1).baseURL
        == "http://h:8080")
    #expect(throws: EvalClientError.badURL("ftp://h")) {
      _ = try OpenAIClient(baseURL: "ftp://h", apiKey: nil, model: "m", concurrency: 1)
    }
  }
}
