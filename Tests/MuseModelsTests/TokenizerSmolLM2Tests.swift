import Foundation
import MuseModels
import MuseTestSupport
import Testing

/// The real model's tokenizer must be there: `Scripts/fixtures/fetch-smollm2.sh` puts it in the cache.
func smolLM2Path() throws -> String {
  do {
    return try TestPaths.smolLM2()
  } catch {
    Issue.record("\(error)")
    throw error
  }
}

/// Token ids from an independent reference (HF `tokenizers`, `Scripts/golden/tokenizer_reference.py`).
struct TokenizerReference: Decodable {
  struct Case: Decodable {
    let text: String
    let ids: [Int]
  }
  let origin: String
  let cases: [Case]
}

@Suite struct TokenizerSmolLM2Tests {
  static func tokenizer() throws -> Tokenizer { try VocabTokenizers.tokenizer(try smolLM2Path()) }

  @Test func encodeMatchesReference() throws {
    let tokenizer = try Self.tokenizer()
    let reference = try TestPaths.golden("tokenizer/smollm2.json", as: TokenizerReference.self)
    #expect(reference.cases.count >= 3)
    for c in reference.cases {
      #expect(tokenizer.encode(c.text) == c.ids, "\(c.text.debugDescription)")
      #expect(tokenizer.decode(c.ids) == c.text)
      var stream = StreamingDecoder(tokenizer: tokenizer)
      var streamed = ""
      for id in c.ids { streamed += stream.append(id) }
      streamed += stream.flush()
      #expect(streamed == c.text)
    }
  }

  @Test func chatPromptIDs() throws {
    let tokenizer = try Self.tokenizer()
    let ids = tokenizer.encode("<|im_start|>user\nWhat is the capital of France?<|im_end|>\n")
    #expect(ids == [1, 4093, 198, 1780, 314, 260, 3575, 282, 4649, 47, 2, 198])
    #expect(ids.map(tokenizer.piece).joined() == "<|im_start|>userĊWhatĠisĠtheĠcapitalĠofĠFrance?<|im_end|>Ċ")
  }

  @Test func vocabularyFacts() throws {
    let tokenizer = try Self.tokenizer()
    #expect(tokenizer.vocabularySize == 49152)
    #expect(tokenizer.bosToken == 1)
    #expect(tokenizer.eosToken == 2)
    #expect(!tokenizer.addsBOS)
    #expect(!tokenizer.addsEOS)
    #expect(tokenizer.id(of: "<|im_start|>") == 1)
    #expect(tokenizer.id(of: "<|im_end|>") == 2)
    #expect(tokenizer.isEndOfGeneration(2))
    #expect(tokenizer.isEndOfGeneration(0))  // <|endoftext|>
    #expect(!tokenizer.isEndOfGeneration(1))
    #expect(!tokenizer.isEndOfGeneration(4093))
    #expect(tokenizer.tokenBytes(198) == [0x0A])
    #expect(tokenizer.tokenBytes(2) == Array("<|im_end|>".utf8))
  }

  @Test func specialTokensAsTextWhenNotParsed() throws {
    let tokenizer = try Self.tokenizer()
    let ids = tokenizer.encode("<|im_start|>user", parseSpecial: false)
    #expect(!ids.contains(1))
    #expect(ids.count > 2)
    #expect(tokenizer.decode(ids) == "<|im_start|>user")
  }

  @Test func digitsAreSplitOneByOne() throws {
    // pre "smollm": every digit is its own word before BPE.
    let tokenizer = try Self.tokenizer()
    let ids = tokenizer.encode("2024")
    #expect(ids.count == 4)
    #expect(ids.map(tokenizer.piece) == ["2", "0", "2", "4"])
  }
}
