import Foundation

// Secrets: API keys and tokens in their issuers' published shapes, and private keys.

/// One well-known token shape: a literal prefix and a body of `alphabet` characters whose
/// length lies in `length`.
struct TokenShape {
  enum Alphabet { case alnum, upperDigits, base62Dash, wordChars, slack }
  var prefix: StaticString
  var alphabet: Alphabet
  var length: ClosedRange<Int>
}

extension PIIScanner {
  /// The shapes, most specific prefix first (the first that matches at a position wins).
  static let tokenShapes: [TokenShape] = [
    TokenShape(prefix: "sk-ant-", alphabet: .base62Dash, length: 20...400),  // Anthropic
    TokenShape(prefix: "sk-proj-", alphabet: .base62Dash, length: 20...400),  // OpenAI project
    TokenShape(prefix: "sk-", alphabet: .base62Dash, length: 20...400),  // OpenAI
    TokenShape(prefix: "sk_live_", alphabet: .alnum, length: 16...255),  // Stripe secret
    TokenShape(prefix: "rk_live_", alphabet: .alnum, length: 16...255),  // Stripe restricted
    TokenShape(prefix: "sk_test_", alphabet: .alnum, length: 16...255),
    TokenShape(prefix: "rk_test_", alphabet: .alnum, length: 16...255),
    TokenShape(prefix: "AKIA", alphabet: .upperDigits, length: 16...16),  // AWS access key id
    TokenShape(prefix: "ASIA", alphabet: .upperDigits, length: 16...16),  // AWS temporary
    TokenShape(prefix: "AIza", alphabet: .base62Dash, length: 35...35),  // Google API key
    TokenShape(prefix: "ghp_", alphabet: .alnum, length: 36...255),  // GitHub tokens
    TokenShape(prefix: "gho_", alphabet: .alnum, length: 36...255),
    TokenShape(prefix: "ghu_", alphabet: .alnum, length: 36...255),
    TokenShape(prefix: "ghs_", alphabet: .alnum, length: 36...255),
    TokenShape(prefix: "ghr_", alphabet: .alnum, length: 36...255),
    TokenShape(prefix: "github_pat_", alphabet: .wordChars, length: 22...255),
    TokenShape(prefix: "xoxa-", alphabet: .slack, length: 10...255),  // Slack
    TokenShape(prefix: "xoxb-", alphabet: .slack, length: 10...255),
    TokenShape(prefix: "xoxp-", alphabet: .slack, length: 10...255),
    TokenShape(prefix: "xoxr-", alphabet: .slack, length: 10...255),
    TokenShape(prefix: "xoxs-", alphabet: .slack, length: 10...255),
    // Muse's own keys: "muse-" and 32 base62 characters (MuseStore's APIKey.generate).
    TokenShape(prefix: "muse-", alphabet: .alnum, length: 32...32),
  ]

  /// An API key or token starting at `i`: one of `tokenShapes`, or a JWT.
  mutating func apiKey(at i: Int) {
    let before = at(i - 1)
    if before == 0x5F || before == 0x2D { return }
    if b[i] == 0x65, has("eyJ", at: i) {
      jwt(at: i)
      return
    }
    for shape in Self.tokenShapes where has(shape.prefix, at: i) {
      let bodyStart = i + shape.prefix.utf8CodeUnitCount
      var end = bodyStart
      while end < b.count, end - bodyStart <= shape.length.upperBound, fits(b[end], shape.alphabet) {
        end += 1
      }
      guard shape.length.contains(end - bodyStart), endsToken(end) else { continue }
      found.append(PIISpan(start: i, end: end, kind: .apiKey))
      return
    }
  }

  private func fits(_ c: UInt8, _ alphabet: TokenShape.Alphabet) -> Bool {
    switch alphabet {
    case .alnum: isAlnum(c)
    case .upperDigits: isUpper(c) || isDigit(c)
    case .base62Dash: isAlnum(c) || c == 0x2D || c == 0x5F
    case .wordChars: isAlnum(c) || c == 0x5F
    case .slack: isAlnum(c) || c == 0x2D
    }
  }

  /// A JSON Web Token (RFC 7519): three base64url parts joined by dots, the header a JSON
  /// object (so `eyJ`). The signature may be empty only for an unsecured token whose payload
  /// is visibly JSON too.
  private mutating func jwt(at i: Int) {
    func part(_ from: Int) -> Int {
      var k = from
      while k < b.count, fits(b[k], .base62Dash) { k += 1 }
      return k - from
    }
    let header = part(i)
    guard header >= 10, at(i + header) == 0x2E else { return }
    let payloadStart = i + header + 1
    let payload = part(payloadStart)
    guard payload >= 10, at(payloadStart + payload) == 0x2E else { return }
    let signatureStart = payloadStart + payload + 1
    let signature = part(signatureStart)
    guard signature >= 8 || (signature == 0 && has("eyJ", at: payloadStart)) else { return }
    let end = signature == 0 ? signatureStart - 1 : signatureStart + signature
    found.append(PIISpan(start: i, end: end, kind: .apiKey))
  }

  /// A PEM private key (RFC 7468): `-----BEGIN <label>-----` with a label that ends in PRIVATE
  /// KEY (PKCS #8, RSA, EC, DSA, OpenSSH, encrypted) through `-----END <label>-----`. Without
  /// the END line — a reply still streaming — the key runs to the end of the text, as it does
  /// when the text stops inside the BEGIN line after PRIVATE.
  func privateKeyPEM(at i: Int) -> Int? {
    guard has("-----BEGIN ", at: i) else { return nil }
    let labelStart = i + 11
    var k = labelStart
    while k < b.count, k - labelStart < 64, isUpper(b[k]) || isDigit(b[k]) || b[k] == 0x20 { k += 1 }
    let label = b[labelStart..<k]
    if k == b.count { return label.contains(0x50) && contains("PRIVATE", label) ? b.count : nil }
    guard has("-----", at: k), contains("PRIVATE KEY", label) else { return nil }
    var j = k + 5
    while j < b.count {
      if b[j] == 0x2D, has("-----END ", at: j), b[(j + 9)...].starts(with: label),
        has("-----", at: j + 9 + label.count)
      {
        return j + 9 + label.count + 5
      }
      j += 1
    }
    return b.count
  }

  /// A PuTTY private key file (`PuTTY-User-Key-File-2:` / `-3:`) through its `Private-MAC:`
  /// line, or to the end of the text when that line has not come yet.
  func privateKeyPuTTY(at i: Int) -> Int? {
    guard has("PuTTY-User-Key-File-", at: i) else { return nil }
    var j = i + 20
    while j < b.count {
      if b[j] == 0x50, has("Private-MAC:", at: j) {
        while j < b.count, b[j] != 0x0A, b[j] != 0x0D { j += 1 }
        return j
      }
      j += 1
    }
    return b.count
  }

  private func contains(_ word: StaticString, _ bytes: ArraySlice<UInt8>) -> Bool {
    word.withUTF8Buffer { w in
      guard bytes.count >= w.count else { return false }
      var s = bytes.startIndex
      while s + w.count <= bytes.endIndex {
        if bytes[s..<(s + w.count)].elementsEqual(w) { return true }
        s += 1
      }
      return false
    }
  }
}
