import Foundation

// Numbers that identify a person or an account: payment cards, phone numbers, IBANs and
// national identity numbers. Each scanner starts at a byte whose predecessor is not a letter
// or digit (PIIScanner.scan checks that) and refuses a match glued to more letters or digits.

extension PIIScanner {
  // MARK: Payment cards

  /// Cards in a run of digit groups separated by single spaces or dashes, starting at `start`:
  /// any stretch of whole groups holding 13–19 digits with a known issuer prefix and a valid
  /// Luhn check digit (ISO/IEC 7812).
  mutating func paymentCards(at start: Int) {
    let first = digits(at: start, limit: 20)
    let sep = at(start + first)
    let grouped = (sep == 0x20 || sep == 0x2D) && isDigit(at(start + first + 1))
    if !grouped && (first < 13 || first > 19) { return }
    var groups: [Range<Int>] = []
    var i = start
    while groups.count < 24 {
      let d = digits(at: i, limit: 20)
      if d == 0 || d == 20 || !endsToken(i + d) { break }
      groups.append(i..<(i + d))
      let next = at(i + d)
      guard (next == 0x20 || next == 0x2D) && isDigit(at(i + d + 1)) else { break }
      i += d + 1
    }
    var s = 0
    outer: while s < groups.count {
      var e = min(groups.count - 1, s + 9)
      while e >= s {
        let count = groups[s...e].reduce(0) { $0 + $1.count }
        let tidy = s == e || groups[s...e].allSatisfy { $0.count >= 2 }
        if (13...19).contains(count) && tidy {
          var value: [UInt8] = []
          value.reserveCapacity(count)
          for g in groups[s...e] { value.append(contentsOf: b[g].map { $0 &- 0x30 }) }
          if Self.knownIssuer(value) && Self.luhnValid(value) {
            found.append(PIISpan(start: groups[s].lowerBound, end: groups[e].upperBound, kind: .paymentCard))
            s = e + 1
            continue outer
          }
        }
        e -= 1
      }
      s += 1
    }
  }

  /// Whether the digits start with a prefix a card network issues, at a length it uses.
  static func knownIssuer(_ d: [UInt8]) -> Bool {
    let n = d.count
    let p2 = Int(d[0]) * 10 + Int(d[1])
    let p3 = p2 * 10 + Int(d[2])
    let p4 = p3 * 10 + Int(d[3])
    if d[0] == 4 { return n == 13 || n == 16 || n == 19 }  // Visa
    if (51...55).contains(p2) || (2221...2720).contains(p4) { return n == 16 }  // Mastercard
    if p2 == 34 || p2 == 37 { return n == 15 }  // American Express
    let long = (16...19).contains(n)
    if p4 == 6011 || p2 == 65 || (644...649).contains(p3) { return long }  // Discover
    if (3528...3589).contains(p4) { return long }  // JCB
    if p2 == 36 || p2 == 38 || (300...305).contains(p3) { return (14...19).contains(n) }  // Diners
    if p2 == 62 { return long }  // UnionPay
    return false
  }

  /// The Luhn (mod 10) check over all the digits, the last being the check digit.
  static func luhnValid(_ d: [UInt8]) -> Bool {
    var sum = 0
    for (k, digit) in d.reversed().enumerated() {
      let v = Int(digit)
      sum += k % 2 == 1 ? (v * 2 > 9 ? v * 2 - 9 : v * 2) : v
    }
    return sum % 10 == 0
  }

  // MARK: Phone numbers

  /// `+` and 8–15 digits (E.164's limit) with spaces, dashes, dots or parentheses between;
  /// the country code never starts with 0.
  mutating func internationalPhone(at i: Int) {
    guard at(i + 1) &- 0x31 < 9 else { return }
    var j = i + 1
    var count = 0
    var end = j
    var separators = 0
    while j < b.count {
      let c = b[j]
      if isDigit(c) {
        count += 1
        if count > 15 { return }
        end = j + 1
        separators = 0
      } else if c == 0x20 || c == 0x2D || c == 0x2E || c == 0x28 || c == 0x29 {
        separators += 1
        if separators > 2 { break }
      } else {
        break
      }
      j += 1
    }
    guard count >= 8, !isAlnum(at(end)) else { return }
    found.append(PIISpan(start: i, end: end, kind: .phone))
  }

