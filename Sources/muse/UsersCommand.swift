import ArgumentParser
import Foundation
import MuseStore

struct UsersCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "users",
    abstract:
      "Create, list, disable chat-app users and set their passwords (in the server's data directory).",
    subcommands: [Create.self, List.self, Disable.self, Passwd.self])

  struct Create: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Create a user (and the API key their chats are billed to).",
      discussion: "Without --password-stdin a password is generated and printed once.")
    @OptionGroup var common: KeysCommand.Common
    @Argument(help: "Username: letters, digits, '.', '_' or '-'.") var name: String
    @Flag(name: .long, help: "May see every user's usage in the app.") var admin = false
    @Flag(name: .long, help: "Read the password from standard input (one line).") var passwordStdin = false
    @Option(name: .long, help: "Models the user may chat with, comma-separated (default: all).") var models:
      String?
    @Option(name: .long, help: "Requests per minute.") var requestsPerMinute: Int?
    @Option(name: .long, help: "Tokens per minute.") var tokensPerMinute: Int?
    @Option(name: .long, help: "Tokens per budget period.") var budgetTokens: Int?
    @Option(name: .long, help: "US dollars per budget period.") var budgetUsd: Double?
    @Option(name: .long, help: "Budget period: day or month.") var period = "month"

    func run() throws {
      try reportingErrors {
        let limits = try KeyLimits.parse(
          requestsPerMinute: requestsPerMinute, tokensPerMinute: tokensPerMinute, budgetTokens: budgetTokens,
          budgetUSD: budgetUsd, period: period,
          names: ("--requests-per-minute", "--tokens-per-minute", "--budget-tokens", "--budget-usd"))
        let password = passwordStdin ? try readPassword() : UserAccounts.generatePassword()
        let accounts = UserAccounts(store: try DataDirectory.store(common.dataDir))
        let user = try accounts.create(
          username: name, password: password, isAdmin: admin,
          models: models.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
            ?? [],
          limits: limits)
        if !passwordStdin {
          print(password)
          printError(
            "created \(user.username)\(admin ? " (admin)" : ""); the password above is shown only once")
        } else {
          print("created \(user.username)\(admin ? " (admin)" : "")")
        }
      }
    }
  }

  struct List: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List users and their keys.")
    @OptionGroup var common: KeysCommand.Common
    func run() throws {
      try reportingErrors {
        let store = try DataDirectory.store(common.dataDir)
        print("username             | role  | status   | key               | models")
        for user in try store.users() {
          let key = try store.key(id: user.keyID)
          let models = key.map { $0.models.isEmpty ? "all" : $0.models.joined(separator: ",") } ?? "-"
          print(
            [
              user.username, user.isAdmin ? "admin" : "user", user.disabled ? "disabled" : "active",
              user.keyID, models,
            ].enumerated().map { i, cell in
              i < 4 ? cell.padding(toLength: [20, 5, 8, 17][i], withPad: " ", startingAt: 0) : cell
            }.joined(separator: " | "))
        }
      }
    }
  }

  struct Disable: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Disable a user and sign them out everywhere.")
    @OptionGroup var common: KeysCommand.Common
    @Argument(help: "Username.") var name: String
    func run() throws {
      try reportingErrors {
        try UserAccounts(store: try DataDirectory.store(common.dataDir)).disable(username: name)
        print("disabled \(name)")
      }
    }
  }

  struct Passwd: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Set a user's password (signs them out everywhere).",
      discussion: "Without --password-stdin a password is generated and printed once.")
    @OptionGroup var common: KeysCommand.Common
    @Argument(help: "Username.") var name: String
    @Flag(name: .long, help: "Read the password from standard input (one line).") var passwordStdin = false
    func run() throws {
      try reportingErrors {
        let password = passwordStdin ? try readPassword() : UserAccounts.generatePassword()
        try UserAccounts(store: try DataDirectory.store(common.dataDir)).setPassword(
          username: name, password: password)
        if passwordStdin {
          print("changed the password of \(name)")
        } else {
          print(password)
          printError("changed the password of \(name); the password above is shown only once")
        }
      }
    }
  }
}

/// One line of standard input, without its line ending.
private func readPassword() throws -> String {
  guard let line = readLine(strippingNewline: true), !line.isEmpty else {
    throw ValidationError("--password-stdin: no password on standard input")
  }
  return line
}

enum FirstAppUser {
  /// On the first `muse serve` (no users yet) creates the app's `admin` user; returns the
  /// generated password to print once.
  static func ensure(in store: Store) throws -> String? {
    guard try store.users().isEmpty else { return nil }
    let password = UserAccounts.generatePassword()
    try UserAccounts(store: store).create(username: "admin", password: password, isAdmin: true)
    return password
  }
}
