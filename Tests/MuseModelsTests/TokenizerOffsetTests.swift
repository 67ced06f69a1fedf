import Foundation
import MuseModels
import MuseTestSupport
import Testing

/// `scalarOffsets` (echo's `text_offset`) in one pass equals the length of what each token's
/// predecessors decode to, with BOS, prefix spaces, multi-byte characters split across tokens.
@Suite struct TokenizerOffsetTests {
  @Test(arguments: ["models/llama-q8_0.gguf", "smollm2"])
  func offsetsAreTheDecodedPrefixLengths(_ name: String) throws {
    let path = name == "smollm2" ? try TestPaths.smolLM2() : TestPaths.fixture(name)
    let tokenizer = try LoadedModel(path: path).tokenizer
    let texts = [
      "Hello world, how are you?", " leading space", "naïve café — 東京タワー 🎉 done", "line\nbreak\ttab",
    ]
    for text in texts {
      for addSpecial in [true, false] {
        let ids = tokenizer.encode(text, addSpecial: addSpecial, parseSpecial: false)
        let expected = ids.indices.map { tokenizer.decode(Array(ids[..<$0])).unicodeScalars.count }
        #expect(tokenizer.scalarOffsets(ids) == expected, "\(text) (BOS: \(addSpecial))")
      }
    }
  }
}
