import Foundation

/// A task whose items are multiple-choice questions scored as lm-evaluation-harness's
/// `multiple_choice` output type does: each choice's log-likelihood after the context, acc is
/// whether the highest is the gold one, acc_norm the same after dividing each by the choice's
/// length (lm-eval's `len(choice)`: characters of the choice, delimiter excluded). In
/// generation mode the options are shown with letters and the reply's letter is the answer.
public protocol MultipleChoiceTask: EvalTask {
  /// Whether acc_norm is reported (lm-eval reports it for ARC and HellaSwag, not for MMLU,
  /// whose choices are the letters themselves).
  var reportsNormalised: Bool { get }
}

extension MultipleChoiceTask {
  public var modes: [ScoringMode] { [.loglikelihood, .generate] }

  public func metrics(mode: ScoringMode) -> [String] {
    mode == .loglikelihood && reportsNormalised ? ["acc", "acc_norm"] : ["acc"]
  }

  public func score(_ item: EvalItem, loglikelihoods: [ChoiceLoglikelihood]) -> ItemScore {
    let values = loglikelihoods.map(\.logprob)
    let best = ChoiceScoring.argmax(values)
    var metrics = ["acc": best == item.gold ? 1.0 : 0]
    if reportsNormalised {
      let normalised = ChoiceScoring.argmax(ChoiceScoring.lengthNormalised(values, choices: item.choices))
      metrics["acc_norm"] = normalised == item.gold ? 1 : 0
    }
    return ItemScore(metrics: metrics, prediction: item.choices[best])
  }

  public func generationRequest(for item: EvalItem) -> GenerationRequest? {
    LetteredQuestion.request(question: item.question, options: item.options)
  }

  public func score(_ item: EvalItem, reply: String) -> ItemScore {
    let letter = LetteredQuestion.extractLetter(from: reply, optionCount: item.options.count)
    let gold = LetteredQuestion.letter(item.gold)
    return ItemScore(metrics: ["acc": letter == gold ? 1 : 0], prediction: letter, expected: gold)
  }
}

/// The scoring arithmetic shared by the log-likelihood tasks.
public enum ChoiceScoring {
  /// The index of the largest value, the first on a tie (numpy's `argmax`).
  public static func argmax(_ values: [Double]) -> Int {
    var best = 0
    for i in values.indices where values[i] > values[best] { best = i }
    return best
  }

  /// Each log-likelihood divided by its choice's length in characters (lm-eval's
  /// `completion_len = len(choice)` for acc_norm); an empty choice is divided by 1.
  public static func lengthNormalised(_ values: [Double], choices: [String]) -> [Double] {
    zip(values, choices).map { value, choice in value / Double(max(choice.unicodeScalars.count, 1)) }
  }

  /// log(Σ exp(v)) without overflow or underflow.
  public static func logSumExp(_ values: [Double]) -> Double {
    guard let top = values.max(), top.isFinite else { return values.max() ?? -.infinity }
    return top + log(values.reduce(0) { $0 + exp($1 - top) })
  }
}

/// The generation form of a multiple-choice question when the server gives no prompt
/// logprobs: the options lettered A, B, … and the answer read back as a letter. This is Muse's
/// own format (lm-eval has no generative ARC / MMLU / HellaSwag with the same items); it says
/// so in each task's prompt format.
public enum LetteredQuestion {
  public static let instruction =
    "Answer the following multiple choice question. Reply with the letter of the correct option only."
  static let letters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ")

  public static func letter(_ index: Int) -> String {
    index >= 0 && index < letters.count ? String(letters[index]) : "?"
  }

  public static func request(question: String, options: [String]) -> GenerationRequest {
    var text = instruction + "\n\n" + question + "\n"
    for (i, option) in options.enumerated() { text += "\(letter(i)). \(option)\n" }
    text += "Answer:"
    return GenerationRequest(messages: [ChatMessage(role: "user", content: text)], maxTokens: 16)
  }

  /// The first option letter standing alone in the reply ("B", "(B)", "B.", "Answer: B"),
  /// nil when there is none.
  public static func extractLetter(from reply: String, optionCount: Int) -> String? {
    let allowed = letters.prefix(min(optionCount, letters.count)).map(String.init).joined()
    guard !allowed.isEmpty else { return nil }
    return Regex.firstGroup(#"\b([\#(allowed)])\b"#, in: reply)
  }
}

/// Small regular-expression helpers over NSRegularExpression (Python's `re` semantics for the
/// patterns the tasks use: no look-behind, `.` without newlines unless `dotAll`).
enum Regex {
  static func firstGroup(_ pattern: String, in text: String, dotAll: Bool = false) -> String? {
    guard let match = firstMatch(pattern, in: text, dotAll: dotAll) else { return nil }
    let range = match.numberOfRanges > 1 ? match.range(at: 1) : match.range
    guard let swiftRange = Range(range, in: text) else { return nil }
    return String(text[swiftRange])
  }

  static func firstMatch(_ pattern: String, in text: String, dotAll: Bool = false) -> NSTextCheckingResult? {
    // The patterns are the tasks' own constants: a bad one is a programming error.
    let regex = try! NSRegularExpression(pattern: pattern, options: dotAll ? [.dotMatchesLineSeparators] : [])
    return regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text))
  }

  static func replacing(_ pattern: String, in text: String, with template: String) -> String {
    let regex = try! NSRegularExpression(pattern: pattern)
    return regex.stringByReplacingMatches(
      in: text, range: NSRange(text.startIndex..., in: text), withTemplate: template)
  }
}
