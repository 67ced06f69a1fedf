import Foundation
import MuseStore
import Testing

@testable import MuseServer

/// The rule-based rails against published test numbers (card networks' test cards, the IBAN
/// registry's examples, the SSA's and HMRC's rules) and near misses that must stay untouched.
@Suite struct RuleRailTests {
  let pii = PIIRail()

  /// `text` redacted by the PII rail.
  func redacted(_ text: String, _ rail: PIIRail = PIIRail()) async throws -> String {
    redacting(text, try await rail.inspect(text))
  }

  /// The categories the PII rail finds in `text`, in order.
  func categories(_ text: String) -> [String] { pii.findings(in: text).map(\.category) }

  func expectWhole(_ text: String, _ category: String, sourceLocation: SourceLocation = #_sourceLocation) {
    let findings = pii.findings(in: "x \(text) y")
    #expect(findings.map(\.category) == [category], "\(text)", sourceLocation: sourceLocation)
    #expect(
      redacting("x \(text) y", findings) == "x [\(category.uppercased())] y", "\(text)",
      sourceLocation: sourceLocation)
  }

  func expectNone(_ text: String, _ category: String, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(!categories(text).contains(category), "\(text)", sourceLocation: sourceLocation)
  }

  @Test func emails() {
    for text in ["john.doe@example.com", "first+tag@mail.example.co.uk", "a_b-c%d@sub-domain.example.org"] {
      expectWhole(text, "email")
    }
    for text in ["user@localhost", "@handle", "name@", "a@b.c", "john@-example.com"] {
      expectNone(text, "email")
    }
  }

  @Test func phones() {
    for text in [
      "+44 20 7946 0958", "+1 (415) 555-2671", "(415) 555-2671", "415-555-2671", "415.555.2671",
      "1-800-555-1234", "+33 1 23 45 67 89", "+4915112345678",
    ] {
      expectWhole(text, "phone")
    }
    for text in [
      "order 4155552671", "on 2024-01-15", "version 1.2.3", "v10.2.3.4", "abc4155552671",
      "call 555-1234", "123-456-7890-12", "+12345", "ref 115-555-2671",
    ] {
      #expect(categories(text).isEmpty, "\(text)")
    }
    // A card's digits are never read as a phone number.
    #expect(categories("+1 4111 1111 1111 1111") != ["phone"])
    #expect(categories("4111-1111-1111-1111") == ["payment_card"])
  }

  @Test func paymentCards() {
    for text in [
      "4111 1111 1111 1111", "4111-1111-1111-1111", "4111111111111111", "5555 5555 5555 4444",
      "2223003122003222", "3782 822463 10005", "6011 1111 1111 1117", "3530 1113 3330 0000",
      "3056 9309 0259 04", "6200000000000005", "4222222222222",
    ] {
      expectWhole(text, "payment_card")
    }
    for text in [
      "4111 1111 1111 1112", "1234 5678 9012 3456", "0000 0000 0000 0000", "41111111111111110000",
      "id4111111111111111", "9111 1111 1111 1111",
    ] {
      expectNone(text, "payment_card")
    }
  }

  @Test func ibans() {
    for text in [
      "GB82 WEST 1234 5698 7654 32", "GB82WEST12345698765432", "DE89 3704 0044 0532 0130 00",
      "FR14 2004 1010 0505 0001 3M02 606", "NL91ABNA0417164300", "CH93 0076 2011 6238 5295 7",
      "NO93 8601 1117 947",
    ] {
      expectWhole(text, "iban")
    }
    for text in [
      "GB82 WEST 1234 5698 7654 33", "GB83 WEST 1234 5698 7654 32", "DE89 3704 0044 0532 0130 0",
      "GB82 WEST12 3456 9876 5432", "XX82WEST12345698765432", "GB82WEST12345698765432X",
    ] {
      expectNone(text, "iban")
    }
  }

  @Test func nationalIDs() {
    for text in [
      "078-05-1120", "219 09 9999", "AB 12 34 56 C", "AB123456C", "12345678Z", "12345678-Z", "X1234567L",
    ] {
      expectWhole(text, "national_id")
    }
    #expect(categories("BSN: 111222333") == ["national_id"])
    #expect(categories("burgerservicenummer 123456782") == ["national_id"])
    for text in [
      "000-12-3456", "666-12-3456", "900-12-3456", "123-00-4567", "123-45-0000", "078051120",
      "QQ123456C", "GB123456A", "AB123456E", "12345678A", "X1234567A", "BSN: 111222334", "111222333",
    ] {
      expectNone(text, "national_id")
    }
  }

  @Test func ipAddresses() {
    for text in [
      "192.168.1.1", "8.8.8.8", "255.255.255.255", "0.0.0.0", "2001:db8:85a3::8a2e:370:7334",
      "2001:0db8:85a3:0000:0000:8a2e:0370:7334", "fe80::1", "::ffff:192.0.2.1", "2001:db8::",
    ] {
      expectWhole(text, "ip_address")
    }
    for text in [
      "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3", "at 12:30:45", "std::vector", "a::b",
      "00:1a:2b:3c:4d:5e", "1:2:3:4:5:6:7", "v1.2.3.4",
    ] {
      expectNone(text, "ip_address")
    }
  }

  @Test func apiKeys() {
    let body36 = "abcdefghijklmnopqrstuvwxyz0123456789"
    for text in [
      "sk-proj-" + body36, "sk-ant-api03-" + body36, "sk-" + body36 + "ABCDEFGHIJKL", "AKIAIOSFODNN7EXAMPLE",
      "ASIAIOSFODNN7EXAMPLE", "ghp_" + body36, "gho_" + body36, "github_pat_11ABCDEFG0123456789_abcdefghij",
      "xoxb-1234567890-abcdefghij", "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc",
      "rk_live_" + "4eC39HqLyjWDarjtT1zdp7dc",
      "AIzaSyA-abcdefghijklmnopqrstuvwxyz12345",
      "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
      "muse-0123456789ABCDEFGHIJabcdefghijkl",
    ] {
      expectWhole(text, "api_key")
    }
    for text in [
      "sk-learn", "task-" + body36, "AKIAIOSFODNN7EXAMPL", "AKIAIOSFODNN7EXAMPLEX", "ghp_short",
      "muse-0123456789ABCDEFGHIJabcdefghijk", "muse-server", "eyJhbGciOi.short",
    ] {
      expectNone(text, "api_key")
    }
    // A key Muse itself generates.
    let (secret, _) = APIKey.generate(name: "t", scopes: [.inference])
    expectWhole(secret, "api_key")
  }

  @Test func privateKeys() async throws {
    let key = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7V\nq3Zx\n-----END RSA PRIVATE KEY-----"
    #expect(try await redacted("key:\n\(key)\nthanks") == "key:\n[PRIVATE_KEY]\nthanks")
    let ssh =
      "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----"
    #expect(try await redacted("\(ssh) done") == "[PRIVATE_KEY] done")
    // Still streaming: no END line yet, so the key runs to the end of the text.
    let partial = "here it is -----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC"
    let findings = pii.findings(in: partial)
    #expect(findings.map(\.category) == ["private_key"])
    #expect(findings.first?.range?.upperBound == partial.endIndex)
    #expect(redacting(partial, findings) == "here it is [PRIVATE_KEY]")
    #expect(try await redacted("x -----BEGIN EC PRIVATE") == "x [PRIVATE_KEY]")
    // A certificate is public; the API-key-looking text inside a private key is the key's.
    #expect(categories("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----").isEmpty)
    #expect(
      categories("-----BEGIN PRIVATE KEY-----\nAKIAIOSFODNN7EXAMPLE\n-----END PRIVATE KEY-----") == [
        "private_key"
      ])
    #expect(
      try await redacted("PuTTY-User-Key-File-3: ssh-ed25519\nPrivate-MAC: ab12\nok") == "[PRIVATE_KEY]\nok")
  }

  @Test func redactionOfAMixedText() async throws {
    let text =
      "Hi, I'm Jane (jane.doe@example.com, +44 20 7946 0958). Card 4111 1111 1111 1111, "
      + "IBAN DE89 3704 0044 0532 0130 00, SSN 078-05-1120, from 10.0.0.12 with key AKIAIOSFODNN7EXAMPLE."
    #expect(
      try await redacted(text)
        == "Hi, I'm Jane ([EMAIL], [PHONE]). Card [PAYMENT_CARD], IBAN [IBAN], SSN [NATIONAL_ID], "
        + "from [IP_ADDRESS] with key [API_KEY].")
    let findings = pii.findings(in: text)
    #expect(findings.allSatisfy { $0.score == 1 })
    #expect(String(text[findings[0].range!]) == "jane.doe@example.com")
    // Only the categories asked for are reported.
    #expect(
      try await redacted(text, PIIRail(categories: ["email", "payment_card"]))
        == "Hi, I'm Jane ([EMAIL], +44 20 7946 0958). Card [PAYMENT_CARD], "
        + "IBAN DE89 3704 0044 0532 0130 00, SSN 078-05-1120, from 10.0.0.12 with key AKIAIOSFODNN7EXAMPLE.")
    // Non-ASCII text around a match keeps its spans right.
    #expect(try await redacted("Café ☕️ 电话：415-555-2671。") == "Café ☕️ 电话：[PHONE]。")
    #expect(pii.name == "pii" && pii.canRedact)
  }

  @Test func overlapsResolveToTheLongestThenMostSpecific() {
    let spans = [
      PIISpan(start: 0, end: 10, kind: .phone), PIISpan(start: 0, end: 19, kind: .paymentCard),
      PIISpan(start: 5, end: 12, kind: .email), PIISpan(start: 20, end: 30, kind: .phone),
      PIISpan(start: 20, end: 30, kind: .nationalID), PIISpan(start: 30, end: 31, kind: .email),
    ]
    #expect(
      PIISpan.resolve(spans) == [
        PIISpan(start: 0, end: 19, kind: .paymentCard), PIISpan(start: 20, end: 30, kind: .nationalID),
        PIISpan(start: 30, end: 31, kind: .email),
      ])
    // Findings never overlap, here a key inside an email-looking text and a card inside a phone.
    for text in [
      "mailto:AKIAIOSFODNN7EXAMPLE@example.com", "+1 4111 1111 1111 1111", "4111 1111 1111 1111 078-05-1120",
    ] {
      let ranges = pii.findings(in: text).compactMap(\.range)
      for (a, b) in zip(ranges, ranges.dropFirst()) { #expect(a.upperBound <= b.lowerBound, "\(text)") }
    }
  }

  @Test func redactingSkipsOverlapsAndFindingsWithoutSpans() {
    let text = "abcdefghij"
    let i = { (n: Int) in text.index(text.startIndex, offsetBy: n) }
    let findings = [
      GuardFinding(category: "b", score: 1, range: i(5)..<i(8), replacement: "[B]"),
      GuardFinding(category: "a", score: 1, range: i(1)..<i(3), replacement: "[A]"),
      GuardFinding(category: "overlap", score: 1, range: i(2)..<i(6), replacement: "[X]"),
      GuardFinding(category: "no-span", score: 0.9),
      GuardFinding(category: "no-replacement", score: 1, range: i(9)..<i(10)),
    ]
    #expect(redacting(text, findings) == "a[A]de[B]ij")
    #expect(redacting(text, []) == text)
  }
}
