import ArgumentParser
import Foundation
import MuseStore

struct KeysCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "keys", abstract: "Create, list, show and revoke API keys (in the server's data directory).",
    subcommands: [Create.self, List.self, Show.self, Revoke.self])

  struct Common: ParsableArguments {
    @Option(name: .long, help: "Data directory (default ~/.muse).") var dataDir: String?
  }

  struct Create: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create a key and print its secret once.")
    @OptionGroup var common: Common
    @Option(name: .long, help: "A name to recognise the key by.") var name: String
    @Option(name: .long, help: "Scopes, comma-separated: inference, weights, admin.") var scopes = "inference"
    @Option(name: .long, help: "Models it may use, comma-separated (default: all).") var models: String?
    @Option(name: .long, help: "Requests per minute.") var rpm: Int?
    @Option(name: .long, help: "Tokens per minute.") var tpm: Int?
    @Option(name: .long, help: "Tokens per budget period.") var budgetTokens: Int?
    @Option(name: .long, help: "US dollars per budget period.") var budgetUsd: Double?
    @Option(name: .long, help: "Budget period: day or month.") var period = "month"
    @Option(name: .long, help: "Expire after this many days.") var expiresDays: Int?

    func run() throws {
      try reportingErrors {
        var parsed: [KeyScope] = []
        for s in scopes.split(separator: ",") {
          guard let scope = KeyScope(rawValue: s.trimmingCharacters(in: .whitespaces)) else {
            throw ValidationError("unknown scope '\(s)' (use inference, weights, admin)")
          }
          parsed.append(scope)
        }
        let limits = try KeyLimits.parse(
          requestsPerMinute: rpm, tokensPerMinute: tpm, budgetTokens: budgetTokens, budgetUSD: budgetUsd,
          period: period, names: ("--rpm", "--tpm", "--budget-tokens", "--budget-usd"))
        let (secret, key) = APIKey.generate(
          name: name, scopes: parsed, models: models.map { $0.split(separator: ",").map(String.init) } ?? [],
          limits: limits,
          expiresAt: try expiresDays.map { try APIKey.expiry(days: $0, field: "--expires-days") })
        try DataDirectory.store(common.dataDir).insert(key)
        print(secret)
        printError("created \(key.id) (\(key.prefix)…); the secret above is shown only once")
      }
    }
  }

  struct List: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List keys (never their secrets).")
    @OptionGroup var common: Common
    func run() throws {
      try reportingErrors {
        let keys = try DataDirectory.store(common.dataDir).keys()
        print("id                | prefix     | name             | scopes                 | status")
        for k in keys {
          let status = k.revokedAt != nil ? "revoked" : k.isActive() ? "active" : "expired"
          print(
            [k.id, k.prefix + "…", k.name, k.scopes.map(\.rawValue).joined(separator: ","), status]
              .enumerated().map {
                $1.padding(toLength: [17, 10, 16, 22, 8][$0], withPad: " ", startingAt: 0)
              }.joined(separator: " | "))
        }
      }
    }
  }

  struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show one key's settings.")
    @OptionGroup var common: Common
    @Argument(help: "Key id (key_...).") var id: String
    func run() throws {
      try reportingErrors {
        guard let k = try DataDirectory.store(common.dataDir).key(id: id) else {
          throw ValidationError("no key with id '\(id)'")
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        var shown = k
        shown.hash = "(sha-256, not shown)"
        print(String(decoding: try encoder.encode(shown), as: UTF8.self))
      }
    }
  }

  struct Revoke: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Revoke a key; the server refuses it at once.")
    @OptionGroup var common: Common
    @Argument(help: "Key id (key_...).") var id: String
    func run() throws {
      try reportingErrors {
        guard try DataDirectory.store(common.dataDir).revoke(id: id, at: Date()) else {
          throw ValidationError("no key with id '\(id)'")
        }
        print("revoked \(id)")
      }
    }
  }
}

struct UsageCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "usage", abstract: "Usage totals by key, model and day from the ledger.")
  @OptionGroup var common: KeysCommand.Common
  @Option(name: .long, help: "Only the last N days.") var days: Int?
  @Option(name: .long, help: "Group by: any of key, model, day (comma-separated).") var by = "key,model,day"

  func run() throws {
    try reportingErrors {
      var grouping: UsageGrouping = []
      for g in by.split(separator: ",") {
        switch g {
        case "key": grouping.insert(.key)
        case "model": grouping.insert(.model)
        case "day": grouping.insert(.day)
        default: throw ValidationError("--by takes key, model or day, not '\(g)'")
        }
      }
      let since = days.map { Date().addingTimeInterval(-Double($0) * 86_400) }
      let totals = try DataDirectory.store(common.dataDir).totals(
        keyID: nil, since: since, groupedBy: grouping)
      print(
        "day        | key               | model                    | requests | prompt tok | completion tok | cost $"
      )
      for t in totals {
        print(
          String(
            format: "%@ | %@ | %@ | %8d | %10d | %14d | %.6f",
            (t.day ?? "-").padding(toLength: 10, withPad: " ", startingAt: 0),
            (t.keyID ?? "-").padding(toLength: 17, withPad: " ", startingAt: 0),
            (t.model ?? "-").padding(toLength: 24, withPad: " ", startingAt: 0), t.requests, t.promptTokens,
            t.completionTokens, Double(t.costMicrodollars) / 1e6))
      }
    }
  }
}
