import Foundation
import MuseModels
import MuseTestSupport
import Testing

@Suite struct TokenizerBehaviourTests {
  static func vocab(_ name: String) throws -> Tokenizer {
    try VocabTokenizers.tokenizer(TestPaths.vocab(name))
  }

  @Test func sentencePieceSpecialsAndBOS() throws {
    let spm = try Self.vocab("llama-spm")
    #expect(spm.addsBOS && !spm.addsEOS)
    #expect(spm.encode("Hello world", addSpecial: true) == [1, 15043, 3186])
    #expect(spm.encode("Hello world") == [15043, 3186])
    #expect(spm.decode([1, 15043, 3186]) == "<s>Hello world")
    #expect(spm.piece(15043) == "▁Hello")
    #expect(spm.tokenBytes(15043) == Array(" Hello".utf8))
    #expect(spm.tokenBytes(13) == [0x0A])  // <0x0A>
    #expect(spm.isEndOfGeneration(2))
    // A control token written in the text is one token, and the text after it gets the space prefix.
    #expect(spm.encode("</s>Hello") == [2, 15043])
  }

  @Test func streamingHoldsBackSplitCharacters() throws {
    let spm = try Self.vocab("llama-spm")
    // "🦙" has no piece: it is four byte tokens after the "▁" prefix.
    let ids = spm.encode("🦙")
    #expect(ids == [29871, 243, 162, 169, 156])
    var stream = StreamingDecoder(tokenizer: spm)
    let outputs = ids.map { stream.append($0) }
    #expect(outputs == ["", "", "", "", "🦙"])
    #expect(stream.flush() == "")

    let bpe = try Self.vocab("llama-bpe")
    let text = "日本語 👩‍👩‍👧‍👦 ok"
    var bpeStream = StreamingDecoder(tokenizer: bpe)
    var pieces: [String] = []
    for id in bpe.encode(text) { pieces.append(bpeStream.append(id)) }
    pieces.append(bpeStream.flush())
    #expect(pieces.joined() == text)
    // Every chunk handed out is whole text: no replacement characters from split bytes.
    #expect(!pieces.contains { $0.contains("\u{FFFD}") })
  }

  @Test func streamingFlushesAnUnfinishedCharacter() throws {
    let spm = try Self.vocab("llama-spm")
    var stream = StreamingDecoder(tokenizer: spm)
    #expect(stream.append(243) == "")  // <0xF0>: first byte of a 4-byte character
    #expect(stream.flush() == "\u{FFFD}")
  }

  @Test func llama3EndOfGeneration() throws {
    let bpe = try Self.vocab("llama-bpe")
    #expect(bpe.addsBOS)
    let eot = try #require(bpe.id(of: "<|eot_id|>"))
    #expect(bpe.isEndOfGeneration(eot))
    #expect(bpe.isEndOfGeneration(128001))
    #expect(bpe.encode("<|eot_id|>hi", addSpecial: true).prefix(2) == [128000, eot])
  }

  @Test func qwenIMEndIsEndOfGeneration() throws {
    let qwen = try Self.vocab("qwen2")
    let imEnd = try #require(qwen.id(of: "<|im_end|>"))
    #expect(qwen.isEndOfGeneration(imEnd))
    #expect(qwen.encode("<|im_start|>user\n").first == qwen.id(of: "<|im_start|>"))
  }

  /// Every vocab file Scripts/fixtures/fetch-vocab.sh caches either builds a tokenizer or names what it
  /// cannot do.
  @Test func everyVocabLoadsOrExplains() throws {
    let dir = TestPaths.vocabDirectory
    let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".gguf") }
      .sorted()
    #expect(files.count >= 15)
    for file in files {
      let path = dir + "/" + file
      do {
        let tokenizer = try VocabTokenizers.tokenizer(path)
        let text = "Hello, world! 123 ünïcödé 🦙"
        #expect(
          tokenizer.decode(tokenizer.encode(text)).hasSuffix("123 ünïcödé 🦙")
            || tokenizer.vocabulary.model == "bert", "\(file)")
      } catch let error as TokenizerError {
        // nomic-bert-moe is a T5 Unigram vocabulary, not implemented.
        #expect(error == .unknownModel(file: path, model: "t5"), "\(file): \(error)")
      }
    }
  }

  @Test func buildsLargeVocabularyQuickly() throws {
    // llama-bpe: 128,256 tokens and 280,147 merges.
    let file = try GGUFFile(path: TestPaths.vocab("llama-bpe"))
    let clock = ContinuousClock()
    var tokenizer: Tokenizer?
    let elapsed = try clock.measure { tokenizer = try Tokenizer(gguf: file) }
    print("[tokenizer] llama-bpe: built in \(elapsed)")
    #expect(tokenizer?.vocabularySize == 128256)
    #expect(elapsed < .seconds(2))
  }

  @Test func encodes100KBQuickly() throws {
    // The first 100,000 bytes of tinyshakespeare.txt (ASCII).
    let text = try String(
      contentsOfFile: TestPaths.fixture("corpora/tinyshakespeare-100k.txt"), encoding: .utf8)
    #expect(text.utf8.count == 100_000)
    for name in ["llama-spm", "llama-bpe", "qwen2", "deepseek-llm"] {
      let tokenizer = try Self.vocab(name)
      let clock = ContinuousClock()
      var ids: [Int] = []
      // Best of three: the tests share two cores with the rest of the suite.
      let elapsed = (0..<3).map { _ in clock.measure { ids = tokenizer.encode(text) } }.min()!
      print("[tokenizer] \(name): 100 KB → \(ids.count) tokens in \(elapsed)")
      #expect(elapsed < .seconds(1), "\(name): \(elapsed)")
      #expect(tokenizer.decode(ids) == text)
    }
  }
}
