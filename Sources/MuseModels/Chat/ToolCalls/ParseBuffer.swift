/// The reply's UTF-8 bytes not yet handed out, addressed by absolute offsets from the start of
/// the reply so readers can keep positions while the front is dropped. Markers are valid UTF-8,
/// so a match always starts on a character boundary and slices decode whole.
struct ParseBuffer {
  private(set) var bytes: [UInt8] = []
  /// The absolute offset of `bytes[0]`.
  private(set) var base = 0

  var end: Int { base + bytes.count }

  subscript(offset: Int) -> UInt8 { bytes[offset - base] }

  mutating func append(_ text: String) { bytes.append(contentsOf: text.utf8) }

  func text(_ from: Int, _ to: Int) -> String {
    guard to > from else { return "" }
    return String(decoding: bytes[(from - base)..<(to - base)], as: UTF8.self)
  }

  /// Drops the bytes before `offset` once they are many, so memory follows what is still needed.
  mutating func discard(before offset: Int) {
    let count = offset - base
    guard count > 4096, count * 2 > bytes.count else { return }
    bytes.removeFirst(count)
    base = offset
  }

  func hasPrefix(_ marker: [UInt8], at offset: Int) -> Bool {
    guard offset + marker.count <= end else { return false }
    for (i, b) in marker.enumerated() where bytes[offset - base + i] != b { return false }
    return true
  }

  /// Whether the bytes from `offset` to the end are a proper prefix of `marker` (so more text
  /// could still complete it).
  func isPartial(_ marker: [UInt8], at offset: Int) -> Bool {
    let available = end - offset
    guard available < marker.count else { return false }
    for i in 0..<available where bytes[offset - base + i] != marker[i] { return false }
    return true
  }

  /// The first complete occurrence of any marker at or after `from`: its offset and which one
  /// (the longest where several start at the same byte).
  func firstMatch(of markers: [[UInt8]], from: Int) -> (offset: Int, marker: Int)? {
    guard !markers.isEmpty, from < end else { return nil }
    var offset = from
    while offset < end {
      let b = bytes[offset - base]
      var best: Int?
      for (i, m) in markers.enumerated() where m.first == b && hasPrefix(m, at: offset) {
        if best == nil || m.count > markers[best!].count { best = i }
      }
      if let best { return (offset, best) }
      offset += 1
    }
    return nil
  }

  /// The first offset at or after `from` from which the rest of the buffer could still grow
  /// into one of the markers; `end` when none could.
  func heldBackStart(for markers: [[UInt8]], from: Int) -> Int {
    let longest = markers.map(\.count).max() ?? 0
    var offset = max(from, end - longest + 1)
    while offset < end {
      if markers.contains(where: { isPartial($0, at: offset) }) { return offset }
      offset += 1
    }
    return end
  }

  /// The offset of the first byte at or after `from` that is not JSON whitespace.
  func skipWhitespace(from: Int) -> Int {
    var offset = from
    while offset < end, isWhitespace(bytes[offset - base]) { offset += 1 }
    return offset
  }
}

func isWhitespace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 }

extension String {
  var utf8Bytes: [UInt8] { Array(utf8) }
}
