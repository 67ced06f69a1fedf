import ArgumentParser
import Foundation
import MuseStore

/// `muse identity`: the deployment's receipt-signing keys (in the data directory).
struct IdentityCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "identity",
    abstract: "Show or rotate the key that signs receipts (in the server's data directory).",
    subcommands: [Show.self, Rotate.self])

  struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Print the published public keys as /.well-known/muse-keys serves them (made if none).")
    @OptionGroup var common: KeysCommand.Common
    func run() throws {
      try reportingErrors {
        let identity = try ServerIdentity(dataDirectory: DataDirectory.path(common.dataDir))
        print(try IdentityCommand.json(identity.publishedKeys()))
      }
    }
  }

  struct Rotate: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Retire the current key (its validity ends now; it stays published) and make a new one.",
      discussion: "A running server signs with the new key from its next receipt.")
    @OptionGroup var common: KeysCommand.Common
    func run() throws {
      try reportingErrors {
        let identity = try ServerIdentity(dataDirectory: DataDirectory.path(common.dataDir))
        let key = try identity.rotate()
        print(try IdentityCommand.json(identity.publishedKeys()))
        printError("receipts are now signed by \(key.keyID)")
      }
    }
  }

  static func json(_ keys: [ServerIdentity.PublicKey]) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    return String(decoding: try encoder.encode(ServerIdentity.KeySet(keys: keys)), as: UTF8.self)
  }
}
