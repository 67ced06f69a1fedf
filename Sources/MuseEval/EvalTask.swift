import Foundation

/// How an item is scored: by the log-likelihood the server gives each choice (`echo` +
/// `logprobs` on `/v1/completions`), or by a generated reply from which an answer is extracted.
public enum ScoringMode: String, Sendable, Codable, CaseIterable {
  case loglikelihood
  case generate
}

/// One question of a benchmark as a task reads it from the data: what log-likelihood scoring
/// compares (a context and its choices) and what a generation prompt shows (the question and
/// its options).
public struct EvalItem: Sendable, Equatable {
  /// Stable across runs of the same data: the data set's own id, or the file and line.
  public let id: String
  /// The log-likelihood prompt, few-shot examples included (lm-eval's context).
  public let context: String
  /// The choices as lm-eval's `doc_to_choice` gives them; each is scored as
  /// `context + delimiter + choice`.
  public let choices: [String]
  /// The correct choice (MC2: the first of the true ones).
  public let gold: Int
  /// TruthfulQA MC2: the first `trueCount` choices are true, the rest false.
  public var trueCount: Int?
  /// For generation prompts: the question as the data has it, the options it shows, and a
  /// subject or category where the prompt names one.
  public var question: String
  public var options: [String]
  public var category: String?

  public init(
    id: String, context: String, choices: [String], gold: Int, question: String, options: [String],
    category: String? = nil, trueCount: Int? = nil
  ) {
    self.id = id
    self.context = context
    self.choices = choices
    self.gold = gold
    self.question = question
    self.options = options
    self.category = category
    self.trueCount = trueCount
  }
}

/// A chat message of a generation request.
public struct ChatMessage: Sendable, Equatable, Codable {
  public let role: String
  public let content: String
  public init(role: String, content: String) {
    self.role = role
    self.content = content
  }
}

/// What a generation request asks the server for.
public struct GenerationRequest: Sendable, Equatable {
  public let messages: [ChatMessage]
  public let maxTokens: Int
  public init(messages: [ChatMessage], maxTokens: Int) {
    self.messages = messages
    self.maxTokens = maxTokens
  }
}

/// What scoring one item gave: the metrics (each 0…1 for an item), the prediction, and what
/// the server said (kept in the per-item results so a reader can re-score them).
public struct ItemScore: Sendable, Equatable {
  public var metrics: [String: Double]
  /// The chosen choice (log-likelihood) or the extracted answer (generation); nil when the
  /// reply held no answer (counted wrong).
  public var prediction: String?
  /// The answer a generated reply should give, in the form the prediction takes (a letter,
  /// "Yes" / "No"); nil for log-likelihood scores, whose gold is the choice itself.
  public var expected: String?
  public init(metrics: [String: Double], prediction: String?, expected: String? = nil) {
    self.metrics = metrics
    self.prediction = prediction
    self.expected = expected
  }
}

/// A benchmark: items from the data, the requests each item needs, and how the server's
/// answers are scored. Each task is a small type; `EvalTasks.all` lists them.
public protocol EvalTask: Sendable {
  /// The name `muse eval --task` takes.
  var name: String { get }
  /// The files under the data directory the task reads (hashed into the summary).
  func dataFiles(in directory: URL) throws -> [String]
  /// The metrics one item yields in each mode, in the order the summary shows them.
  func metrics(mode: ScoringMode) -> [String]
  /// The modes it can be scored in.
  var modes: [ScoringMode] { get }
  /// A description of the prompt format and answer extraction that changes whenever either
  /// does (its hash goes into the summary and the resume check).
  var promptFormat: String { get }
  /// The items, in the data's order. `shots` few-shot examples where the task has them.
  func loadItems(dataDirectory: URL, shots: Int) throws -> [EvalItem]
  /// The generation request for an item (nil where the task is scored only by log-likelihood).
  func generationRequest(for item: EvalItem) -> GenerationRequest?
  /// The score of an item from its choices' log-likelihoods.
  func score(_ item: EvalItem, loglikelihoods: [ChoiceLoglikelihood]) -> ItemScore
  /// The score of an item from a generated reply.
  func score(_ item: EvalItem, reply: String) -> ItemScore
}

/// The log-likelihood of one choice's continuation given its context.
public struct ChoiceLoglikelihood: Sendable, Equatable, Codable {
  /// Sum of the continuation tokens' log-probabilities.
  public let logprob: Double
  /// Whether every continuation token was the most likely one (lm-eval's `is_greedy`: its
  /// logprob is the largest of its `top_logprobs`).
  public let isGreedy: Bool
  public init(logprob: Double, isGreedy: Bool) {
    self.logprob = logprob
    self.isGreedy = isGreedy
  }
}

public enum EvalTaskError: Error, CustomStringConvertible, Equatable {
  case unknownTask(String)
  case missingData(file: String, hint: String)
  case badData(file: String, problem: String)
  case modeUnsupported(task: String, mode: ScoringMode)

  public var description: String {
    switch self {
    case .unknownTask(let name):
      return "no task '\(name)'; the tasks are \(EvalTasks.all.map(\.name).joined(separator: ", "))"
    case .missingData(let file, let hint): return "\(file) is missing (\(hint))"
    case .badData(let file, let problem): return "\(file): \(problem)"
    case .modeUnsupported(let task, let mode):
      return "\(task) cannot be scored by \(mode.rawValue)"
    }
  }
}

/// Every task `muse eval` runs.
public enum EvalTasks {
  public static let all: [any EvalTask] = [
    ARCChallengeTask(), HellaSwagTask(), MMLUTask(), MMLUProTask(),
    TruthfulQATask(variant: .mc1), TruthfulQATask(variant: .mc2), HaluEvalTask(),
  ]

  public static func named(_ name: String) throws -> any EvalTask {
    guard let task = all.first(where: { $0.name == name }) else { throw EvalTaskError.unknownTask(name) }
    return task
  }
}
