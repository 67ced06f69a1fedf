import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// A blocking HTTP/1.1 POST over a plain socket, its response body (de-chunked) handed over
/// line by line as it arrives. The benchmark needs each stream on its own connection with
/// arrival times taken as bytes come in; FoundationNetworking's URLSession on Linux was seen to
/// serialise concurrent streamed requests, which would measure the client, not the server.
enum PlainHTTPStream {
  /// Returns the HTTP status; `onLine` gets each body line (without CR/LF) and when it arrived.
  static func post(
    url: URL, headers: [String: String], body: Data, onLine: (String, Date) -> Void
  ) throws -> Int {
    guard url.scheme == "http", let host = url.host else { throw BenchServeError.badURL(url.absoluteString) }
    let port = url.port ?? 80
    let fd = try connect(host: host, port: port)
    defer { close(fd) }
    var head = "POST \(url.path.isEmpty ? "/" : url.path) HTTP/1.1\r\nHost: \(host):\(port)\r\n"
    for (name, value) in headers { head += "\(name): \(value)\r\n" }
    head += "Content-Length: \(body.count)\r\nConnection: close\r\n\r\n"
    try send(fd, Data(head.utf8) + body)

    var reader = ResponseReader()
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
      let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
      if n < 0 && errno == EINTR { continue }
      guard n > 0 else { break }
      let now = Date()
      for line in reader.feed(chunk[0..<n]) { onLine(line, now) }
      if reader.finished { break }
    }
    if let rest = reader.remainder() { onLine(rest, Date()) }
    return reader.status
  }

  private static func connect(host: String, port: Int) throws -> Int32 {
    var hints = addrinfo()
    hints.ai_family = AF_UNSPEC
    hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
    var result: UnsafeMutablePointer<addrinfo>?
    guard getaddrinfo(host, String(port), &hints, &result) == 0, let first = result else {
      throw BenchServeError.connectFailed("\(host):\(port)", "cannot resolve the host")
    }
    defer { freeaddrinfo(result) }
    var entry: UnsafeMutablePointer<addrinfo>? = first
    while let info = entry {
      let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
      if fd >= 0 {
        if Glibc.connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 { return fd }
        close(fd)
      }
      entry = info.pointee.ai_next
    }
    throw BenchServeError.connectFailed("\(host):\(port)", String(cString: strerror(errno)))
  }

  private static func send(_ fd: Int32, _ data: Data) throws {
    try data.withUnsafeBytes { raw in
      var sent = 0
      while sent < raw.count {
        let n = Glibc.send(fd, raw.baseAddress! + sent, raw.count - sent, Int32(MSG_NOSIGNAL))
        if n < 0 && errno == EINTR { continue }
        guard n > 0 else { throw BenchServeError.connectFailed("socket", String(cString: strerror(errno))) }
        sent += n
      }
    }
  }
}

/// Parses a response as it arrives: status line and headers, then a body that is either
/// chunked (RFC 9112 §7.1) or runs to the end of the connection.
struct ResponseReader {
  private(set) var status = 0
  private(set) var finished = false
  private var buffer: [UInt8] = []
  private var inBody = false
  private var chunked = false
  /// Bytes left in the current chunk; nil while a chunk-size line is expected.
  private var chunkLeft: Int?
  private var line: [UInt8] = []

  mutating func feed(_ bytes: ArraySlice<UInt8>) -> [String] {
    buffer += bytes
    if !inBody {
      guard let end = find([13, 10, 13, 10]) else { return [] }
      let head = String(decoding: buffer[0..<end], as: UTF8.self).lowercased()
      let statusLine = head.split(separator: "\r\n").first ?? ""
      status = statusLine.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
      chunked = head.contains("transfer-encoding: chunked")
      buffer.removeFirst(end + 4)
      inBody = true
    }
    var body: [UInt8] = []
    if !chunked {
      body = buffer
      buffer.removeAll()
    } else {
      while !finished {
        if let left = chunkLeft {
          if left == 0 {
            guard buffer.count >= 2 else { break }
            buffer.removeFirst(2)
            chunkLeft = nil
            continue
          }
          let take = min(left, buffer.count)
          guard take > 0 else { break }
          body += buffer[0..<take]
          buffer.removeFirst(take)
          chunkLeft = left - take
        } else {
          guard let end = find([13, 10]) else { break }
          let sizeText = String(decoding: buffer[0..<end], as: UTF8.self).split(separator: ";").first ?? ""
          let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16) ?? 0
          buffer.removeFirst(end + 2)
          if size == 0 {
            finished = true
          } else {
            chunkLeft = size
          }
        }
      }
    }
    var lines: [String] = []
    for byte in body {
      if byte == 10 {
        if line.last == 13 { line.removeLast() }
        lines.append(String(decoding: line, as: UTF8.self))
        line.removeAll()
      } else {
        line.append(byte)
      }
    }
    return lines
  }

  /// A last line with no newline after it.
  func remainder() -> String? { line.isEmpty ? nil : String(decoding: line, as: UTF8.self) }

  private func find(_ pattern: [UInt8]) -> Int? {
    guard buffer.count >= pattern.count else { return nil }
    for i in 0...(buffer.count - pattern.count) where buffer[i..<i + pattern.count].elementsEqual(pattern) {
      return i
    }
    return nil
  }
}
