import Foundation
import MuseEngine
import MuseStore

/// One billed generation as the routes describe it: who pays, which model, the prompt's tokens
/// and how to sample. Validated before it is built (`RequestLimits`), so every value is in range.
public struct GenerationJob: Sendable {
  /// The request's id: its ledger row's, and the audit log's for its guard decisions.
  public let requestID: String
  public let key: APIKey
  public let runner: ModelRunner
  /// The ledger's name for the route: `chat.completions`, `completions`, `app.chat`.
  public let endpoint: String
  public let prompt: [Int]
  public let maxTokens: Int
  public var sampling: SamplingParameters
  public var stop: [String] = []
  /// Alternatives per token when log-probabilities are asked for.
  public var logprobs: Int?
  /// The grammar the reply must follow (a JSON schema, tool-call syntax, GBNF), if any.
  public var constraint: GenerationConstraint?
  /// Where the prompt's own log-probabilities go, when asked for (`echo` with `logprobs`).
  public var promptScores: PromptScores?
  /// The request declared tools (the policy's tool rules then read the reply too).
  public var hasTools = false
  /// The caller's last message, as screened: the output rails judge the reply against it.
  public var userTurn: String?
  /// The id the client's reply carries (`chatcmpl-…`, `cmpl-…`), which its receipt names; the
  /// request id when the reply has none of its own.
  public var responseID: String?
  /// Which choice of the response this job is (a completions request with several prompts).
  public var choiceIndex = 0
  /// The request's body as the client sent it, whose canonical form the receipt hashes.
  public var requestBody: Data?
  /// How the route reads a chat reply (content, reasoning, tool calls apart), so the receipt
  /// hashes the reply as the client holds it; nil for plain text.
  var replyReader: ChatReplyReader?

  public init(
    key: APIKey, runner: ModelRunner, endpoint: String, prompt: [Int], maxTokens: Int,
    sampling: SamplingParameters, stop: [String] = [], logprobs: Int? = nil,
    requestID: String = UUID().uuidString
  ) {
    self.requestID = requestID
    self.key = key
    self.runner = runner
    self.endpoint = endpoint
    self.prompt = prompt
    self.maxTokens = maxTokens
    self.sampling = sampling
    self.stop = stop
    self.logprobs = logprobs
  }

  /// What the request costs at the model's prices for `completion` generated tokens.
  public func cost(completion: Int) -> Int {
    runner.entry.cost(promptTokens: prompt.count, completionTokens: completion)
  }

  /// Who the guardrails audit this job's decisions against.
  public var guardContext: GuardContext {
    GuardContext(requestID: requestID, keyID: key.id, model: runner.entry.id, userTurn: userTurn)
  }
}

/// How a billed generation ended, as the ledger and the stages see it.
public enum GenerationOutcome: Sendable {
  /// The model finished and the client received everything.
  case completed(GenerationResult)
  /// The client went away: `delivered` generated tokens had been sent.
  case abandoned(delivered: Int)
  /// The model failed; `delivered` tokens had been sent.
  case failed(delivered: Int)
}

/// A stage of every billed generation, run in order by `MeteredGeneration`: later features
/// (input and output rails, tool-call parsing, traces) are stages, so the routes and the chat
/// app never change for them. The signed receipt is the pipeline's own `ReceiptStage`, run
/// before the route gets `.finished`, since the reply carries it.
public protocol GenerationStage: Sendable {
  /// Before the prompt reaches the model (and before admission): throw to refuse the request.
  func beforePrompt(_ job: GenerationJob) async throws
  /// Each piece of text before the client sees it: return what to send instead (the same
  /// text, a redaction, or "" to hold it back), or throw to end the generation.
  func onOutput(_ piece: String, job: GenerationJob) throws -> String
  /// After the ledger row is final (and the receipt signed): the place for traces.
  func afterEnd(_ job: GenerationJob, outcome: GenerationOutcome) async
}

extension GenerationStage {
  public func beforePrompt(_ job: GenerationJob) async throws {}
  public func onOutput(_ piece: String, job: GenerationJob) throws -> String { piece }
  public func afterEnd(_ job: GenerationJob, outcome: GenerationOutcome) async {}
}
