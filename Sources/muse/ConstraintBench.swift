import ArgumentParser
import Foundation
import MuseEngine
import MuseJinja

/// `muse bench --json-schema F.json`: how long the schema takes to compile, and decode tokens/s
/// of the same sampled chat reply with and without it as a constraint (the free run ignores the
/// end of turn so it runs the full length; the constrained one ends when its JSON is complete).
struct ConstraintBench: Encodable {
  let schema: String
  /// Milliseconds, best of 10 compiles (JSON Schema → GBNF → grammar).
  let compileMs: Double
  let rules: Int
  /// Milliseconds to build the vocabulary's token trie (once per tokenizer).
  let trieMs: Double
  let freeDecodeTokensPerSecond: [Double]
  let constrainedDecodeTokensPerSecond: [Double]
  let constrainedTokens: [Int]
  /// Steps whose sampled token the grammar refused (the full mask was computed).
  let constrainedMasks: [Int]

  enum CodingKeys: String, CodingKey {
    case schema
    case compileMs = "compile_ms"
    case rules
    case trieMs = "trie_ms"
    case freeDecodeTokensPerSecond = "free_decode_tps"
    case constrainedDecodeTokensPerSecond = "constrained_decode_tps"
    case constrainedTokens = "constrained_tokens"
    case constrainedMasks = "constrained_masks"
  }

  static func measure(_ lm: LanguageModel, schemaPath: String, tokens: Int, repetitions: Int) throws
    -> ConstraintBench
  {
    guard let data = FileManager.default.contents(atPath: schemaPath) else {
      throw ValidationError("\(schemaPath): cannot read the file")
    }
    let schema: JinjaValue
    do {
      schema = try JinjaValue(json: data)
    } catch {
      throw ValidationError("\(schemaPath): not JSON: \(error)")
    }
    var grammar: Grammar?
    var compile = Double.infinity
    for _ in 0..<10 {
      let start = ContinuousClock.now
      do {
        grammar = try JSONSchemaGrammar.grammar(for: schema)
      } catch {
        throw ValidationError("\(schemaPath): \(error)")
      }
      compile = min(compile, seconds(since: start))
    }
    let trieStart = ContinuousClock.now
    _ = TokenTrie.shared(for: lm.tokenizer)
    let trie = seconds(since: trieStart)
    let prompt = try lm.chatPrompt([.init(role: "user", content: "Describe a person as JSON.")])
    var free: [Double] = []
    var constrained: [Double] = []
    var counts: [Int] = []
    var masks: [Int] = []
    for r in 0..<repetitions {
      var sampling = SamplingParameters(seed: UInt64(r + 1))
      sampling.ignoreEOS = true
      free.append(try lm.generate(prompt: prompt, maxTokens: tokens, sampling: sampling).decodeRate)
      sampling.ignoreEOS = false
      let result = try lm.generate(
        prompt: prompt, maxTokens: tokens, sampling: sampling,
        constraint: GenerationConstraint(grammar: grammar!))
      constrained.append(result.decodeRate)
      counts.append(result.tokens.count)
      masks.append(result.constraintMasks)
    }
    return ConstraintBench(
      schema: (schemaPath as NSString).lastPathComponent, compileMs: compile * 1000,
      rules: grammar!.ruleCount,
      trieMs: trie * 1000, freeDecodeTokensPerSecond: free, constrainedDecodeTokensPerSecond: constrained,
      constrainedTokens: counts, constrainedMasks: masks)
  }

  private static func seconds(since start: ContinuousClock.Instant) -> Double {
    let d = ContinuousClock.now - start
    return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
  }

  func printSummary() {
    func median(_ v: [Double]) -> Double {
      let s = v.sorted()
      return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
    print(
      String(
        format: "json schema %@: compiled in %.2f ms (%d rules), token trie %.1f ms", schema, compileMs,
        rules, trieMs))
    print(
      String(
        format:
          "decode tok/s, sampled chat reply: free %.2f | constrained %.2f (%.1f%%) | constrained tokens %@, full masks %@",
        median(freeDecodeTokensPerSecond), median(constrainedDecodeTokensPerSecond),
        (median(constrainedDecodeTokensPerSecond) / median(freeDecodeTokensPerSecond) - 1) * 100,
        constrainedTokens.map(String.init).joined(separator: ","),
        constrainedMasks.map(String.init).joined(separator: ",")))
  }
}
