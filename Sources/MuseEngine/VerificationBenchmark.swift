import Foundation
import MuseKernels
import MuseModels

/// What verifying a generation costs (issue #20's targets), measured on the scheduler that
/// serves requests: decode speed with the activation commitment recorded and without
/// (alternating, so a drifting machine affects both alike), then checking the commitment by
/// one prefill pass (`committedRows`) against re-generating the same seeded tokens.
public struct VerificationSample: Sendable, Codable {
  public let promptTokens: Int
  public let generatedTokens: Int
  /// Generated tokens per second, per repetition.
  public var decodeWithCommitment: [Double] = []
  public var decodeWithoutCommitment: [Double] = []
  /// Seconds to recompute and check the commitment, per repetition.
  public var checkSeconds: [Double] = []
  /// Seconds to generate the same tokens again (prefill and decode), per repetition.
  public var regenerateSeconds: [Double] = []
  /// Every check passed and every regeneration gave the same tokens.
  public var allVerified = true
  /// Microseconds the recorder adds per generated token (the row copied each step, the top k
  /// taken every 32), measured alone over many tokens: the commitment's cost without the noise
  /// of whole decode runs.
  public var recorderMicrosecondsPerToken = 0.0
}

extension LanguageModel {
  public func measureVerification(promptTokens: Int, generatedTokens: Int, repetitions: Int) throws
    -> VerificationSample
  {
    let scheduler = try BatchScheduler(model: self, configuration: .init(kvCacheBytes: 256 << 20))
    var generator = SeededGenerator(seed: 7)
    let prompt = (0..<max(promptTokens, 1)).map { _ in Int(generator.next() % UInt64(config.vocabularySize)) }
    var sampling = SamplingParameters(temperature: 0.8, seed: 11)
    sampling.ignoreEOS = true
    func run(commit: Bool) throws -> GenerationResult {
      var request = GenerationRequest(prompt: prompt, maxTokens: generatedTokens, sampling: sampling)
      request.commitActivations = commit
      let done = DispatchSemaphore(value: 0)
      let box = ResultBox()
      try scheduler.submit(request, onPiece: { _, _ in true }) { outcome in
        box.set(outcome)
        done.signal()
      }
      done.wait()
      return try box.get()
    }
    var sample = VerificationSample(promptTokens: prompt.count, generatedTokens: generatedTokens)
    _ = try run(commit: false)  // warms caches and pages in the weights
    let clock = ContinuousClock()
    let width = config.embeddingLength
    let row = (0..<width).map { _ in Float(generator.next() % 2001) / 1000 - 1 }
    var recorder = ActivationRecorder()
    let tokens = 32 * 1024
    let recordingStart = clock.now
    for token in 1...tokens {
      // What the scheduler does per token: copy the row out of the forward pass, keep it.
      let copy = row.withUnsafeBufferPointer { Array($0) }
      recorder.accepted(row: copy, tokens: token)
    }
    _ = recorder.commitment(tokens: tokens)
    sample.recorderMicrosecondsPerToken = (clock.now - recordingStart).seconds * 1e6 / Double(tokens)
    for _ in 0..<repetitions {
      let committed = try run(commit: true)
      sample.decodeWithCommitment.append(committed.decodeRate)
      sample.decodeWithoutCommitment.append(try run(commit: false).decodeRate)
      var start = clock.now
      let rows = try committedRows(prompt: prompt, generated: committed.tokens)
      let passed = committed.activations?.check(rows: rows)?.allSatisfy(\.passes) ?? false
      sample.checkSeconds.append((clock.now - start).seconds)
      start = clock.now
      let again = try run(commit: false)
      sample.regenerateSeconds.append((clock.now - start).seconds)
      if !passed || again.tokens != committed.tokens { sample.allVerified = false }
    }
    return sample
  }
}

private final class ResultBox: @unchecked Sendable {
  private let lock = NSLock()
  private var value: Result<GenerationResult, Error>?
  func set(_ v: Result<GenerationResult, Error>) { lock.withLock { value = v } }
  func get() throws -> GenerationResult { try lock.withLock { value! }.get() }
}
