import Foundation
import HummingbirdTesting
import MuseTestSupport
import Testing

@testable import MuseServer

@Suite(.serialized)
struct ChatCompletionTests {
  let france =
    #"{"model": "smol", "messages": [{"role": "user", "content": "What is the capital of France?"}], "temperature": 0, "max_tokens": 20}"#

  @Test func answersLikeOpenAI() async throws {
    let h = try ServerHarness()
    try await h.test { client in
      let r = try await client.call("/v1/chat/completions", method: .post, key: h.user, json: france)
      #expect(r.status == .ok)
      let j = r.json
      #expect(j["object"] as? String == "chat.completion" && j["model"] as? String == "smol")
      let choice = (j["choices"] as? [[String: Any]])?.first
      let message = choice?["message"] as? [String: Any]
      #expect(message?["role"] as? String == "assistant")
      #expect(message?["content"] as? String == "The capital of France is Paris.")
      #expect(choice?["finish_reason"] as? String == "stop")
      let usage = j["usage"] as? [String: Int]
      #expect(
        usage?["prompt_tokens"] == 37 && usage?["completion_tokens"] == 7 && usage?["total_tokens"] == 44)
    }
  }

  @Test func streamsTheSameTextAsServerSentEvents() async throws {
    let h = try ServerHarness()
    try await h.test { client in
      let body = france.replacingOccurrences(
        of: "\"max_tokens\": 20",
        with: "\"max_tokens\": 20, \"stream\": true, \"stream_options\": {\"include_usage\": true}")
      let r = try await client.call("/v1/chat/completions", method: .post, key: h.user, json: body)
      #expect(r.status == .ok && r.headers[.contentType] == "text/event-stream")
      let events = r.text.components(separatedBy: "\n\n").filter { !$0.isEmpty }
      #expect(events.last == "data: [DONE]")
      var text = ""
      var finish: String?
      var usage: [String: Int]?
      for e in events.dropLast() {
        #expect(e.hasPrefix("data: "))
        let j = try JSONSerialization.jsonObject(with: Data(e.dropFirst(6).utf8)) as! [String: Any]
        #expect(j["object"] as? String == "chat.completion.chunk")
        if let u = j["usage"] as? [String: Int] { usage = u }
        for c in j["choices"] as? [[String: Any]] ?? [] {
          text += (c["delta"] as? [String: Any])?["content"] as? String ?? ""
          if let f = c["finish_reason"] as? String { finish = f }
        }
      }
      #expect(text == "The capital of France is Paris.")
      #expect(finish == "stop" && usage?["completion_tokens"] == 7)
    }
  }

  @Test func lengthLimitAndStopSequences() async throws {
    let h = try ServerHarness()
    try await h.test { client in
      let short = france.replacingOccurrences(of: "\"max_tokens\": 20", with: "\"max_tokens\": 3")
      let r = try await client.call("/v1/chat/completions", method: .post, key: h.user, json: short)
      let choice = (r.json["choices"] as? [[String: Any]])?.first
      #expect(choice?["finish_reason"] as? String == "length")
      #expect((r.json["usage"] as? [String: Int])?["completion_tokens"] == 3)
      let stop = france.replacingOccurrences(
        of: "\"max_tokens\": 20", with: "\"max_tokens\": 20, \"stop\": [\" is\"]")
      let s = try await client.call("/v1/chat/completions", method: .post, key: h.user, json: stop)
      let sc = (s.json["choices"] as? [[String: Any]])?.first
      #expect((sc?["message"] as? [String: Any])?["content"] as? String == "The capital of France")
      #expect(sc?["finish_reason"] as? String == "stop")
    }
  }

  @Test func completionsEndpointWithEcho() async throws {
    let h = try ServerHarness()
    try await h.test { client in
      let r = try await client.call(
        "/v1/completions", method: .post, key: h.user,
        json:
          #"{"model": "smol", "prompt": "The capital of France is", "max_tokens": 2, "temperature": 0, "echo": true}"#
      )
      #expect(r.status == .ok && r.json["object"] as? String == "text_completion")
      let text = (r.json["choices"] as? [[String: Any]])?.first?["text"] as? String ?? ""
      #expect(text.hasPrefix("The capital of France is") && text.count > "The capital of France is".count)
    }
  }

  @Test func severalPromptsGiveOneChoiceEach() async throws {
    let h = try ServerHarness()
    try await h.test { client in
      let r = try await client.call(
        "/v1/completions", method: .post, key: h.user,
        json:
          #"{"model": "smol", "prompt": ["The capital of France is", "One, two,"], "max_tokens": 3, "temperature": 0}"#
      )
      #expect(r.status == .ok)
      let choices = r.json["choices"] as? [[String: Any]] ?? []
      #expect(choices.compactMap { $0["index"] as? Int } == [0, 1])
      let single = try await client.call(
        "/v1/completions", method: .post, key: h.user,
        json: #"{"model": "smol", "prompt": "One, two,", "max_tokens": 3, "temperature": 0}"#)
      let text = (single.json["choices"] as? [[String: Any]])?.first?["text"] as? String
      #expect(choices.last?["text"] as? String == text)
      #expect((r.json["usage"] as? [String: Int])?["completion_tokens"] == 6)
    }
  }

  @Test func seededSamplingIsReproducible() async throws {
    let h = try ServerHarness()
    try await h.test { client in
      let body =
        #"{"model": "smol", "messages": [{"role": "user", "content": "Tell me a story."}], "temperature": 1, "seed": 7, "max_tokens": 12}"#
      let a = try await client.call("/v1/chat/completions", method: .post, key: h.user, json: body)
      let b = try await client.call("/v1/chat/completions", method: .post, key: h.user, json: body)
      let ta =
        ((a.json["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any])?["content"] as? String
      #expect(
        ta != nil
          && ta == ((b.json["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any])?["content"]
            as? String
      )
    }
  }
}
