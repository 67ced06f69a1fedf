import ArgumentParser
import Foundation
import MuseEngine
import MuseServer
import MuseStore

struct GuardCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "guard", abstract: "Try a guard policy on a text, and read the guardrails' audit log.",
    subcommands: [Check.self, Log.self])

  struct Check: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Run a guard policy's rails on a text offline, as the server would.",
      discussion: """
        Prints each rule's verdict (pass, flag, redact, block, error), category, score and time,
        then the text as the model would receive it (redacted) or the violation that blocks it.
          muse guard check --guard input:pii:redact --guard input:injection:block --text "Mail me at a@b.co"
          muse guard check --policy policy.yaml --stage output --file reply.txt
        Exit status: 0 when the text passes (possibly redacted), 2 when it is blocked.
        """)

    @Option(name: .long, help: "The text to check.") var text: String?
    @Option(name: .long, help: "A file whose whole content is checked.") var file: String?
    @Option(name: .long, help: "A guard policy file (YAML or JSON).") var policy: String?
    @Option(
      name: .customLong("guard"),
      help: ArgumentHelp("A rule, STAGE:RAIL:ACTION[:THRESHOLD] (repeatable).", valueName: "rule"))
    var rules: [String] = []
    @Option(name: .long, help: "The stage to run: input, output or tool.") var stage: String = "input"
    @Option(name: .long, help: "The all-MiniLM-L6-v2 folder, for the moderation rail.") var moderationModel:
      String?
    @Option(
      name: .long,
      help: "A GGUF model answering as Llama Guard, for llama_guard rules (under their model id).")
    var llamaGuard: String?
    @Flag(
      name: .long, help: "Closed-model defaults: a rail that errors blocks (the default is open: it passes).")
    var closed = false

    func run() async throws {
      guard let stage = GuardStage(rawValue: stage) else {
        throw ValidationError("--stage takes input, output or tool, not '\(stage)'")
      }
      let input: String
      switch (text, file) {
      case (let t?, nil): input = t
      case (nil, let f?):
        guard let data = FileManager.default.contents(atPath: f) else {
          throw ValidationError("\(f): cannot read it")
        }
        guard let s = String(data: data, encoding: .utf8) else {
          throw ValidationError("\(f): not UTF-8 text")
        }
        input = s
      default: throw ValidationError("give one of --text or --file")
      }
      guard let policy = try GuardPolicyFile.policy(file: policy, rules: rules), !policy.isEmpty else {
        throw ValidationError("no rules: give --policy or --guard")
      }
      let moderation = try ModerationSetup.classifier(folder: moderationModel, embedders: [])
      var models: [String: ModelRunner] = [:]
      if let llamaGuard {
        let lm = try LanguageModel(path: llamaGuard)
        for rule in policy.input + policy.output + policy.tool where rule.rail == "llama_guard" {
          guard let id = rule.model else { continue }
          models[id] = ModelRunner(entry: ModelEntry(id: id, path: llamaGuard), model: lm, weightsDigest: "")
        }
      }
      let modelGuard = try GuardPolicyFile.bind(
        policy, model: "check", visibility: closed ? .closed : .open, models: models, moderation: moderation)
      let context = GuardContext(requestID: "check", keyID: "-", model: "check")
      let (texts, events, violation) = await modelGuard.screen(
        [("text", input)], stage: stage, context: context)
      for e in events {
        let score = e.score.map { String(format: "%.3f", $0) } ?? "-"
        let ms = String(format: "%.2f ms", Double(e.latencyMicroseconds) / 1000)
        print("\(e.rail)\t\(e.verdict)\t\(e.category ?? "-")\t\(score)\t\(ms)")
      }
      if let violation {
        print("blocked: the \(violation.rail) rail found \(violation.category) (\(stage.rawValue))")
        throw ExitCode(2)
      }
      print("---")
      print(texts[0])
    }
  }

  struct Log: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "The guardrails' decisions, newest first (never the texts).")
    @Option(name: .long, help: "Data directory (default ~/.muse).") var dataDir: String?
    @Option(name: .long, help: "One request's decisions.") var request: String?
    @Option(name: .long, help: "One key's decisions (key id).") var key: String?
    @Option(name: .long, help: "One model's decisions.") var model: String?
    @Option(name: .long, help: "One rail's decisions.") var rail: String?
    @Flag(name: .long, help: "Only flags, redactions, blocks and errors.") var actions = false
    @Option(name: .long, help: "How many rows (1–100000).") var limit = 50
    @Flag(name: .long, help: "JSON lines instead of a table.") var json = false

    func run() throws {
      guard (1...100_000).contains(limit) else {
        throw ValidationError("--limit takes 1 to 100000, not \(limit)")
      }
      let store = try DataDirectory.store(dataDir)
      let events = try store.guardEvents(
        GuardEventQuery(
          requestID: request, keyID: key, model: model, rail: rail, onlyActions: actions, limit: limit))
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
      encoder.dateEncodingStrategy = .iso8601
      let time = ISO8601DateFormatter()
      if !json {
        print("time\trequest\tkey\tmodel\tstage\trail\tverdict\tcategory\tscore\tlatency_us\tredacted")
      }
      for e in events {
        if json {
          print(String(decoding: try encoder.encode(e), as: UTF8.self))
        } else {
          let score = e.score.map { String(format: "%.3f", $0) } ?? "-"
          print(
            "\(time.string(from: e.createdAt))\t\(e.requestID)\t\(e.keyID)\t\(e.model)\t\(e.stage)\t\(e.rail)\t"
              + "\(e.verdict)\t\(e.category ?? "-")\t\(score)\t\(e.latencyMicroseconds)\t\(e.redacted)")
        }
      }
    }
  }
}