  /// North American numbers: `(415) 555-2671`, `415-555-2671`, `415.555.2671`, optionally after
  /// a trunk `1-`; the area code starts with 2–9. Bare digit runs are never phones.
  mutating func northAmericanPhone(at i: Int) {
    let before = at(i - 1)
    if before == 0x2D || before == 0x2E || before == 0x2B { return }
    var end: Int
    if b[i] == 0x28 {
      guard digits(at: i + 1, limit: 4) == 3, at(i + 4) == 0x29, at(i + 1) >= 0x32 else { return }
      var j = i + 5
      if at(j) == 0x20 { j += 1 }
      guard digits(at: j, limit: 4) == 3 else { return }
      j += 3
      if at(j) == 0x2D || at(j) == 0x2E || at(j) == 0x20 { j += 1 }
      guard digits(at: j, limit: 5) == 4 else { return }
      end = j + 4
    } else {
      var j = i
      let trunk = at(i + 1)
      if b[i] == 0x31 && (trunk == 0x2D || trunk == 0x2E || trunk == 0x20) && digits(at: i + 2, limit: 4) == 3
      {
        j = i + 2
      }
      let sep = at(j + 3)
      guard digits(at: j, limit: 4) == 3, sep == 0x2D || sep == 0x2E, at(j) >= 0x32,
        digits(at: j + 4, limit: 4) == 3, at(j + 7) == sep, digits(at: j + 8, limit: 5) == 4
      else { return }
      end = j + 12
    }
    let after = at(end)
    if isAlnum(after) || ((after == 0x2D || after == 0x2E) && isDigit(at(end + 1))) { return }
    found.append(PIISpan(start: i, end: end, kind: .phone))
  }

  // MARK: IBAN

  /// An IBAN (ISO 13616): country code, two check digits and the country's BBAN, either
  /// unbroken or in groups of four separated by single spaces, passing the mod-97 check.
  mutating func iban(at i: Int) {
    guard isUpper(at(i + 1)), isDigit(at(i + 2)), isDigit(at(i + 3)),
      let length = Self.ibanLengths[UInt16(b[i]) << 8 | UInt16(b[i + 1])]
    else { return }
    var chars: [UInt8] = []
    chars.reserveCapacity(length)
    var j = i
    var spaced: Bool?
    while chars.count < length {
      if chars.count > 0 && chars.count % 4 == 0 {
        let space = at(j) == 0x20
        if spaced == nil { spaced = space } else if spaced != space { return }
        if space { j += 1 }
      }
      let c = at(j)
      guard isUpper(c) || isDigit(c) else { return }
      chars.append(c)
      j += 1
    }
    guard endsToken(j) else { return }
    // Move the country code and check digits to the end, read letters as 10…35, mod 97.
    var remainder = 0
    for c in chars[4...] + chars[..<4] {
      let v = isDigit(c) ? Int(c &- 0x30) : Int(c &- 0x41) + 10
      remainder = (remainder * (v < 10 ? 10 : 100) + v) % 97
    }
    if remainder == 1 { found.append(PIISpan(start: i, end: j, kind: .iban)) }
  }

  /// IBAN lengths by country code, from the SWIFT IBAN registry.
  static let ibanLengths: [UInt16: Int] = {
    let table = """
      AD24 AE23 AL28 AT20 AZ28 BA20 BE16 BG22 BH22 BR29 BY28 CH21 CR22 CY28 CZ24 DE22 DK18 DO28 \
      EE20 EG29 ES24 FI18 FO18 FR27 GB22 GE22 GI23 GL18 GR27 GT28 HR21 HU28 IE22 IL23 IQ23 IS26 \
      IT27 JO30 KW30 KZ20 LB28 LC32 LI21 LT20 LU20 LV21 MC27 MD24 ME22 MK19 MR27 MT31 MU30 NL18 \
      NO15 PK24 PL28 PS29 PT25 QA29 RO24 RS22 SA24 SC31 SE24 SI19 SK24 SM27 ST25 SV28 TL23 TN24 \
      TR26 UA29 VA22 VG24 XK20
      """
    var lengths: [UInt16: Int] = [:]
    for entry in table.split(separator: " ") {
      let u = Array(entry.utf8)
      lengths[UInt16(u[0]) << 8 | UInt16(u[1])] = Int(String(entry.dropFirst(2)))!
    }
    return lengths
  }()
}
