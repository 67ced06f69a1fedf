import Foundation
import MuseKernels
import MuseModels
import MuseTestSupport
import Testing

@testable import MuseEngine

struct GenerationErrorTests {
  @Test func promptLongerThanTheContextIsAClearError() throws {
    let lm = try LanguageModel(
      path: TestPaths.fixture("models/llama-f32.gguf"), options: ModelOptions(contextLength: 16), threads: 1)
    let prompt = Array(repeating: 65, count: 20)
    #expect {
      try lm.generate(prompt: prompt, maxTokens: 4, sampling: .greedy)
    } throws: { e in
      "\(e)" == "20 tokens do not fit in the context window of 16 tokens"
    }
  }

  @Test func generationStopsAtTheContextWindow() throws {
    let lm = try LanguageModel(
      path: TestPaths.fixture("models/llama-f32.gguf"), options: ModelOptions(contextLength: 16), threads: 1)
    let result = try lm.generate(prompt: Array(repeating: 65, count: 10), maxTokens: 100, sampling: .greedy)
    #expect(result.finishReason == .length || result.finishReason == .stop)
    #expect(result.promptTokens + result.tokens.count <= 16)
  }

  @Test func tokenOutsideTheVocabularyIsAClearError() throws {
    let lm = try LanguageModel(path: TestPaths.fixture("models/llama-f32.gguf"), threads: 1)
    #expect {
      try lm.generate(prompt: [1, 99_999], maxTokens: 1, sampling: .greedy)
    } throws: { e in
      "\(e)".contains("token id 99999 is outside the vocabulary")
    }
  }

  @Test func sameSeedSameText() throws {
    let lm = try LanguageModel(path: TestPaths.fixture("models/qwen3moe-q8_0.gguf"), threads: 2)
    let prompt = lm.tokenizer.encode("To be, or not", addSpecial: false, parseSpecial: false)
    let p = SamplingParameters(temperature: 1.0, topK: 0, topP: 1, minP: 0, seed: 1234)
    let a = try lm.generate(prompt: prompt, maxTokens: 24, sampling: p)
    let b = try lm.generate(prompt: prompt, maxTokens: 24, sampling: p)
    #expect(a.tokens == b.tokens && a.tokens.count > 0)
  }
}
