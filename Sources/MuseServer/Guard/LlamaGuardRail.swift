import Foundation
import MuseEngine
import MuseModels

/// What Llama Guard said about a conversation, and how sure it was.
public struct LlamaGuardAssessment: Sendable, Equatable {
  /// The parsed answer, all the categories it named.
  public var verdict: LlamaGuardVerdict
  /// The verdict's categories among those the rail checks (a model may name one it was not
  /// asked about; llama-stack ignores those too).
  public var violated: [String]
  /// The probability of a first token "unsafe": Meta's classifier score for Llama Guard, to
  /// threshold. When the first token is not a whole verdict word (a vocabulary that spells it
  /// in pieces), 1 for an unsafe verdict and 0 for a safe one.
  public var score: Double
  /// The probability of a first token "safe", the same way (≈ 1 − `score` for a Llama Guard
  /// model, whose first token is one of the two).
  public var safeProbability: Double
  /// The model's answer as generated.
  public var reply: String

  /// Whether the rail reports a finding: an unsafe verdict naming a checked category, or none.
  public var isUnsafe: Bool { !verdict.isSafe && (verdict.categories.isEmpty || !violated.isEmpty) }
}

/// Llama Guard 3 (1B or 8B, served as one of the models) as a guardrail: it renders Meta's
/// prompt for the text, generates greedily (at most 20 tokens, the first token's 20 most likely
/// alternatives), parses the verdict and scores it by the first token's probability, as the
/// model card describes. Findings: one per violated category (`S1` … `S14`) with that score,
/// or one `unsafe` when the verdict names none; none for a safe verdict (`assess` still gives
/// its score). An answer that is not a verdict throws, so the policy fails closed or open as
/// configured: it never reads as safe.
public struct LlamaGuardRail: GuardRail {
  public let name = "llama_guard"
  public let runner: ModelRunner
  public let role: LlamaGuardRole
  /// The prompt, or why the configured categories cannot make one (thrown by every check).
  private let prompt: Result<LlamaGuardPrompt, LlamaGuardError>

  static let maxTokens = 20
  static let alternatives = 20

  /// `role`: `.user` checks the caller's messages, `.agent` the model's replies. `categories`:
  /// the codes to check (nil: all fourteen); a code outside S1–S14 makes every check throw.
  public init(runner: ModelRunner, role: LlamaGuardRole, categories: [String]? = nil) {
    self.runner = runner
    self.role = role
    do {
      prompt = .success(try LlamaGuardPrompt(role: role, categories: categories))
    } catch let error as LlamaGuardError {
      prompt = .failure(error)
    } catch {
      prompt = .failure(.unknownCategory("\(error)"))
    }
  }

  /// The categories checked.
  public var categories: [LlamaGuardCategory] { (try? prompt.get().categories) ?? [] }

  public func inspect(_ text: String) async throws -> [GuardFinding] {
    findings(try await assess(text))
  }

  /// A reply judged in its conversation: the user's turn, then the reply (the agent role's
  /// prompt, as Meta's model card shows it); a user-role rail judges `text` alone.
  public func inspect(_ text: String, replyingTo userTurn: String?) async throws -> [GuardFinding] {
    guard role == .agent, let userTurn else { return try await inspect(text) }
    return findings(try await assess(conversation: [(.user, userTurn), (.agent, text)]))
  }

  /// The findings for an assessment (see the type's comment).
  public func findings(_ assessment: LlamaGuardAssessment) -> [GuardFinding] {
    guard assessment.isUnsafe else { return [] }
    let codes = assessment.violated.isEmpty ? ["unsafe"] : assessment.violated
    return codes.map { GuardFinding(category: $0, score: assessment.score) }
  }

  /// Judges `text` as the rail's role's only message.
  public func assess(_ text: String) async throws -> LlamaGuardAssessment {
    try await assess(conversation: [(role, text)])
  }

  /// Judges the last `role` message of `conversation`; the earlier turns are context (for an
  /// output check, the user's prompt before the reply).
  public func assess(conversation: [(role: LlamaGuardRole, text: String)]) async throws
    -> LlamaGuardAssessment
  {
    let prompt = try self.prompt.get()
    let tokens = try prompt.tokens(conversation: conversation, model: runner.model)
    let running = try runner.start(
      prompt: tokens, maxTokens: Self.maxTokens, sampling: .greedy, stop: [], logprobs: Self.alternatives,
      owner: name)
    var reply = ""
    var first: TokenLogprob?
    for try await event in running.events {
      if case .text(let piece, let logprobs, _) = event {
        reply += piece
        if first == nil { first = logprobs.first }
      }
    }
    let verdict = try LlamaGuardVerdict.parse(reply)
    let checked = Set(prompt.categories.map(\.code))
    let (unsafe, safe) = Self.firstTokenProbabilities(first, verdict: verdict)
    return LlamaGuardAssessment(
      verdict: verdict, violated: verdict.categories.filter { checked.contains($0) }, score: unsafe,
      safeProbability: safe, reply: reply)
  }

  /// P(first token "unsafe…") and P(first token "safe…"), summed over the first position's
  /// alternatives whose trimmed text starts with that word; 1/0 from the verdict when the
  /// chosen first token does not start with the verdict's word.
  static func firstTokenProbabilities(_ first: TokenLogprob?, verdict: LlamaGuardVerdict) -> (Double, Double)
  {
    func word(_ text: String) -> String? {
      let t = text.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
      return t.hasPrefix("unsafe") ? "unsafe" : t.hasPrefix("safe") ? "safe" : nil
    }
    let expected = verdict.isSafe ? "safe" : "unsafe"
    guard let first, word(first.token) == expected else { return verdict.isSafe ? (0, 1) : (1, 0) }
    var unsafe = 0.0
    var safe = 0.0
    for alternative in first.top {
      switch word(alternative.token) {
      case "unsafe": unsafe += exp(Double(alternative.logprob))
      case "safe": safe += exp(Double(alternative.logprob))
      default: break
      }
    }
    return (unsafe, safe)
  }
}
