import Foundation

/// HaluEval's QA set as its `evaluation/evaluate.py` judges it: the data's own instruction
/// (`qa_evaluation_instruction.txt`), then "#Question#: …", "#Answer#: …", "#Your Judgement#:";
/// the model says "Yes" (hallucinated) or "No". The original picks the right or the
/// hallucinated answer at random per question; here each question gives two items, one of
/// each, so the set is balanced and the same on every run. By log-likelihood the choices are
/// " Yes" and " No" after the completion prompt; by generation the chat form (its system
/// message) and its reading of the reply: '.' removed, both or neither word → failed (wrong).
public struct HaluEvalTask: EvalTask {
  public let name = "halueval"
  public let modes: [ScoringMode] = [.loglikelihood, .generate]
  public let promptFormat =
    "halueval v1: HaluEval evaluate.py qa: instruction + '\\n\\n#Question#: {q}\\n#Answer#: {a}\\n#Your "
    + "Judgement#:' (completion, choices ' Yes' / ' No') or chat with its system message and ': ' ending; "
    + "judgement: remove '.', both/neither failed; items: right and hallucinated answer per question"

  static let instructionFile = "halueval/qa_evaluation_instruction.txt"
  static let dataFile = "halueval/qa_one-turn_data.json"
  /// evaluate.py's system message for the QA judge (its spelling kept).
  public static let systemMessage =
    "You are a huallucination detector. You MUST determine if the provided answer contains hallucination "
    + "or not for the question based on the world knowledge. The answer you provided MUST be \"Yes\" or \"No\""

  public init() {}

  public func dataFiles(in directory: URL) throws -> [String] { [Self.instructionFile, Self.dataFile] }
  public func metrics(mode: ScoringMode) -> [String] { ["acc"] }

  public func loadItems(dataDirectory: URL, shots: Int) throws -> [EvalItem] {
    let instruction = String(
      decoding: try EvalData.read(Self.instructionFile, in: dataDirectory), as: UTF8.self)
    var items: [EvalItem] = []
    for (number, row) in try EvalData.jsonLines(Self.dataFile, in: dataDirectory).enumerated() {
      let question = try EvalData.string(row, "question", file: Self.dataFile)
      let right = try EvalData.string(row, "right_answer", file: Self.dataFile)
      let hallucinated = try EvalData.string(row, "hallucinated_answer", file: Self.dataFile)
      // gold 0 = "Yes" (the answer is hallucinated), 1 = "No".
      for (kind, answer, gold) in [("right", right, 1), ("hallucinated", hallucinated, 0)] {
        let body =
          instruction + "\n\n#Question#: " + question + "\n#Answer#: " + answer + "\n#Your Judgement#:"
        items.append(
          EvalItem(
            id: "\(number)-\(kind)", context: body, choices: ["Yes", "No"], gold: gold, question: question,
            options: [answer]))
      }
    }
    return items
  }

  public func score(_ item: EvalItem, loglikelihoods: [ChoiceLoglikelihood]) -> ItemScore {
    let best = ChoiceScoring.argmax(loglikelihoods.map(\.logprob))
    return ItemScore(metrics: ["acc": best == item.gold ? 1 : 0], prediction: item.choices[best])
  }

  public func generationRequest(for item: EvalItem) -> GenerationRequest? {
    // The chat form ends "#Your Judgement#: " where the completion form ends without the space.
    GenerationRequest(
      messages: [
        ChatMessage(role: "system", content: Self.systemMessage),
        ChatMessage(role: "user", content: item.context + " "),
      ], maxTokens: 16)
  }

  /// evaluate.py's reading: "." removed; "Yes" and "No" both or neither → failed.
  public static func judgement(_ reply: String) -> String? {
    let text = reply.replacingOccurrences(of: ".", with: "")
    let yes = text.contains("Yes")
    let no = text.contains("No")
    if yes == no { return nil }
    return yes ? "Yes" : "No"
  }

  public func score(_ item: EvalItem, reply: String) -> ItemScore {
    let judgement = Self.judgement(reply)
    let truth = item.choices[item.gold]
    return ItemScore(metrics: ["acc": judgement == truth ? 1 : 0], prediction: judgement, expected: truth)
  }
}
