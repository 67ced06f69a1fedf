import Foundation

// National identity numbers, each with the checks its issuer defines; a number that fails
// them is not reported.

extension PIIScanner {
  /// A US Social Security number, `AAA-GG-SSSS` or `AAA GG SSSS` only (nine bare digits are
  /// too common to call an SSN). The SSA never issues area 000, 666 or 900–999, group 00 or
  /// serial 0000.
  mutating func ssn(at i: Int) {
    let before = at(i - 1)
    if before == 0x2D || before == 0x2E || (before == 0x20 && isDigit(at(i - 2))) { return }
    let sep = at(i + 3)
    guard digits(at: i, limit: 4) == 3, sep == 0x2D || sep == 0x20,
      digits(at: i + 4, limit: 3) == 2, at(i + 6) == sep, digits(at: i + 7, limit: 5) == 4
    else { return }
    let end = i + 11
    let after = at(end)
    if isAlnum(after) || ((after == 0x2D || after == 0x20) && isDigit(at(end + 1))) { return }
    let area = number(at: i, 3)
    guard area != 0, area != 666, area < 900, number(at: i + 4, 2) != 0, number(at: i + 7, 4) != 0
    else { return }
    found.append(PIISpan(start: i, end: end, kind: .nationalID))
  }

  /// A UK National Insurance number: a two-letter prefix HMRC allocates, six digits (unbroken
  /// or in spaced pairs) and a suffix A–D — `AB 12 34 56 C`, `AB123456C`.
  mutating func ukNINO(at i: Int) {
    let (first, second) = (b[i], at(i + 1))
    guard isUpper(second), !Self.ninoRefusedFirst.contains(first),
      !Self.ninoRefusedSecond.contains(second),
      !Self.ninoRefusedPrefixes.contains(UInt16(first) << 8 | UInt16(second))
    else { return }
    var j = i + 2
    if at(j) == 0x20 { j += 1 }
    if digits(at: j, limit: 7) == 6 {
      j += 6
    } else if digits(at: j, limit: 3) == 2, at(j + 2) == 0x20, digits(at: j + 3, limit: 3) == 2,
      at(j + 5) == 0x20, digits(at: j + 6, limit: 3) == 2
    {
      j += 8
    } else {
      return
    }
    if at(j) == 0x20 { j += 1 }
    guard at(j) &- 0x41 < 4, endsToken(j + 1) else { return }
    found.append(PIISpan(start: i, end: j + 1, kind: .nationalID))
  }

  static let ninoRefusedFirst: Set<UInt8> = Set("DFIQUV".utf8)
  static let ninoRefusedSecond: Set<UInt8> = Set("DFIOQUV".utf8)
  static let ninoRefusedPrefixes: Set<UInt16> = Set(
    ["BG", "GB", "KN", "NK", "NT", "TN", "ZZ"].map { s in
      let u = Array(s.utf8)
      return UInt16(u[0]) << 8 | UInt16(u[1])
    })

  /// The Spanish DNI's control letter: the number mod 23 indexes this table (Real Decreto
  /// 1553/2005).
  static let dniLetters = Array("TRWAGMYFPDXBNJZSQVHLCKE".utf8)

  /// A Spanish DNI, eight digits and the control letter (`12345678Z`, `12345678-Z`).
  mutating func spanishDNI(at i: Int) {
    guard digits(at: i, limit: 9) == 8 else { return }
    spanishControlLetter(start: i, digitsAt: i, count: 8, value: number(at: i, 8))
  }

  /// A Spanish NIE (foreigners' number): X, Y or Z (read as 0, 1, 2), seven digits and the
  /// DNI's control letter.
  mutating func spanishNIE(at i: Int) {
    let lead = b[i]
    guard lead &- 0x58 < 3, digits(at: i + 1, limit: 8) == 7 else { return }
    spanishControlLetter(
      start: i, digitsAt: i + 1, count: 7, value: Int(lead - 0x58) * 10_000_000 + number(at: i + 1, 7))
  }

  private mutating func spanishControlLetter(start: Int, digitsAt: Int, count: Int, value: Int) {
    var j = digitsAt + count
    if at(j) == 0x2D { j += 1 }
    guard at(j) == Self.dniLetters[value % 23], endsToken(j + 1) else { return }
    found.append(PIISpan(start: start, end: j + 1, kind: .nationalID))
  }

  /// A Dutch BSN: nine digits passing the 11-test (9·d1 + 8·d2 + … + 2·d8 − d9 ≡ 0 mod 11).
  /// One bare nine-digit number in eleven passes that test by chance, so a BSN is reported only
  /// when "BSN" or "burgerservicenummer" appears in the 40 bytes before it.
  mutating func dutchBSN(at i: Int) {
    guard digits(at: i, limit: 10) == 9, endsToken(i + 9), at(i - 1) != 0x2D, at(i - 1) != 0x2E
    else { return }
    var sum = 0
    for k in 0..<8 { sum += (9 - k) * Int(b[i + k] &- 0x30) }
    sum -= Int(b[i + 8] &- 0x30)
    guard sum % 11 == 0, sum != 0, mentions("bsn", before: i) || mentions("burgerservicenummer", before: i)
    else { return }
    found.append(PIISpan(start: i, end: i + 9, kind: .nationalID))
  }

  /// Whether lowercase ASCII `word` appears, in any case, in the 40 bytes before `i`.
  private func mentions(_ word: StaticString, before i: Int) -> Bool {
    let count = word.utf8CodeUnitCount
    return word.withUTF8Buffer { w in
      var s = max(0, i - 40)
      while s + count <= i {
        var k = 0
        while k < count, b[s + k] | 0x20 == w[k] { k += 1 }
        if k == count { return true }
        s += 1
      }
      return false
    }
  }
}
