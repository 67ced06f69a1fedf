import ArgumentParser
import Foundation
import MuseModels

/// `muse commit`: the weights commitment of a GGUF file (`WeightsCommitment`), the root a
/// model card publishes, and inclusion proofs an auditor checks without the other weights.
struct CommitCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "commit",
    abstract: "Commit to a model's weights: a Merkle root over its metadata and tensors, and proofs.",
    subcommands: [Create.self, Prove.self, Check.self], defaultSubcommand: Create.self)

  struct Create: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "create",
      abstract: "Print the root of FILE's weights commitment and write its tree (every leaf) as JSON.")

    @Argument(help: "GGUF file.") var file: String
    @Option(name: .long, help: "Where to write the tree (default: FILE.commitment.json).") var tree: String?
    @Flag(name: .long, help: "Print the root only.") var noTree = false

    func run() throws {
      try reportingErrors {
        let commitment = WeightsCommitment(file: try GGUFFile(path: file))
        if !noTree {
          let path = tree ?? file + ".commitment.json"
          let document = CommitmentTree(
            root: commitment.root, treeSize: commitment.leaves.count,
            leaves: commitment.leaves.map { CommitmentTree.Entry(leaf: $0, hash: $0.hash.hexString) })
          try write(document, to: path)
          printError("tree of \(commitment.leaves.count) leaves written to \(path)")
        }
        print(commitment.root)
      }
    }
  }

  struct Prove: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "prove",
      abstract: "Print the inclusion proof of one tensor (or metadata key) of FILE as JSON.")

    @Argument(help: "GGUF file.") var file: String
    @Argument(help: "Tensor name (or metadata key with --metadata).") var name: String
    @Flag(name: .long, help: "NAME is a metadata key (e.g. tokenizer.chat_template).") var metadata = false
    @Option(name: .shortAndLong, help: "Write the proof here instead of standard output.") var output: String?

    func run() throws {
      try reportingErrors {
        let commitment = WeightsCommitment(file: try GGUFFile(path: file))
        let kind = metadata ? "metadata" : "tensor"
        guard let proof = commitment.proof(of: name, kind: kind) else {
          throw ValidationError("\(file): no \(kind) named '\(name)'")
        }
        if let output {
          try write(proof, to: output)
        } else {
          print(String(decoding: try encoder.encode(proof), as: UTF8.self))
        }
      }
    }
  }

  struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "check",
      abstract: "Check an inclusion proof; with --file, also that FILE holds the leaf and has that root.",
      discussion: "Exits 0 when every check passes, 2 when one fails.")

    @Argument(help: "Proof JSON (from muse commit prove).") var proof: String
    @Option(name: .long, help: "The root the proof must lead to (e.g. a model card's weights_root).")
    var root: String?
    @Option(name: .long, help: "A GGUF file whose tensor (or metadata entry) must be the proof's leaf.")
    var file: String?

    func run() throws {
      var failed = false
      try reportingErrors {
        guard let data = FileManager.default.contents(atPath: proof) else {
          throw ValidationError("\(proof): cannot read it")
        }
        let decoded: InclusionProof
        do {
          decoded = try JSONDecoder().decode(InclusionProof.self, from: data)
        } catch {
          throw ValidationError("\(proof): not an inclusion proof (\(error))")
        }
        func report(_ ok: Bool, _ what: String) {
          print((ok ? "ok      " : "FAILED  ") + what)
          if !ok { failed = true }
        }
        report(
          decoded.isValid, "the path leads from the leaf '\(decoded.leaf.name)' to the root \(decoded.root)")
        if let root { report(root.lowercased() == decoded.root, "the root is the expected \(root)") }
        if let file {
          let commitment = WeightsCommitment(file: try GGUFFile(path: file))
          report(
            commitment.leaves.contains(decoded.leaf), "\(file) holds the leaf, bytes, shape and type alike")
          report(commitment.root == decoded.root, "\(file)'s root is the proof's")
        }
      }
      if failed { throw ExitCode(2) }
    }
  }
}

/// The file `muse commit` writes: the root and every leaf in tree order with its leaf hash.
struct CommitmentTree: Encodable {
  struct Entry: Encodable {
    let leaf: WeightsCommitment.Leaf
    let hash: String
  }
  let root: String
  let treeSize: Int
  let leaves: [Entry]

  enum CodingKeys: String, CodingKey {
    case root, leaves
    case treeSize = "tree_size"
  }
}

private let encoder: JSONEncoder = {
  let encoder = JSONEncoder()
  encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
  return encoder
}()

private func write(_ value: some Encodable, to path: String) throws {
  do {
    try encoder.encode(value).write(to: URL(fileURLWithPath: path))
  } catch {
    throw ValidationError("\(path): cannot write it (\(error.localizedDescription))")
  }
}
