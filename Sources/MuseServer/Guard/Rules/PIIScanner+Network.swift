import Foundation

// Addresses: email addresses and IP addresses.

extension PIIScanner {
  /// An email address around the `@` at `sign`: a local part of letters, digits and `._%+-`
  /// (not starting or ending with a dot) and a domain of at least two dot-separated labels,
  /// the last one letters only.
  mutating func email(at sign: Int) {
    var start = sign
    while start > 0, isLocalPart(b[start - 1]) { start -= 1 }
    while start < sign, b[start] == 0x2E { start += 1 }
    guard start < sign, b[sign - 1] != 0x2E else { return }
    // The domain: labels of letters, digits and inner dashes.
    var end = sign + 1
    var labelStart = end
    var labels = 0
    var lastLabelAlpha = true
    var domainEnd = -1
    while true {
      let c = at(end)
      if isAlnum(c) || c == 0x2D {
        if c == 0x2D && end == labelStart { break }
        lastLabelAlpha = lastLabelAlpha && isAlpha(c)
        end += 1
        continue
      }
      let length = end - labelStart
      guard length > 0, length <= 63, b[end - 1] != 0x2D else { break }
      labels += 1
      if labels >= 2 && lastLabelAlpha && length >= 2 { domainEnd = end }
      guard c == 0x2E, isAlnum(at(end + 1)) else { break }
      end += 1
      labelStart = end
      lastLabelAlpha = true
    }
    if domainEnd > 0 && at(domainEnd) != 0x40 {
      found.append(PIISpan(start: start, end: domainEnd, kind: .email))
    }
  }

  private func isLocalPart(_ c: UInt8) -> Bool {
    isAlnum(c) || c == 0x2E || c == 0x5F || c == 0x25 || c == 0x2B || c == 0x2D
  }

  /// A dotted-quad IPv4 address: four decimal octets 0–255 without leading zeros, not part of a
  /// longer dotted number (`1.2.3.4.5` is a version, not an address).
  mutating func ipv4(at i: Int) {
    let before = at(i - 1)
    if before == 0x2E || before == 0x2D || before == 0x5F { return }
    var j = i
    for part in 0..<4 {
      let d = digits(at: j, limit: 4)
      guard d >= 1, d <= 3, d == 1 || b[j] != 0x30, number(at: j, d) <= 255 else { return }
      j += d
      if part < 3 {
        guard at(j) == 0x2E else { return }
        j += 1
      }
    }
    let after = at(j)
    if isAlnum(after) || after == 0x5F || (after == 0x2E && isDigit(at(j + 1))) { return }
    found.append(PIISpan(start: i, end: j, kind: .ipAddress))
  }

  /// An IPv6 address (RFC 4291 §2.2): eight groups of 1–4 hex digits, or fewer with one `::`,
  /// optionally ending in a dotted IPv4 address. To keep `a::b` in code out, a compressed
  /// address needs at least four hex digits in all.
  mutating func ipv6(at i: Int) {
    let before = at(i - 1)
    if before == 0x3A || before == 0x2E || before == 0x5F { return }
    var end = i
    while end < b.count, end - i < 46, isHex(b[end]) || b[end] == 0x3A || b[end] == 0x2E { end += 1 }
    if isAlnum(at(end)) || at(end) == 0x5F { return }
    // A sentence may end right after the address.
    if at(end - 1) == 0x2E || (at(end - 1) == 0x3A && at(end - 2) != 0x3A) { end -= 1 }
    if let length = ipv6Length(i, end), length == end - i {
      found.append(PIISpan(start: i, end: end, kind: .ipAddress))
    }
  }

  /// The length of a valid IPv6 address filling `start..<end`, or nil.
  private func ipv6Length(_ start: Int, _ end: Int) -> Int? {
    var groups = 0
    var hexDigits = 0
    var compressed = false
    var j = start
    if has("::", at: j) {
      compressed = true
      j += 2
      if j == end { return nil }
    }
    while j < end {
      // An embedded IPv4 address may only close the address.
      var k = j
      while k < end, isHex(b[k]) { k += 1 }
      if k < end, b[k] == 0x2E {
        guard groups <= 6 else { return nil }
        let probe = PIIScanner(Array(b[j..<end]))
        var scratch = probe
        scratch.ipv4(at: 0)
        guard scratch.found.first?.end == end - j else { return nil }
        groups += 2
        hexDigits += 4
        j = end
        break
      }
      let width = k - j
      guard width >= 1, width <= 4 else { return nil }
      groups += 1
      hexDigits += width
      j = k
      if j == end { break }
      guard b[j] == 0x3A else { return nil }
      if at(j + 1) == 0x3A {
        if compressed { return nil }
        compressed = true
        j += 2
      } else {
        j += 1
        if j == end { return nil }
      }
    }
    let valid = compressed ? groups <= 7 && groups >= 2 && hexDigits >= 4 : groups == 8
    return valid ? j - start : nil
  }
}
