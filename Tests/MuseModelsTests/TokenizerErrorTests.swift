import Foundation
import MuseModels
import MuseTestSupport
import Testing

@Suite struct TokenizerErrorTests {
  private func write(_ metadata: [(String, GGUFTestWriter.Value)]) throws -> String {
    var writer = GGUFTestWriter()
    writer.metadata = [("general.architecture", .string("llama"))] + metadata
    return try writer.write(to: TestPaths.temporaryDirectory(), name: "tokenizer.gguf")
  }

  @Test func missingTokens() throws {
    let path = try write([("tokenizer.ggml.model", .string("gpt2"))])
    let error = #expect(throws: TokenizerError.self) { try Tokenizer(gguf: GGUFFile(path: path)) }
    #expect(error == .missingKey(file: path, key: "tokenizer.ggml.tokens"))
    #expect(error?.description.contains(path) == true)
    #expect(error?.description.contains("tokenizer.ggml.tokens") == true)
  }

  @Test func unknownModel() throws {
    let path = try write([
      ("tokenizer.ggml.model", .string("sentencepiece-v9")), ("tokenizer.ggml.tokens", .strings(["a", "b"])),
    ])
    let error = #expect(throws: TokenizerError.self) { try Tokenizer(gguf: GGUFFile(path: path)) }
    #expect(error == .unknownModel(file: path, model: "sentencepiece-v9"))
    #expect(error?.description.contains("'sentencepiece-v9'") == true)
    #expect(error?.description.contains(path) == true)
  }

  @Test func unknownPreTokenizer() throws {
    let path = try write([
      ("tokenizer.ggml.model", .string("gpt2")), ("tokenizer.ggml.pre", .string("mystery")),
      ("tokenizer.ggml.tokens", .strings(["a", "b", "ab"])), ("tokenizer.ggml.merges", .strings(["a b"])),
    ])
    #expect(throws: TokenizerError.unknownPreTokenizer(file: path, pre: "mystery")) {
      try Tokenizer(gguf: GGUFFile(path: path))
    }
  }

  @Test func wrongTypesAndLengths() throws {
    let notStrings = try write([
      ("tokenizer.ggml.model", .string("llama")), ("tokenizer.ggml.tokens", .int32s([1])),
    ])
    #expect(
      throws: TokenizerError.wrongKeyType(
        file: notStrings, key: "tokenizer.ggml.tokens", expected: "an array of strings")
    ) { try Tokenizer(gguf: GGUFFile(path: notStrings)) }
    let shortScores = try write([
      ("tokenizer.ggml.model", .string("llama")), ("tokenizer.ggml.tokens", .strings(["a", "b"])),
      ("tokenizer.ggml.scores", .float32s([0])),
    ])
    #expect(
      throws: TokenizerError.lengthMismatch(
        file: shortScores, key: "tokenizer.ggml.scores", count: 1, tokenCount: 2)
    ) { try Tokenizer(gguf: GGUFFile(path: shortScores)) }
  }

  /// A tiny byte-level BPE written by hand: merges apply lowest rank first.
  @Test func tinyBPEFromMetadata() throws {
    let bytes = (0..<256).map { b -> String in
      let s = (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b)
      return s ? String(UnicodeScalar(UInt8(b))) : ""
    }
    // Only the printable bytes plus "Ġ" (space) are needed here.
    var tokens = bytes.filter { !$0.isEmpty }
    tokens += ["Ġ", "lo", "low", "Ġlow", "<|end|>"]
    var types = [Int32](repeating: 1, count: tokens.count)
    types[types.count - 1] = 3
    let path = try write([
      ("tokenizer.ggml.model", .string("gpt2")), ("tokenizer.ggml.pre", .string("gpt-2")),
      ("tokenizer.ggml.tokens", .strings(tokens)), ("tokenizer.ggml.token_type", .int32s(types)),
      ("tokenizer.ggml.merges", .strings(["l o", "lo w", "Ġ low"])),
      ("tokenizer.ggml.eos_token_id", .uint32(UInt32(tokens.count - 1))),
    ])
    let tokenizer = try Tokenizer(gguf: GGUFFile(path: path))
    let ids = tokenizer.encode("low low<|end|>")
    #expect(ids.map(tokenizer.piece) == ["low", "Ġlow", "<|end|>"])
    #expect(tokenizer.decode(ids) == "low low<|end|>")
    #expect(tokenizer.isEndOfGeneration(ids.last!))
  }
}
