import ArgumentParser
import Foundation
import MuseEngine
import MuseServer
import MuseStore

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// `muse verify`: checks a receipt's signature against the deployment's published keys and
/// recomputes every hash it states from the request and reply the client holds.
struct VerifyCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "verify",
    abstract: "Check a signed receipt against the server's public keys and the request and reply you hold.",
    discussion: """
      The receipt is a file: a receipt ({"payload", "signature"}), what GET /v1/receipts/{id} \
      returned (its token ids are then checked too), a saved stream (its last chunk carries the \
      receipt), or the Muse-Receipt header's value. Or give --id with --server and --api-key to \
      fetch it. Keys come from --keys (a saved /.well-known/muse-keys) or from --server. Each \
      check is printed; the exit status is 1 if any fails.
      """)

  @Argument(help: "The receipt file (see above).") var receipt: String?
  @Option(name: .long, help: "Fetch the receipt of this response id from --server.") var id: String?
  @Option(name: .long, help: "The server's base URL (http://host:port), for keys and --id.") var server:
    String?
  @Option(name: .long, help: "The API key that made the request (or an admin key), for --id.") var apiKey:
    String?
  @Option(name: .long, help: "The published keys as a JSON file ({\"keys\": [...]}).") var keys: String?
  @Option(name: .long, help: "The request body you sent (JSON).") var request: String?
  @Option(name: .long, help: "The reply you got: its JSON body, or the stream's data: lines.") var response:
    String?
  @Option(
    name: .long,
    help:
      "The weights (an auditor's copy, or an open model's GGUF): also check the file, the rendered prompt and, by one prefill pass, the activation commitment (needs --id: the token ids)."
  ) var model: String?

  func run() async throws {
    do {
      let failures = try await verify()
      if failures > 0 {
        print("FAILED: \(failures) check(s) failed")
        throw ExitCode.failure
      }
      print("OK: every check passed")
    } catch let error as ExitCode {
      throw error
    } catch {
      printError("muse: error: \(error)")
      throw ExitCode.failure
    }
  }

  private func verify() async throws -> Int {
    let responseData = try response.map { try Self.read($0) }
    var entries: [ReceiptFile.Entry]
    if let id {
      guard let server, let apiKey else { throw ValidationError("--id needs --server and --api-key") }
      let url = try Self.url(
        server, "/v1/receipts/" + (id.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? id))
      entries = try ReceiptFile.entries(from: try await Self.get(url, key: apiKey), name: url.absoluteString)
    } else if let receipt {
      entries = try ReceiptFile.entries(from: try Self.read(receipt), name: receipt)
    } else if let response, let responseData {
      // A saved stream carries its receipt in its last chunk.
      entries = try ReceiptFile.entries(from: responseData, name: response)
    } else {
      throw ValidationError("give a receipt file, --id with --server, or a saved stream as --response")
    }
    let published: [ServerIdentity.PublicKey]
    if let keys {
      published = try ReceiptFile.keys(from: try Self.read(keys), name: keys)
    } else if let server {
      let url = try Self.url(server, "/.well-known/muse-keys")
      published = try ReceiptFile.keys(from: try await Self.get(url, key: nil), name: url.absoluteString)
    } else {
      throw ValidationError("give --keys FILE or --server URL for the published keys")
    }
    let requestData = try request.map { try Self.read($0) }
    let replay = try model.map { path in
      let lm = try LanguageModel(path: path)
      lm.kvCacheType = .f16
      return ReceiptReplay(model: lm)
    }
    var failures = 0
    for entry in entries {
      let r = entry.receipt
      print(
        "receipt \(r.string("response_id") ?? "?") choice \(r.int("choice_index") ?? 0), "
          + "model \(r.string("model") ?? "?"), key \(r.string("key_id") ?? "?")")
      let evidence = ReceiptEvidence(
        receipt: r, keys: published, request: requestData, response: responseData,
        promptTokenIDs: entry.promptTokenIDs, completionTokenIDs: entry.completionTokenIDs,
        activations: entry.activations)
      let replayed = replay?.check(entry, request: requestData) ?? []
      for check in ReceiptVerifier.check(evidence) + replayed {
        if let problem = check.problem {
          failures += 1
          print("  FAIL \(check.name): \(problem)")
        } else {
          print("  ok   \(check.name)")
        }
      }
    }
    return failures
  }

  static func read(_ path: String) throws -> Data {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw ValidationError("\(path): cannot be read")
    }
    return data
  }

  static func url(_ server: String, _ path: String) throws -> URL {
    let base = server.hasSuffix("/") ? String(server.dropLast()) : server
    guard let url = URL(string: base + path), url.scheme == "http" || url.scheme == "https" else {
      throw ValidationError("--server: '\(server)' is not an http(s) URL")
    }
    return url
  }

  static func get(_ url: URL, key: String?) async throws -> Data {
    var request = URLRequest(url: url)
    if let key { request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization") }
    let (data, response) = try await URLSession.shared.data(for: request)
    let status = (response as? HTTPURLResponse)?.statusCode ?? 0
    guard status == 200 else {
      throw ValidationError(
        "\(url.absoluteString): HTTP \(status): \(String(decoding: data.prefix(300), as: UTF8.self))")
    }
    return data
  }
}
