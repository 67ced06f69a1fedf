import Foundation
import Hummingbird
import HummingbirdTesting
import MuseEngine
import MuseStore
import MuseTestSupport
import Testing

@testable import MuseServer

/// Over real connections: a client that leaves is billed what it received and frees its
/// sequence at once, streaming or not (issue #15, findings 3–5).
@Suite(.serialized)
struct DisconnectBillingTests {
  private func server() throws -> (MuseService, SQLiteStore, String, APIKey) {
    _ = try TestPaths.smolLM2()
    let smol = try #require(ServerHarness.smol)
    let dir = try TestPaths.temporaryDirectory()
    let store = try SQLiteStore(path: dir.appendingPathComponent("muse.sqlite").path)
    let runner = ModelRunner(
      entry: ModelEntry(id: "smol", path: smol.gguf!.path, defaultTemperature: 0), model: smol,
      weightsDigest: "0")
    let (secret, key) = APIKey.generate(name: "t", scopes: [.inference])
    try store.insert(key)
    return (MuseService(runners: [runner], store: store), store, secret, key)
  }

  /// A completion request sent over a raw connection, which the test closes when it decides.
  private func postCompletion(port: Int, secret: String, body: String) throws -> RawSocket {
    let socket = try RawSocket(port: port)
    try socket.send(
      "POST /v1/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(secret)\r\n"
        + "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
    return socket
  }

  private func finalRow(_ store: SQLiteStore, key: APIKey) async throws -> UsageRecord {
    for _ in 0..<200 {
      if let row = try store.usage(keyID: key.id, since: nil, limit: 1).first,
        row.status != UsageRecord.inProgressStatus
      {
        return row
      }
      try await Task.sleep(for: .milliseconds(50))
    }
    throw CancellationError()
  }

  @Test func anAbandonedStreamIsBilledTheTokensItReceived() async throws {
    let (service, store, secret, key) = try server()
    let app = buildApplication(service: service, http: HTTPSettings(host: "127.0.0.1", port: 0))
    try await app.test(.live) { client in
      let port = try #require(client.port)
      // A raw connection, closed the moment 24 tokens have arrived: an HTTP client library closes
      // when it gets round to it, and a fast CPU generates hundreds of tokens in the meantime.
      let body =
        #"{"model": "smol", "prompt": "Once upon a time", "max_tokens": 2000, "stream": true, "ignore_eos": true}"#
      let socket = try postCompletion(port: port, secret: secret, body: body)
      /// Deltas with text: a `"text":"` that does not open an empty string.
      func events(_ received: String) -> Int {
        received.components(separatedBy: #""text":""#).count
          - received.components(separatedBy: #""text":"""#).count
      }
      // Admission on a loaded machine (the whole suite in parallel) can take seconds.
      let received = await socket.receive(until: { events($0) >= 24 }, within: .seconds(60))
      let events = events(received)
      socket.close()
      #expect(received.hasPrefix("HTTP/1.1 200"), "\(received.prefix(200))")
      #expect(events >= 24)
      let row = try await finalRow(store, key: key)
      #expect(row.status == 499 && row.finishReason == "cancelled")
      // Each delta is one token here (plain English text). What is billed is what the server
      // wrote to the connection: never less than this reader consumed, and far less than the
      // 2,000 tokens asked for (what was in flight when the connection closed, a few tokens).
      #expect(row.completionTokens >= events - 1, "billed \(row.completionTokens), received \(events)")
      #expect(row.completionTokens < 500, "billed \(row.completionTokens), received \(events)")
      #expect(service.models["smol"]!.activeSequences == 0)
    }
  }

  @Test func aNonStreamingClientThatLeavesStopsItsGeneration() async throws {
    let (service, store, secret, key) = try server()
    let app = buildApplication(service: service, http: HTTPSettings(host: "127.0.0.1", port: 0))
    try await app.test(.live) { client in
      let port = try #require(client.port)
      let body = #"{"model": "smol", "prompt": "Once upon a time", "max_tokens": 3000, "ignore_eos": true}"#
      let socket = try postCompletion(port: port, secret: secret, body: body)
      // Generating: on a loaded machine admission can take seconds, so wait for it (3,000
      // tokens take far longer than the wait).
      for _ in 0..<600 where service.models["smol"]!.activeSequences == 0 {
        try await Task.sleep(for: .milliseconds(50))
      }
      #expect(service.models["smol"]!.activeSequences == 1)
      socket.close()
      let row = try await finalRow(store, key: key)
      #expect(row.status == 499 && row.completionTokens == 0, "\(row)")
      #expect(service.models["smol"]!.activeSequences == 0)
      // The gauges follow at once, without another request.
      let metrics = try await client.execute(uri: "/metrics", method: .get)
      #expect(String(buffer: metrics.body).contains(#"muse_active_sequences_sequences{model="smol"} 0.0"#))
    }
  }

  @Test func slowHeadersAreCutOff() async throws {
    let (service, _, _, _) = try server()
    let app = buildApplication(
      service: service, http: HTTPSettings(host: "127.0.0.1", port: 0, headerTimeout: .milliseconds(500)))
    try await app.test(.live) { client in
      let port = try #require(client.port)
      let socket = try RawSocket(port: port)
      try socket.send("GET /health HTTP/1.1\r\n")
      try await Task.sleep(for: .milliseconds(1200))
      #expect(socket.isClosedByPeer())
      // A prompt client is served as before.
      let prompt = try RawSocket(port: port)
      try prompt.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
      try await Task.sleep(for: .milliseconds(200))
      #expect(!prompt.isClosedByPeer())
    }
  }
}

/// A plain TCP connection to the server under test, for what HTTP clients will not do.
final class RawSocket {
  private let fd: Int32
  private var open = true

  init(port: Int) throws {
    fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let result = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
      }
    }
    guard result == 0 else { throw CancellationError() }
  }

  func send(_ text: String) throws {
    let bytes = Array(text.utf8)
    guard Glibc.send(fd, bytes, bytes.count, 0) == bytes.count else { throw CancellationError() }
  }

  /// Whether the server closed the connection (a read returns end of file or an error).
  func isClosedByPeer() -> Bool {
    var byte: UInt8 = 0
    let n = recv(fd, &byte, 1, Int32(MSG_DONTWAIT))
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
  }

  /// What arrives within `timeout` (up to 64 KB; "" if nothing did), or nil once the
  /// connection is closed or fails. It polls without blocking and sleeps between polls: a
  /// blocking wait would hold one of the few threads the server under test runs its tasks on.
  func receive(within timeout: Duration) async -> String? {
    let deadline = ContinuousClock.now + timeout
    while true {
      var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
      let ready = poll(&poller, 1, 0)
      if ready == 1 {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let n = recv(fd, &buffer, buffer.count, 0)
        return n > 0 ? String(decoding: buffer.prefix(n), as: UTF8.self) : nil
      }
      if ready < 0 && errno != EINTR { return nil }
      if ContinuousClock.now >= deadline { return "" }
      try? await Task.sleep(for: .milliseconds(5))
    }
  }

  /// Everything that arrives until `done` holds for it, the connection closes, or `timeout` passes.
  func receive(until done: (String) -> Bool, within timeout: Duration) async -> String {
    var received = ""
    let deadline = ContinuousClock.now + timeout
    while !done(received), ContinuousClock.now < deadline {
      guard let bytes = await receive(within: .milliseconds(500)) else { break }
      received += bytes
    }
    return received
  }

  func close() {
    if open { _ = Glibc.close(fd) }
    open = false
  }
  deinit { close() }
}
