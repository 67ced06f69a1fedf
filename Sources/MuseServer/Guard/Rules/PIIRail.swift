import Foundation

/// Finds personal data and secrets in a text with hand-written scanners over its UTF-8 bytes
/// (no regular expressions: a 2,000-character prompt takes a few microseconds), each match
/// checked the way its issuer checks it (Luhn for cards, mod-97 for IBANs, the SSA's refused
/// areas, the Spanish DNI letter, the Dutch 11-test), so a number that merely looks like one is
/// left alone. Every finding has score 1, its span and a replacement such as `[EMAIL]`.
///
/// Where matches overlap the longest wins, then the most specific (a private key over the API
/// keys inside it, a card over the phone number its digits could spell); no two findings
/// overlap. Every scanner runs even when its category is not asked for, so a card number still
/// keeps the phone scanner off its digits when only `phone` is enabled.
public struct PIIRail: GuardRail {
  public let name = "pii"
  public var canRedact: Bool { true }
  /// The categories reported; nil reports them all.
  public let categories: Set<String>?

  /// Every category the rail knows, most specific first.
  public static let allCategories: [String] = PIIKind.allCases.map(\.category)

  /// - Parameter categories: the categories to report (`email`, `phone`, `payment_card`,
  ///   `iban`, `national_id`, `ip_address`, `api_key`, `private_key`); nil for all.
  public init(categories: Set<String>? = nil) {
    self.categories = categories
  }

  public func inspect(_ text: String) async throws -> [GuardFinding] {
    findings(in: text)
  }

  /// The findings in `text`, in text order; the synchronous body of `inspect`.
  public func findings(in text: String) -> [GuardFinding] {
    let bytes = Array(text.utf8)
    var scanner = PIIScanner(bytes)
    scanner.scan()
    let spans = PIISpan.resolve(scanner.found).filter { categories?.contains($0.kind.category) ?? true }
    var findings: [GuardFinding] = []
    findings.reserveCapacity(spans.count)
    let utf8 = text.utf8
    var index = utf8.startIndex
    var offset = 0
    for span in spans {
      let lower = utf8.index(index, offsetBy: span.start - offset)
      let upper = utf8.index(lower, offsetBy: span.end - span.start)
      index = upper
      offset = span.end
      findings.append(
        GuardFinding(
          category: span.kind.category, score: 1, range: lower..<upper, replacement: span.kind.replacement))
    }
    return findings
  }
}

/// What a PII span is; the order of the cases is the order of specificity used to break a tie
/// between two overlapping spans of the same length.
enum PIIKind: Int, CaseIterable, Comparable {
  case privateKey, apiKey, paymentCard, iban, nationalID, email, ipAddress, phone

  var category: String {
    switch self {
    case .privateKey: "private_key"
    case .apiKey: "api_key"
    case .paymentCard: "payment_card"
    case .iban: "iban"
    case .nationalID: "national_id"
    case .email: "email"
    case .ipAddress: "ip_address"
    case .phone: "phone"
    }
  }

  var replacement: String { "[\(category.uppercased())]" }

  static func < (a: PIIKind, b: PIIKind) -> Bool { a.rawValue < b.rawValue }
}

/// A match in UTF-8 byte offsets, `start..<end`.
struct PIISpan: Equatable {
  var start: Int
  var end: Int
  var kind: PIIKind

  /// The spans that survive overlap resolution, in text order: longest first, then the most
  /// specific kind, then the earliest; a span overlapping one already kept is dropped.
  static func resolve(_ spans: [PIISpan]) -> [PIISpan] {
    if spans.count < 2 { return spans }
    let ranked = spans.sorted {
      let (la, lb) = ($0.end - $0.start, $1.end - $1.start)
      if la != lb { return la > lb }
      if $0.kind != $1.kind { return $0.kind < $1.kind }
      return $0.start < $1.start
    }
    var kept: [PIISpan] = []
    for span in ranked where !kept.contains(where: { $0.start < span.end && span.start < $0.end }) {
      kept.append(span)
    }
    return kept.sorted { $0.start < $1.start }
  }
}

/// The scanners' shared state: the text's bytes and the spans found so far. Each scanner is
/// tried only at the bytes that can start its kind, and only where the byte before is a
/// boundary, so the whole pass stays linear in practice.
struct PIIScanner {
  let b: [UInt8]
  var found: [PIISpan] = []

