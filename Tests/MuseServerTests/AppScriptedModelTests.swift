import Foundation
import MuseEngine
import MuseModels
import MuseTestSupport
import Testing

/// The scripted-reply fixture that the app's end-to-end tests use: Muse must generate exactly
/// the text that Scripts/fixtures/make_scripted_model.py's numpy forward pass produced.
struct AppScriptedModelTests {
  struct Golden: Decodable {
    let messages: [ChatMessage]
    let reply: String
  }

  @Test func greedyReplyIsTheScript() throws {
    let golden = try TestPaths.golden("scripted/scripted-reply.json", as: Golden.self)
    #expect(golden.reply.contains("<script>window.__pwned=1</script>"))
    #expect(golden.reply.contains("<img src=x onerror=\"window.__pwned=2\">"))
    #expect(golden.reply.contains("```html\n<!DOCTYPE html>"))
    let model = try LanguageModel(path: TestPaths.fixture("models/scripted-reply.gguf"), threads: 1)
    for sampling in [SamplingParameters.greedy, SamplingParameters(temperature: 1, seed: 7)] {
      var streamed = ""
      let result = try model.generate(
        prompt: try model.chatPrompt(golden.messages), maxTokens: 500, sampling: sampling
      ) { piece in
        streamed += piece
        return true
      }
      #expect(result.text == golden.reply)
      #expect(streamed == golden.reply)
      #expect(result.finishReason == .stop)
    }
    // Any question gets the same answer.
    let other = try model.generate(
      prompt: try model.chatPrompt([ChatMessage(role: "user", content: "Something else entirely?")]),
      maxTokens: 500, sampling: .greedy)
    #expect(other.text == golden.reply)
  }
}
