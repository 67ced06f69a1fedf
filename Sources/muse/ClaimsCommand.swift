import ArgumentParser
import Foundation
import MuseEval
import MuseServer
import MuseStore

/// `muse claims`: the operator's published claims about a model (`GET /v1/models/{id}/claims`),
/// each backed by a `muse eval --attest` run whose attestation and results are checked before
/// they are stored.
struct ClaimsCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "claims", abstract: "Publish, list and withdraw attested claims about a model.",
    subcommands: [Add.self, List.self, Remove.self])

  struct Common: ParsableArguments {
    @Option(name: .long, help: "Data directory (default ~/.muse).") var dataDir: String?
  }

  struct Add: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Publish a claim backed by a muse eval --attest run (its attestation.json and items.jsonl).")
    @OptionGroup var common: Common
    @Option(name: .long, help: "The served model's id.") var model: String
    @Option(name: .long, help: "The claim in words, e.g. \"ARC-Challenge acc_norm 0.27 (250 items)\".")
    var statement: String
    @Option(name: .long, help: "The muse eval --output directory of the attested run.") var results: String

    func run() throws {
      try reportingErrors {
        // The keys the attestation must verify with are the deployment's: a directory without
        // an identity is refused, not given a new key.
        let dataDir = try DataDirectory.path(common.dataDir)
        guard ServerIdentity.exists(in: dataDir) else {
          throw ValidationError(
            "\(dataDir): no server identity (identity/keys.json); give muse serve's --data-dir")
        }
        let attestationFile = results + "/attestation.json"
        let itemsFile = results + "/items.jsonl"
        guard let document = FileManager.default.contents(atPath: attestationFile) else {
          throw ValidationError("\(attestationFile): cannot read it (run muse eval with --attest)")
        }
        guard let itemsData = FileManager.default.contents(atPath: itemsFile) else {
          throw ValidationError("\(itemsFile): cannot read it")
        }
        guard !statement.trimmingCharacters(in: .whitespaces).isEmpty, statement.count <= 500 else {
          throw ValidationError("--statement takes 1 to 500 characters")
        }
        let attestation: Attestation
        do {
          attestation = try Attestation(json: document)
        } catch {
          throw ValidationError("\(attestationFile): \(error)")
        }
        let keys = try ServerIdentity(dataDirectory: dataDir).publishedKeys()
        do {
          try attestation.verify(keys: keys)
        } catch {
          throw ValidationError("\(attestationFile): \(error)")
        }
        guard attestation.string("model") == model else {
          throw ValidationError(
            "\(attestationFile): attests the model '\(attestation.string("model") ?? "")', not '\(model)'")
        }
        let text = String(decoding: itemsData, as: UTF8.self)
        let items = try EvalAttestation.results(jsonl: text, file: itemsFile)
        let problems = EvalAttestation.problems(attestation, items: items)
        guard problems.isEmpty else {
          throw ValidationError("\(itemsFile): " + problems.joined(separator: "; "))
        }
        let claim = Claim(
          model: model, statement: statement,
          attestation: String(decoding: attestation.json, as: UTF8.self), items: text)
        try DataDirectory.store(dataDir).insert(claim)
        print(claim.id)
        printError("published on /v1/models/\(model)/claims")
      }
    }
  }

  struct List: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List a model's claims.")
    @OptionGroup var common: Common
    @Option(name: .long, help: "The served model's id.") var model: String

    func run() throws {
      try reportingErrors {
        for claim in try DataDirectory.store(common.dataDir).claims(model: model) {
          print("\(claim.id)  \(claim.statement)")
        }
      }
    }
  }

  struct Remove: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Withdraw a claim.")
    @OptionGroup var common: Common
    @Argument(help: "The claim's id.") var id: String

    func run() throws {
      try reportingErrors {
        guard try DataDirectory.store(common.dataDir).removeClaim(id: id) else {
          throw ValidationError("no claim '\(id)'")
        }
      }
    }
  }
}
