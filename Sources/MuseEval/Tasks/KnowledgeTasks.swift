import Foundation

/// ARC-Challenge as lm-eval's `arc_challenge`: "Question: {question}\nAnswer:" and each
/// choice's text after a space; acc and acc_norm.
public struct ARCChallengeTask: MultipleChoiceTask {
  public let name = "arc-challenge"
  static let file = "arc/arc_challenge_test.jsonl"
  public let reportsNormalised = true
  public let promptFormat =
    "arc-challenge v1: lm-eval arc_challenge: context 'Question: {question}\\nAnswer:', choices "
    + "' {text}'; generation: Muse lettered question"

  public init() {}

  public func dataFiles(in directory: URL) throws -> [String] { [Self.file] }

  public func loadItems(dataDirectory: URL, shots: Int) throws -> [EvalItem] {
    let file = Self.file
    return try EvalData.jsonLines(file, in: dataDirectory).map { row in
      let question = try EvalData.string(row, "question", file: file)
      guard let options = row["options"] as? [[String: Any]],
        let labels = options.map({ $0["label"] as? String }) as? [String],
        let texts = options.map({ $0["text"] as? String }) as? [String],
        let answer = row["answer"] as? String, let gold = labels.firstIndex(of: answer)
      else { throw EvalTaskError.badData(file: file, problem: "an item's options or answer are malformed") }
      let id = (row["id"] as? String) ?? "\(row["index"] ?? "")"
      return EvalItem(
        id: id, context: "Question: \(question)\nAnswer:", choices: texts, gold: gold, question: question,
        options: texts)
    }
  }
}

/// HellaSwag as lm-eval's `hellaswag`: the activity label, ": ", ctx_a, " ", ctx_b
/// capitalised (Python's `str.capitalize`), each cleaned by its `preprocess`; the endings
/// cleaned the same way; acc and acc_norm.
public struct HellaSwagTask: MultipleChoiceTask {
  public let name = "hellaswag"
  static let file = "hellaswag/hellaswag_subset1000.jsonl"
  public let reportsNormalised = true
  public let promptFormat =
    "hellaswag v1: lm-eval hellaswag: preprocess(activity_label + ': ' + ctx_a + ' ' + "
    + "ctx_b.capitalize()), choices ' ' + preprocess(ending); generation: Muse lettered question"

  public init() {}

  public func dataFiles(in directory: URL) throws -> [String] { [Self.file] }

  /// lm-eval's `hellaswag.utils.preprocess`: strip, " [title]" → ". ", drop "[…]" (shortest
  /// match), double spaces → single (once, as Python's `replace` does).
  public static func preprocess(_ text: String) -> String {
    var text = text.trimmingCharacters(in: .whitespacesAndNewlines)
    text = text.replacingOccurrences(of: " [title]", with: ". ")
    text = Regex.replacing(#"\[.*?\]"#, in: text, with: "")
    return text.replacingOccurrences(of: "  ", with: " ")
  }

  /// Python's `str.capitalize`: the first character upper-cased, the rest lower-cased.
  static func capitalize(_ text: String) -> String {
    guard let first = text.first else { return text }
    return first.uppercased() + text.dropFirst().lowercased()
  }

  public func loadItems(dataDirectory: URL, shots: Int) throws -> [EvalItem] {
    let file = Self.file
    return try EvalData.jsonLines(file, in: dataDirectory).map { row in
      let label = try EvalData.string(row, "activity_label", file: file)
      let contextA = try EvalData.string(row, "ctx_a", file: file)
      let contextB = try EvalData.string(row, "ctx_b", file: file)
      guard let endings = row["endings"] as? [String],
        let gold = (row["label"] as? Int) ?? Int("\(row["label"] ?? "")"),
        endings.indices.contains(gold)
      else { throw EvalTaskError.badData(file: file, problem: "an item's endings or label are malformed") }
      let query = Self.preprocess(label + ": " + contextA + " " + Self.capitalize(contextB))
      let choices = endings.map(Self.preprocess)
      return EvalItem(
        id: "\(row["ind"] ?? "")", context: query, choices: choices, gold: gold,
        question: "Which ending continues the text best?\n\n" + query, options: choices)
    }
  }
}

/// MMLU as lm-eval's `mmlu` (default variant): "The following are multiple choice questions
/// (with answers) about {subject}.\n\n", `shots` examples from the subject's dev split (the
/// first ones, lm-eval's `first_n`), each "{question}\nA. …\nD. …\nAnswer: {letter}\n\n",
/// then the question; the choices are the letters; acc.
public struct MMLUTask: MultipleChoiceTask {
  public let name = "mmlu"
  public let reportsNormalised = false
  public let promptFormat =
    "mmlu v1: lm-eval mmlu default: description 'The following are multiple choice questions (with "
    + "answers) about {subject}.\\n\\n', dev first_n shots '{q}\\nA. {a}\\n…D. {d}\\nAnswer: {L}\\n\\n', "
    + "choices ' A'…' D'; generation: Muse lettered question"

  public init() {}

  public func dataFiles(in directory: URL) throws -> [String] {
    try EvalData.files(in: "mmlu/dev", suffix: "_dev.csv", under: directory) + testFiles(in: directory)
  }

  static let letters = ["A", "B", "C", "D"]

  static func questionText(_ row: [String]) -> String {
    var text = row[0].trimmingCharacters(in: .whitespacesAndNewlines) + "\n"
    for i in 0..<4 { text += "\(letters[i]). \(row[i + 1])\n" }
    return text + "Answer:"
  }

  /// The rows of one subject's CSV after its header, each checked to have a question, four
  /// choices and an answer 0–3.
  static func rows(_ file: String, in directory: URL) throws -> [(row: [String], answer: Int)] {
    try EvalData.csv(file, in: directory).dropFirst().map { row in
      guard row.count >= 6, let answer = Int(row[5]), (0..<4).contains(answer) else {
        throw EvalTaskError.badData(
          file: file, problem: "a row has no question, four choices and an answer 0–3")
      }
      return (row, answer)
    }
  }

  public func testFiles(in directory: URL) throws -> [String] {
    try EvalData.files(in: "mmlu/test", suffix: "_test.csv", under: directory)
  }

  public func loadItems(dataDirectory: URL, shots: Int) throws -> [EvalItem] {
    var items: [EvalItem] = []
    for file in try testFiles(in: dataDirectory) {
      let subject = String(file.dropFirst("mmlu/test/".count).dropLast("_test.csv".count))
      var header =
        "The following are multiple choice questions (with answers) about "
        + subject.replacingOccurrences(of: "_", with: " ") + ".\n\n"
      if shots > 0 {
        let examples = try Self.rows("mmlu/dev/\(subject)_dev.csv", in: dataDirectory).prefix(shots)
        for example in examples {
          header += Self.questionText(example.row) + " " + Self.letters[example.answer] + "\n\n"
        }
      }
      for (number, entry) in try Self.rows(file, in: dataDirectory).enumerated() {
        items.append(
          EvalItem(
            id: "\(subject)/\(number)", context: header + Self.questionText(entry.row), choices: Self.letters,
            gold: entry.answer, question: entry.row[0], options: Array(entry.row[1...4]), category: subject))
      }
    }
    return items
  }
}
