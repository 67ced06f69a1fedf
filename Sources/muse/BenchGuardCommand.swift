import ArgumentParser
import Foundation
import MuseEngine
import MuseServer

/// `muse bench guard`: the time a guard policy adds to a request, measured in-process on
/// prompts of a given size: p50 / p99 / max of screening one prompt at the input stage (every
/// rule of the policy, as `muse serve` runs them), and of each rail alone.
struct BenchGuardCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "guard",
    abstract: "Time a guard policy's rails on prompts of a given size (p50/p99 per request).",
    discussion: """
        muse bench guard --guard input:pii:redact --guard input:injection:block --guard input:patterns:... \\
                         --moderation-model DIR --guard input:moderation:block --file corpus.txt
      Prompts are consecutive pieces of --file (or generated words), about --prompt-chars long.
      """)

  @Option(name: .long, help: "A guard policy file (YAML or JSON); its input rules are timed.") var policy:
    String?
  @Option(
    name: .customLong("guard"),
    help: ArgumentHelp("An input rule, input:RAIL:ACTION (repeatable).", valueName: "rule"))
  var rules: [String] = []
  @Option(name: .long, help: "The all-MiniLM-L6-v2 folder, for the moderation rail.") var moderationModel:
    String?
  @Option(name: .long, help: "A text file the prompts are cut from (default: generated words).") var file:
    String?
  @Option(name: .long, help: "Characters per prompt (SmolLM2-sized: 2,000 ≈ 500 tokens).") var promptChars =
    2000
  @Option(name: .long, help: "Prompts to screen.") var requests = 200
  @Flag(name: .long, help: "Print one JSON object.") var json = false

  struct Timing: Encodable {
    let name: String
    let p50Milliseconds: Double
    let p99Milliseconds: Double
    let maxMilliseconds: Double
  }

  func run() async throws {
    guard (1...100_000).contains(requests), (1...1_000_000).contains(promptChars) else {
      throw ValidationError("--requests takes 1 to 100000 and --prompt-chars 1 to 1000000")
    }
    guard let policy = try GuardPolicyFile.policy(file: policy, rules: rules), !policy.input.isEmpty else {
      throw ValidationError("no input rules: give --policy or --guard input:…")
    }
    let moderation = try ModerationSetup.classifier(folder: moderationModel, embedders: [])
    let prompts = try Self.prompts(file: file, chars: promptChars, count: requests)
    let context = GuardContext(requestID: "bench", keyID: "bench", model: "bench")
    func bind(_ p: GuardPolicy) throws -> ModelGuard {
      try GuardPolicyFile.bind(p, model: "bench", visibility: .closed, moderation: moderation)
    }
    var suites: [(String, ModelGuard)] = [("all input rules", try bind(policy))]
    if policy.input.count > 1 {
      for rule in policy.input { suites.append((rule.rail, try bind(GuardPolicy(input: [rule])))) }
    }
    // Warm-up: the classifier's first call pages its weights in.
    _ = await suites[0].1.screen([("prompt", prompts[0])], stage: .input, context: context)
    var timings: [Timing] = []
    for (name, modelGuard) in suites {
      var ms: [Double] = []
      for prompt in prompts {
        let started = ContinuousClock.now
        _ = await modelGuard.screen([("prompt", prompt)], stage: .input, context: context)
        let d = (ContinuousClock.now - started).components
        ms.append(Double(d.seconds) * 1000 + Double(d.attoseconds) * 1e-15)
      }
      ms.sort()
      let at = { (q: Double) in ms[min(ms.count - 1, Int((q * Double(ms.count)).rounded(.up)) - 1)] }
      timings.append(
        Timing(name: name, p50Milliseconds: at(0.5), p99Milliseconds: at(0.99), maxMilliseconds: ms.last!))
    }
    if json {
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.sortedKeys]
      encoder.keyEncodingStrategy = .convertToSnakeCase
      print(String(decoding: try encoder.encode(timings), as: UTF8.self))
      return
    }
    print("\(prompts.count) prompts of ~\(promptChars) characters")
    print("rails\tp50 ms\tp99 ms\tmax ms")
    for t in timings {
      print(
        String(
          format: "%@\t%.3f\t%.3f\t%.3f", t.name, t.p50Milliseconds, t.p99Milliseconds, t.maxMilliseconds))
    }
  }

  /// `count` prompts of about `chars` characters: consecutive pieces of the file (wrapping), cut
  /// at spaces, or generated words.
  static func prompts(file: String?, chars: Int, count: Int) throws -> [String] {
    var source: [Character]
    if let file {
      guard let data = FileManager.default.contents(atPath: file),
        let text = String(data: data, encoding: .utf8),
        !text.isEmpty
      else { throw ValidationError("\(file): cannot read it as UTF-8 text") }
      source = Array(text)
    } else {
      source = Array(
        (0..<count).map { BenchPrompt.text(tokens: chars / 4, variant: $0) }.joined(separator: " "))
    }
    if source.count < chars {
      source = Array(repeating: source, count: chars / source.count + 1).flatMap { $0 }
    }
    var prompts: [String] = []
    var at = 0
    for _ in 0..<count {
      if at + chars > source.count { at = 0 }
      prompts.append(String(source[at..<(at + chars)]))
      at += chars
    }
    return prompts
  }
}
