import Foundation

/// The built-in content-safety rail: the MiniLM moderation classifier, one finding per OpenAI
/// category with its score and the classifier's own verdict (all of them, flagged or not: the
/// policy applies thresholds; a rule without one keeps the head's, `threshold(for:)`, and its
/// gate's flags). Classification runs on the classifier's serial queue, off the async executors.
public struct ModerationRail: GuardRail {
  public let name = "moderation"
  public let classifier: ModerationClassifier

  public init(classifier: ModerationClassifier) {
    self.classifier = classifier
  }

  /// The categories the rail reports, in the head's order.
  public var categories: [String] { classifier.categories }

  /// The threshold the head was trained with for `category` (F1-best on cross-validation folds).
  public func threshold(for category: String) -> Double {
    classifier.threshold(for: category) ?? 1
  }

  public func inspect(_ text: String) async throws -> [GuardFinding] {
    let result = try await classify(text)
    return classifier.categories.map {
      GuardFinding(category: $0, score: result.scores[$0] ?? 0, flagged: result.flagged[$0])
    }
  }

  /// The classifier's full answer for `text` (scores, flags, overall decision), on its queue.
  public func classify(_ text: String) async throws -> ModerationScores {
    try await classifier.classifyOffLoop([text])[0]
  }
}
