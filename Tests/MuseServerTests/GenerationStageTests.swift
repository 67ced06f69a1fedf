import Foundation
import HummingbirdTesting
import MuseEngine
import MuseStore
import MuseTestSupport
import Testing

@testable import MuseServer

/// The pipeline's seams: a stage sees every billed generation before its prompt, on each piece
/// of output and at its end, for the API (streamed or not) alike, with no route changed.
struct GenerationStageTests {
  /// Upper-cases output, refuses prompts of one model, and records how generations ended.
  final class RecordingStage: GenerationStage, @unchecked Sendable {
    private let lock = NSLock()
    private var ends: [String] = []
    var outcomes: [String] { lock.withLock { ends } }

    func beforePrompt(_ job: GenerationJob) async throws {
      if job.runner.entry.id == "smol" {
        throw OpenAIError.invalid("refused by a stage", code: "content_policy_violation")
      }
    }

    func onOutput(_ piece: String, job: GenerationJob) throws -> String { piece.uppercased() }

    func afterEnd(_ job: GenerationJob, outcome: GenerationOutcome) async {
      let name: String
      switch outcome {
      case .completed(let r): name = "completed \(r.tokens.count)"
      case .abandoned(let n): name = "abandoned \(n)"
      case .failed: name = "failed"
      }
      lock.withLock { ends.append(name) }
    }
  }

  @Test func stagesSeeEveryGeneration() async throws {
    let h = try ServerHarness()
    let stage = RecordingStage()
    let service = MuseService(
      runners: Array(h.service.models.values), store: h.store, stages: [stage])
    try await buildApplication(service: service).test(.router) { c in
      let body =
        #"{"model": "tiny", "prompt": "hello", "max_tokens": 6, "temperature": 0, "ignore_eos": true}"#
      let r = try await c.call("/v1/completions", method: .post, key: h.user, json: body)
      #expect(r.status == .ok, "\(r.text)")
      let text = ((r.json["choices"] as? [[String: Any]])?.first?["text"] as? String) ?? ""
      #expect(!text.isEmpty && text == text.uppercased(), "\(text)")
      let streamed = try await c.call(
        "/v1/completions", method: .post, key: h.user,
        json:
          #"{"model": "tiny", "prompt": "hello", "max_tokens": 6, "temperature": 0, "ignore_eos": true, "stream": true}"#
      )
      #expect(streamed.text.contains("[DONE]"))
      let refused = try await c.call(
        "/v1/chat/completions", method: .post, key: h.user,
        json: #"{"model": "smol", "messages": [{"role": "user", "content": "hi"}]}"#)
      #expect(refused.status == .badRequest && refused.error["code"] as? String == "content_policy_violation")
    }
    #expect(stage.outcomes == ["completed 6", "completed 6"])
    // A refused prompt was neither admitted nor billed.
    let rows = try h.store.usage(keyID: nil, since: nil, limit: 10)
    #expect(rows.count == 2 && rows.allSatisfy { $0.model == "tiny" && $0.status == 200 })
  }
}
