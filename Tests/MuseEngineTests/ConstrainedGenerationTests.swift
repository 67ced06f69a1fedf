import Foundation
import MuseJinja
import MuseModels
import MuseTestSupport
import Testing

@testable import MuseEngine

/// The token mask on real vocabularies (the trie walk equals checking every token), lazy
/// triggers, and generation on SmolLM2: constrained outputs follow their grammar, alone and in a
/// batch beside a free sequence that stays exactly what it is alone.
@Suite(.serialized)
struct ConstrainedGenerationTests {
  static let model: LanguageModel? = try? LanguageModel(path: TestPaths.smolLM2(), threads: 2)

  func loaded() throws -> LanguageModel {
    _ = try TestPaths.smolLM2()
    return try #require(Self.model)
  }

  /// Every token whose bytes the matcher accepts from `state`, one by one.
  func bruteForce(_ matcher: GrammarMatcher, _ tokenizer: Tokenizer, _ trie: TokenTrie) -> Set<Int> {
    Set(
      (0..<tokenizer.vocabularySize).filter {
        trie.isText[$0] && matcher.next(matcher.state, bytes: tokenizer.tokenBytes($0)) != nil
      })
  }

  /// The trie walk finds exactly the tokens a check of every token finds, on byte-level BPE
  /// and SentencePiece (byte-fallback) vocabularies, in structural positions, inside strings,
  /// and in the middle of a multi-byte character.
  @Test(arguments: ["llama-bpe", "llama-spm", "qwen2"])
  func maskEqualsCheckingEveryToken(vocab: String) throws {
    let tokenizer = try Tokenizer(gguf: GGUFFile(path: TestPaths.vocab(vocab)))
    let trie = TokenTrie(tokenizer: tokenizer)
    let schema = try JinjaValue(
      json:
        #"{"type":"object","properties":{"name":{"type":"string"},"n":{"type":"integer","minimum":-5,"maximum":300}},"required":["name","n"],"additionalProperties":false}"#
    )
    let grammar = try JSONSchemaGrammar.grammar(for: schema)
    for prefix in [
      "", "{", #"{"name":"#, #"{"name":"ab"#, #"{"name":"日"#, #"{"name":"x","n":2"#, #"{"name":"x","n":-"#,
    ] {
      let matcher = GrammarMatcher(grammar: grammar)
      var bytes = Array(prefix.utf8)
      if prefix.hasSuffix("日") { bytes.removeLast(2) }  // stop inside the character
      #expect(matcher.accept(bytes))
      var walked = Set<Int>()
      trie.walk(matcher, from: matcher.state) { walked.insert($0) }
      let expected = bruteForce(matcher, tokenizer, trie)
      #expect(
        walked == expected, "\(vocab) after \(prefix.debugDescription): \(walked.count) vs \(expected.count)")
      #expect(!expected.isEmpty)
    }
  }

  /// A token that ends in the middle of a character is allowed only where a character the
  /// grammar accepts starts with its bytes, and the next token completes it.
  @Test func utf8SplitAcrossTokens() throws {
    let tokenizer = try Tokenizer(gguf: GGUFFile(path: TestPaths.vocab("llama-spm")))
    // SentencePiece byte fallback: "<0xE6>" … are tokens of one byte each.
    guard let e6 = tokenizer.id(of: "<0xE6>"), let b7 = tokenizer.id(of: "<0xB7>"),
      let a5 = tokenizer.id(of: "<0xA5>"),
      let e9 = tokenizer.id(of: "<0xE9>")
    else {
      Issue.record("byte tokens missing")
      return
    }
    let decoder = ConstrainedDecoder(
      GenerationConstraint(grammar: try Grammar(gbnf: #"root ::= "日本" | "æ""#)), tokenizer: tokenizer)
    #expect(decoder.allows(e6, endAllowed: true))  // 日 is E6 97 A5
    #expect(!decoder.allows(e9, endAllowed: true))
    #expect(decoder.accept(e6) == .open)
    #expect(!decoder.allows(b7, endAllowed: true))  // E6 B7 … is not a character the grammar has
    #expect(decoder.mask(endAllowed: true)[a5] == false)
    #expect(decoder.allows(tokenizer.id(of: "<0x97>")!, endAllowed: true))
  }

  /// Lazy: free text until the trigger, which may end in the middle of a token; the matcher
  /// then reads from the trigger's first byte.
  @Test func lazyTriggerActivatesMidToken() throws {
    let lm = try loaded()
    let tokenizer = lm.tokenizer
    let grammar = try Grammar(gbnf: #"root ::= "lo wor" [a-z]* "!""#)
    let constraint = try GenerationConstraint.lazy(grammar, triggers: ["lo wor"])
    let decoder = ConstrainedDecoder(constraint, tokenizer: tokenizer)
    let tokens = tokenizer.encode("Hello world!")
    #expect(tokenizer.decode(tokens) == "Hello world!")
    #expect(tokens.count >= 3)  // "Hello", " world", "!": the trigger spans two tokens
    var outcomes: [ConstrainedDecoder.Outcome] = []
    var activeAfter: [Bool] = []
    for t in tokens {
      outcomes.append(decoder.accept(t))
      activeAfter.append(decoder.active)
    }
    #expect(activeAfter.first == false)
    #expect(activeAfter.last == true)
    #expect(outcomes.last == .complete)  // after the final "!" nothing may follow
    #expect(decoder.matcher.isComplete)
    #expect(throws: GrammarError.triggerNotInGrammar("nope")) {
      try GenerationConstraint.lazy(grammar, triggers: ["nope"])
    }
  }

  /// While waiting, a token that would complete the trigger with text the grammar refuses is
  /// passed over for the best one that fits.
  @Test func lazyTriggerTokenMustFitTheGrammar() throws {
    let lm = try loaded()
    let tokenizer = lm.tokenizer
    let grammar = try Grammar(gbnf: #"root ::= "<call>" "{" [a-z]* "}""#)
    let decoder = ConstrainedDecoder(try .lazy(grammar, triggers: ["<call>"]), tokenizer: tokenizer)
    for t in tokenizer.encode("Sure <call") { _ = decoder.accept(t) }
    #expect(!decoder.active)
    // ">" completes the trigger and fits; a longer ">…" token not followed by "{" does not.
    let ids = 0..<tokenizer.vocabularySize
    let good = try #require(ids.first { tokenizer.tokenBytes($0) == Array(">".utf8) })
    let bad = try #require(
      ids.first {
        let b = tokenizer.tokenBytes($0)
        return b.count >= 2 && b[0] == UInt8(ascii: ">") && b[1] != UInt8(ascii: "{")
      })
    var logits = [Float](repeating: 0, count: tokenizer.vocabularySize)
    logits[bad] = 10
    logits[good] = 5
    var sampler = Sampler(.greedy)
    let chosen = decoder.choose(logits, sampler: &sampler, history: [], endAllowed: true)
    #expect(chosen == good)
    #expect(decoder.accept(good) == .open)
    #expect(decoder.active)
  }

  static let personSchema =
    #"{"type":"object","properties":{"name":{"type":"string","maxLength":20},"age":{"type":"integer","minimum":0,"maximum":120},"email":{"type":"string","format":"email"},"tags":{"type":"array","items":{"enum":["a","b","c"]},"maxItems":3},"member":{"type":"boolean"},"score":{"type":["number","null"]}},"required":["name","age","email","tags","member","score"],"additionalProperties":false}"#

  /// At a high temperature SmolLM2 writes JSON that the grammar accepts whole, and stops when
  /// the grammar is complete.
  @Test func constrainedOutputFollowsTheSchema() throws {
    let lm = try loaded()
    let grammar = try JSONSchemaGrammar.grammar(for: JinjaValue(json: Self.personSchema))
    let prompt = try lm.chatPrompt([.init(role: "user", content: "Describe a person as JSON.")])
    for seed in UInt64(1)...3 {
      let sampling = SamplingParameters(temperature: 1.5, topK: 0, topP: 1, minP: 0, seed: seed)
      let result = try lm.generate(
        prompt: prompt, maxTokens: 200, sampling: sampling, constraint: GenerationConstraint(grammar: grammar)
      )
      let matcher = GrammarMatcher(grammar: grammar)
      #expect(matcher.accept(Array(result.text.utf8)), "seed \(seed): \(result.text)")
      if result.finishReason == .stop {
        #expect(matcher.canEnd, "seed \(seed): \(result.text)")
        let object = try JinjaValue(json: result.text)
        guard case .dict(let d) = object else {
          Issue.record("not an object: \(result.text)")
          continue
        }
        #expect(d.stringKeys == ["name", "age", "email", "tags", "member", "score"])
      }
    }
  }

  /// One batch: two constrained sequences (different schemas) and a free one; each constrained
  /// output follows its grammar, the free one equals its run alone.
  @Test func batchMixesConstrainedAndFreeSequences() throws {
    let lm = try loaded()
    let person = try JSONSchemaGrammar.grammar(for: JinjaValue(json: Self.personSchema))
    let colour = try JSONSchemaGrammar.grammar(
      for: JinjaValue(
        json:
          #"{"type":"object","properties":{"colour":{"enum":["red","green","blue"]},"hex":{"type":"string","pattern":"^#[0-9a-f]{6}$"}},"required":["colour","hex"],"additionalProperties":false}"#
      ))
    let prompts = try ["Describe a person as JSON.", "Pick a colour.", "What is the capital of France?"].map {
      try lm.chatPrompt([.init(role: "user", content: $0)])
    }
    let alone = try lm.generate(prompt: prompts[2], maxTokens: 24, sampling: .greedy)
    let scheduler = try BatchScheduler(model: lm, configuration: .init(kvCacheBytes: 64 << 20))
    let collector = BatchCollector()
    let grammars = [person, colour]
    for (i, prompt) in prompts.enumerated() {
      var request = GenerationRequest(
        prompt: prompt, maxTokens: i < 2 ? 160 : 24,
        sampling: i < 2 ? SamplingParameters(temperature: 1.2, seed: UInt64(i + 7)) : .greedy)
      if i < 2 { request.constraint = GenerationConstraint(grammar: grammars[i]) }
      try scheduler.submit(request, onPiece: { _, _ in true }, onFinish: collector.finish(i))
    }
    let results = try collector.wait(for: 3)
    for i in 0..<2 {
      let text = try #require(results[i]).text
      let matcher = GrammarMatcher(grammar: grammars[i])
      let bytes = Array(text.utf8)
      let valid = (0...bytes.count).last { GrammarMatcher(grammar: grammars[i]).accept(bytes[..<$0]) } ?? 0
      #expect(
        matcher.accept(bytes),
        "\(i): \(text) -- valid up to \(valid): \(String(decoding: bytes[..<valid], as: UTF8.self).debugDescription) then \(bytes[valid...].prefix(10))"
      )
      #expect(results[i]?.finishReason != .stop || matcher.canEnd, "\(i): \(text)")
    }
    #expect(results[1]?.finishReason == .stop)  // a short object: complete well within the limit
    #expect(results[2]?.tokens == alone.tokens)
    #expect(results[2]?.text == alone.text)
  }
}
