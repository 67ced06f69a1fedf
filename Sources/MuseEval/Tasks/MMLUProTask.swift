import Foundation

/// MMLU-Pro as TIGER-AI-Lab's `evaluate_from_api.py` runs it: one user message holding the
/// instruction for the question's category, `shots` chain-of-thought examples of that category
/// from the validation split (their `cot_content`, "A: " dropped), then the question as
/// "Question: …\nOptions: A. …\n…Answer: Let's think step by step.\n\n"; options "N/A" are
/// dropped; greedy. The reply has "**" removed, and the answer is the first of its three
/// extractions: "answer is (X)", then "…Answer: X", then the last standalone letter A–J. No
/// answer is counted wrong (the original scores it as a random guess).
public struct MMLUProTask: EvalTask {
  public let name = "mmlu-pro"
  public let modes: [ScoringMode] = [.generate]
  public let promptFormat =
    "mmlu-pro v1: TIGER-AI-Lab evaluate_from_api: 'The following are multiple choice questions (with "
    + "answers) about {category}. Think step by step and then output the answer in the format of "
    + "\"The answer is (X)\" at the end.\\n\\n' + cot shots + format_example; user message; "
    + "extract_answer / extract_again / extract_final after removing '**'"

  static let testFile = "mmlu-pro-sample/mmlu_pro_sample300.json"
  /// The validation split with `cot_content` (not in the shared data; needed for shots > 0).
  static let validationFile = "mmlu-pro-sample/mmlu_pro_validation.json"
  static let letters = Array("ABCDEFGHIJ")

  /// Examples per category the official script puts before each question.
  public static let officialShots = 5

  /// Generated tokens allowed for the chain of thought (the official script allows 4000).
  public var maxTokens: Int

  public init(maxTokens: Int = 2048) { self.maxTokens = maxTokens }

  public func dataFiles(in directory: URL) throws -> [String] {
    let validation = directory.appendingPathComponent(Self.validationFile).path
    return FileManager.default.fileExists(atPath: validation)
      ? [Self.testFile, Self.validationFile] : [Self.testFile]
  }
  public func metrics(mode: ScoringMode) -> [String] { ["acc"] }

  /// `format_example(question, options, cot_content)`.
  public static func formatExample(question: String, options: [String], cotContent: String = "") -> String {
    var cot = cotContent.isEmpty ? "Let's think step by step." : cotContent
    if cot.hasPrefix("A: ") { cot = String(cot.dropFirst(3)) }
    var text = "Question: \(question)\nOptions: "
    for (i, option) in options.enumerated() { text += "\(letters[i]). \(option)\n" }
    return text + "Answer: " + cot + "\n\n"
  }

  public static func instruction(category: String) -> String {
    "The following are multiple choice questions (with answers) about \(category). Think step by step and "
      + "then output the answer in the format of \"The answer is (X)\" at the end.\n\n"
  }

  /// `extract_answer` → `extract_again` → `extract_final`, on the reply with "**" removed.
  public static func extractAnswer(_ reply: String) -> String? {
    let text = reply.replacingOccurrences(of: "**", with: "")
    if let letter = Regex.firstGroup(#"answer is \(?([A-J])\)?"#, in: text) { return letter }
    if let letter = Regex.firstGroup(#".*[aA]nswer:\s*([A-J])"#, in: text) { return letter }
    guard let match = Regex.firstMatch(#"\b[A-J]\b(?!.*\b[A-J]\b)"#, in: text, dotAll: true),
      let range = Range(match.range, in: text)
    else { return nil }
    return String(text[range])
  }

  struct Question {
    let id: String
    let question: String
    let options: [String]
    let answerIndex: Int
    let category: String
    let cotContent: String
  }

  static func questions(_ file: String, in directory: URL) throws -> [Question] {
    try EvalData.jsonArray(file, in: directory).map { row in
      guard let options = row["options"] as? [String], let answerIndex = row["answer_index"] as? Int,
        let category = row["category"] as? String, let question = row["question"] as? String
      else {
        throw EvalTaskError.badData(
          file: file, problem: "an item lacks question, options, answer_index or category")
      }
      // preprocess(): options "N/A" are dropped (they only ever pad the end of the list).
      let kept = options.filter { $0 != "N/A" }
      guard kept.indices.contains(answerIndex), kept.count <= letters.count else {
        throw EvalTaskError.badData(file: file, problem: "an item's answer_index is outside its options")
      }
      return Question(
        id: "\(row["question_id"] ?? "")", question: question, options: kept, answerIndex: answerIndex,
        category: category, cotContent: row["cot_content"] as? String ?? "")
    }
  }

  public func loadItems(dataDirectory: URL, shots: Int) throws -> [EvalItem] {
    var examples: [String: [Question]] = [:]
    if shots > 0 {
      guard
        FileManager.default.fileExists(atPath: dataDirectory.appendingPathComponent(Self.validationFile).path)
      else {
        throw EvalTaskError.missingData(
          file: dataDirectory.appendingPathComponent(Self.validationFile).path,
          hint:
            "the validation split with cot_content gives the \(shots)-shot examples; pass --shots 0 without it"
        )
      }
      for example in try Self.questions(Self.validationFile, in: dataDirectory) {
        examples[example.category, default: []].append(example)
      }
    }
    return try Self.questions(Self.testFile, in: dataDirectory).map { q in
      var prompt = Self.instruction(category: q.category)
      for example in (examples[q.category] ?? []).prefix(shots) {
        prompt += Self.formatExample(
          question: example.question, options: example.options, cotContent: example.cotContent)
      }
      prompt += Self.formatExample(question: q.question, options: q.options)
      return EvalItem(
        id: q.id, context: prompt, choices: q.options.indices.map { String(Self.letters[$0]) },
        gold: q.answerIndex,
        question: q.question, options: q.options, category: q.category)
    }
  }

  public func generationRequest(for item: EvalItem) -> GenerationRequest? {
    GenerationRequest(messages: [ChatMessage(role: "user", content: item.context)], maxTokens: maxTokens)
  }

  public func score(_ item: EvalItem, reply: String) -> ItemScore {
    let answer = Self.extractAnswer(reply)
    let gold = item.choices[item.gold]
    return ItemScore(metrics: ["acc": answer == gold ? 1 : 0], prediction: answer, expected: gold)
  }

  /// Not reached: `modes` has no log-likelihood, and the runner refuses a mode a task lacks
  /// before sending anything. Scores nothing as correct if it ever were.
  public func score(_ item: EvalItem, loglikelihoods: [ChoiceLoglikelihood]) -> ItemScore {
    ItemScore(metrics: ["acc": 0], prediction: nil)
  }
}