  init(_ bytes: [UInt8]) { b = bytes }

  mutating func scan() {
    var i = 0
    let n = b.count
    while i < n {
      let c = b[i]
      let boundary = i == 0 || !isAlnum(b[i - 1])
      if c == 0x2D, let end = privateKeyPEM(at: i) {  // "-----BEGIN … PRIVATE KEY-----"
        found.append(PIISpan(start: i, end: end, kind: .privateKey))
        i = end
        continue
      }
      if c == 0x50, let end = privateKeyPuTTY(at: i) {  // "PuTTY-User-Key-File-"
        found.append(PIISpan(start: i, end: end, kind: .privateKey))
        i = end
        continue
      }
      if c == 0x40 { email(at: i) }
      if c == 0x2B, boundary { internationalPhone(at: i) }
      if boundary {
        if isDigit(c) {
          if startsDigitRun(i) { paymentCards(at: i) }
          northAmericanPhone(at: i)
          ssn(at: i)
          spanishDNI(at: i)
          dutchBSN(at: i)
          ipv4(at: i)
        } else if c == 0x28 {
          northAmericanPhone(at: i)
        }
        if isUpper(c) {
          iban(at: i)
          ukNINO(at: i)
          spanishNIE(at: i)
        }
        if Self.tokenStarts[Int(c)] { apiKey(at: i) }
        if isHex(c) || c == 0x3A { ipv6(at: i) }
      }
      i += 1
    }
  }

  /// The bytes an API key or token can start with (`sk-`, `AKIA`, `ghp_`, `eyJ`, `muse-`, …).
  static let tokenStarts: [Bool] = (0..<256).map { "sraAgxem".utf8.contains(UInt8($0)) }

  /// Whether a digit at `i` starts a run of digit groups: not preceded by a digit and a
  /// single separator (the run's start is tried; its later groups are tried from there).
  func startsDigitRun(_ i: Int) -> Bool {
    !(i >= 2 && (b[i - 1] == 0x20 || b[i - 1] == 0x2D) && isDigit(b[i - 2]))
  }

  /// The byte at `i`, or 0 past either end: lets scanners look around without bounds checks.
  @inline(__always) func at(_ i: Int) -> UInt8 { i >= 0 && i < b.count ? b[i] : 0 }

  /// Whether `literal` (ASCII) appears at `i`.
  func has(_ literal: StaticString, at i: Int) -> Bool {
    let count = literal.utf8CodeUnitCount
    guard i >= 0, i + count <= b.count else { return false }
    return literal.withUTF8Buffer { lit in
      for k in 0..<count where b[i + k] != lit[k] { return false }
      return true
    }
  }

  /// How many digits start at `i` (at most `limit`).
  func digits(at i: Int, limit: Int = 64) -> Int {
    var k = 0
    while k < limit, isDigit(at(i + k)) { k += 1 }
    return k
  }

  /// The decimal value of `count` digits at `i`.
  func number(at i: Int, _ count: Int) -> Int {
    var v = 0
    for k in 0..<count { v = v * 10 + Int(b[i + k] &- 0x30) }
    return v
  }

  /// Whether the byte at `i` ends a token: not a letter, digit or underscore.
  func endsToken(_ i: Int) -> Bool { !isAlnum(at(i)) && at(i) != 0x5F }
}

/// ASCII byte classes, as instance methods so the scanners call them unqualified.
extension PIIScanner {
  @inline(__always) func isDigit(_ c: UInt8) -> Bool { c &- 0x30 < 10 }
  @inline(__always) func isUpper(_ c: UInt8) -> Bool { c &- 0x41 < 26 }
  @inline(__always) func isLower(_ c: UInt8) -> Bool { c &- 0x61 < 26 }
  @inline(__always) func isAlpha(_ c: UInt8) -> Bool { isUpper(c) || isLower(c) }
  @inline(__always) func isAlnum(_ c: UInt8) -> Bool { isDigit(c) || isAlpha(c) }
  @inline(__always) func isHex(_ c: UInt8) -> Bool { isDigit(c) || (c | 0x20) &- 0x61 < 6 }
}
