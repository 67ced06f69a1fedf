import Foundation
import MuseTestSupport
import Testing

@testable import MuseModels

/// Real `tokenizer.json` files against the Hugging Face `tokenizers` package
/// (Scripts/golden/hf_tokenizer_golden.py → Tests/Fixtures/golden/hf-tokenizers.json).
struct HFTokenizerTests {
  struct Golden: Decodable {
    struct Case: Decodable {
      let ids: [Int]
      // swiftlint:disable:next identifier_name
      let ids_with_special: [Int]
      let decoded: String
    }
    let texts: [String]
    let tokenizers: [String: [Case]]
  }

  static let paths: [String: String] = [
    "olmoe-1b-7b": TestPaths.fixture("hf/tokenizers/olmoe-1b-7b/tokenizer.json"),
    "mistral-7b-v0.3": TestPaths.fixture("hf/tokenizers/mistral-7b-v0.3/tokenizer.json"),
    "all-minilm-l6-v2": TestPaths.fixture("hf/tokenizers/all-minilm-l6-v2/tokenizer.json"),
    "fixture": TestPaths.fixture("hf/llama-f32/tokenizer.json"),
  ]

  @Test(arguments: ["olmoe-1b-7b", "mistral-7b-v0.3", "all-minilm-l6-v2", "fixture"])
  func matchesHuggingFaceTokenizers(_ name: String) throws {
    let golden = try TestPaths.golden("golden/hf-tokenizers.json", as: Golden.self)
    let tokenizer = try Tokenizer(huggingFace: Self.paths[name]!)
    for (text, expected) in zip(golden.texts, golden.tokenizers[name]!) {
      #expect(tokenizer.encode(text) == expected.ids, "\(name): \(text.debugDescription)")
      #expect(
        tokenizer.encode(text, addSpecial: true) == expected.ids_with_special,
        "\(name) + special: \(text.debugDescription)")
      if name != "all-minilm-l6-v2" {
        // WordPiece's decoder also "cleans up" spaces before punctuation, which Muse leaves.
        #expect(
          tokenizer.decode(expected.ids) == expected.decoded, "\(name) decode: \(text.debugDescription)")
      }
    }
  }

  @Test func describesTheTokenizerForGGUF() throws {
    let olmoe = try HuggingFaceTokenizerFile(path: Self.paths["olmoe-1b-7b"]!)
    #expect(olmoe.vocabulary.model == "gpt2" && olmoe.vocabulary.pre == "gpt-2")
    #expect(olmoe.vocabulary.tokens.count == 50280)
    let mistral = try HuggingFaceTokenizerFile(path: Self.paths["mistral-7b-v0.3"]!)
    #expect(mistral.vocabulary.model == "llama")
    #expect(mistral.vocabulary.bosToken == 1 && mistral.vocabulary.addBOS == true)
    let byteA = try #require(mistral.vocabulary.tokens.firstIndex(of: "<0x41>"))
    #expect(mistral.vocabulary.tokenTypes[byteA] == .byte)
  }

  @Test func readsTokenizerConfig() throws {
    let deepseek = try HuggingFaceTokenizerConfig(
      path: TestPaths.fixture("hf/tokenizers/deepseek-v3/tokenizer_config.json"))
    #expect(deepseek.chatTemplate?.contains("<｜Assistant｜>") == true)
    #expect(deepseek.bosToken == "<｜begin▁of▁sentence｜>")
    let fixture = try HuggingFaceTokenizerConfig(
      path: TestPaths.fixture("hf/llama-f32/tokenizer_config.json"))
    #expect(fixture.addBOS == true && fixture.eosToken == "</s>")
    #expect(fixture.chatTemplate?.hasPrefix("{{ bos_token }}") == true)
  }

  @Test func namesUnsupportedComponents() throws {
    let dir = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("tokenizer.json").path
    let json = #"{"model": {"type": "Unigram", "vocab": [["a", 0.0]]}}"#
    try json.write(toFile: path, atomically: true, encoding: .utf8)
    #expect(throws: TokenizerError.self) { try Tokenizer(huggingFace: path) }
  }
}
