import Foundation
import MuseModels
import MuseTestSupport
import Testing

/// llama.cpp's tokenizer test vectors (`models/ggml-vocab-*.gguf.inp` / `.out`): the `.inp` file is
/// each text followed by "\n__ggml_vocab_test__\n"; the `.out` file has one line of ids per text,
/// written by each model's Hugging Face tokenizer without BOS/EOS (llama.cpp
/// `tests/test-tokenizer-0.cpp` tokenizes with add_special = false, parse_special = true).
struct VocabTestCase: Sendable, CustomStringConvertible {
  let name: String
  var description: String { name }
  func gguf() throws -> String { try TestPaths.vocab(name) }

  func load() throws -> (texts: [String], ids: [[Int]]) {
    let gguf = try gguf()
    let inp = try String(contentsOfFile: gguf + ".inp", encoding: .utf8)
    var texts = inp.components(separatedBy: "\n__ggml_vocab_test__\n")
    if texts.last == "" { texts.removeLast() }
    let out = try String(contentsOfFile: gguf + ".out", encoding: .utf8)
    var lines = out.components(separatedBy: "\n")
    if lines.last == "" { lines.removeLast() }
    let ids = lines.map { $0.split(separator: " ").map { Int($0)! } }
    return (texts, ids)
  }
}

let vocabTestCases = [
  "llama-spm", "llama-bpe", "qwen2", "qwen35", "gpt-2", "phi-3", "deepseek-llm", "starcoder", "falcon", "mpt",
  "bert-bge",
].map(VocabTestCase.init(name:))

/// One cached tokenizer per vocab file: building one reads up to 280k merges.
enum VocabTokenizers {
  private static let lock = NSLock()
  nonisolated(unsafe) private static var cache: [String: Tokenizer] = [:]

  static func tokenizer(_ path: String) throws -> Tokenizer {
    lock.lock()
    defer { lock.unlock() }
    if let t = cache[path] { return t }
    let t = try Tokenizer(gguf: GGUFFile(path: path))
    cache[path] = t
    return t
  }
}

@Suite struct TokenizerVocabFileTests {
  @Test(arguments: vocabTestCases)
  func encodeMatchesHuggingFace(_ vocab: VocabTestCase) throws {
    let tokenizer = try VocabTokenizers.tokenizer(vocab.gguf())
    let (texts, expected) = try vocab.load()
    #expect(texts.count == expected.count, "\(vocab.name): \(texts.count) texts, \(expected.count) id lines")
    var passed = 0
    for (text, ids) in zip(texts, expected) {
      let got = tokenizer.encode(text, addSpecial: false, parseSpecial: true)
      if got == ids {
        passed += 1
      } else {
        Issue.record("\(vocab.name): \(text.debugDescription)\n  expected \(ids)\n  got      \(got)")
      }
    }
    print("[tokenizer] \(vocab.name): \(passed)/\(texts.count) texts match")
  }

  @Test(arguments: vocabTestCases.filter { $0.name != "bert-bge" })
  func decodeRoundTrips(_ vocab: VocabTestCase) throws {
    let tokenizer = try VocabTokenizers.tokenizer(vocab.gguf())
    for text in try vocab.load().texts {
      let ids = tokenizer.encode(text)
      #expect(tokenizer.decode(ids) == text, "\(vocab.name): decode(encode(\(text.debugDescription)))")
      var stream = StreamingDecoder(tokenizer: tokenizer)
      var streamed = ""
      for id in ids { streamed += stream.append(id) }
      streamed += stream.flush()
      #expect(streamed == text, "\(vocab.name): streaming decode of \(text.debugDescription)")
    }
  }
}
