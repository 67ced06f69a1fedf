import Foundation
import MuseEngine
import MuseModels

/// Collects what the scheduler reports for many requests, from its thread, and lets a test
/// wait for all of them.
final class BatchCollector: @unchecked Sendable {
  private let lock = NSLock()
  private let done = DispatchSemaphore(value: 0)
  private var results: [Int: GenerationResult] = [:]
  private var errors: [Int: Error] = [:]
  private(set) var finishOrder: [Int] = []

  func finish(_ index: Int) -> @Sendable (Result<GenerationResult, Error>) -> Void {
    { outcome in
      self.lock.withLock {
        switch outcome {
        case .success(let r): self.results[index] = r
        case .failure(let e): self.errors[index] = e
        }
        self.finishOrder.append(index)
      }
      self.done.signal()
    }
  }

  /// Waits for `count` requests to finish (at most `seconds`), then returns their results.
  func wait(for count: Int, seconds: Double = 600) throws -> [Int: GenerationResult] {
    for _ in 0..<count {
      guard done.wait(timeout: .now() + seconds) == .success else { throw BatchTestError.timedOut }
    }
    return try lock.withLock {
      if let (index, error) = errors.first { throw BatchTestError.failed(index: index, error: "\(error)") }
      return results
    }
  }

  var order: [Int] { lock.withLock { finishOrder } }
}

enum BatchTestError: Error {
  case timedOut
  case failed(index: Int, error: String)
}

/// Prompts of different lengths from the model's own tokenizer, so rows of a batch differ.
func batchPrompts(_ lm: LanguageModel, count: Int) -> [[Int]] {
  let texts = [
    "Once upon a time", "The capital of France is", "def fibonacci(n):", "Water boils at",
    "In 1492 Columbus sailed across the ocean and", "A haiku about autumn leaves:",
    "List three colours:", "The quick brown fox jumps over the lazy dog because it was",
    "Translate to French: good morning", "1, 2, 3, 4,",
  ]
  return (0..<count).map {
    lm.tokenizer.encode(texts[$0 % texts.count], addSpecial: true, parseSpecial: false)
  }
}
