import Foundation

/// Screens user input and tool results for prompt injection (overriding or extracting the
/// model's instructions, fake chat-template tokens) and jailbreaks (DAN-style personas,
/// "developer mode", "pretend you have no restrictions").
///
/// The text is normalised first — Unicode compatibility form (NFKC), lowercase, zero-width
/// characters dropped, Cyrillic look-alikes read as Latin, light leetspeak (`1gn0r3` → `ignore`)
/// — and matched against weighted signals (`InjectionSignal.all`). Each category's score is
/// 1 − Π(1 − wᵢ) over its matched signals (the strongest per group), so one strong phrase
/// scores ≥ 0.9 and weak ones (0.3–0.5) count only together. Base64 blobs are decoded and
/// screened too. A category is reported only when some signal matched; findings have no span.
public struct InjectionRail: GuardRail {
  public let name = "injection"

  public init() {}

  public func inspect(_ text: String) async throws -> [GuardFinding] {
    findings(in: text)
  }

  /// The findings in `text` (`prompt_injection`, then `jailbreak`); the body of `inspect`.
  public func findings(in text: String) -> [GuardFinding] {
    var best: [String: (InjectionSignal.Category, Double)] = [:]
    collect(text, factor: 1, into: &best, decodeDepth: 1)
    var findings: [GuardFinding] = []
    for (category, name) in [
      (InjectionSignal.Category.promptInjection, "prompt_injection"), (.jailbreak, "jailbreak"),
    ] {
      let weights = best.values.filter { $0.0 == category }.map(\.1)
      if weights.isEmpty { continue }
      let score = 1 - weights.reduce(1) { $0 * (1 - $1) }
      findings.append(GuardFinding(category: name, score: score))
    }
    return findings
  }

  /// Adds the strongest matched weight per signal group to `best`, scaled by `factor`; then
  /// screens what the text's base64 blobs decode to.
  private func collect(
    _ text: String, factor: Double, into best: inout [String: (InjectionSignal.Category, Double)],
    decodeDepth: Int
  ) {
    let normal = Self.normalise(text)
    let words = Self.words(normal)
    var positions: [String: [Int]] = [:]
    for (i, word) in words.enumerated() { positions[word, default: []].append(i) }
    let compact = normal.utf8.filter { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }
    for signal in InjectionSignal.all {
      let key = signal.key
      if let held = best[key], held.1 >= signal.weight * factor { continue }
      let matched: Bool
      switch signal.form {
      case .words(let pattern): matched = pattern.matches(words, positions: positions)
      case .marker(let marker): matched = Self.find(Array(marker.utf8), in: compact)
      }
      if matched { best[key] = (signal.category, signal.weight * factor) }
    }
    if decodeDepth > 0 {
      for decoded in Self.base64Texts(in: text) {
        collect(decoded, factor: 0.9, into: &best, decodeDepth: decodeDepth - 1)
      }
    }
  }

  /// Whether `needle` occurs in `haystack`.
  static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Bool {
    guard let first = needle.first, haystack.count >= needle.count else { return false }
    var i = 0
    while i + needle.count <= haystack.count {
      if haystack[i] == first && haystack[i..<(i + needle.count)].elementsEqual(needle) { return true }
      i += 1
    }
    return false
  }

  /// NFKC, lowercase, zero-width and soft-hyphen characters removed, Cyrillic and Greek
  /// look-alikes of Latin letters replaced.
  static func normalise(_ text: String) -> String {
    // ASCII text is its own NFKC form.
    let ascii = text.utf8.allSatisfy { $0 < 0x80 }
    let folded = (ascii ? text : text.precomposedStringWithCompatibilityMapping).lowercased()
    if ascii { return folded }
    var out = String.UnicodeScalarView()
    for scalar in folded.unicodeScalars {
      switch scalar.value {
      case 0x00AD, 0x180E, 0x200B...0x200F, 0x202A...0x202E, 0x2060...0x2064, 0xFEFF: continue
      default: out.append(homoglyphs[scalar.value].map { Unicode.Scalar($0) } ?? scalar)
      }
    }
    return String(out)
  }

  /// Cyrillic (а е о р с х у і ѕ ј) and Greek (ο α ε ι κ ν ρ τ υ χ) letters that look Latin.
  static let homoglyphs: [UInt32: UInt8] = [
    0x0430: 0x61, 0x0435: 0x65, 0x043E: 0x6F, 0x0440: 0x70, 0x0441: 0x63, 0x0445: 0x78,
    0x0443: 0x79, 0x0456: 0x69, 0x0455: 0x73, 0x0458: 0x6A, 0x03BF: 0x6F, 0x03B1: 0x61,
    0x03B5: 0x65, 0x03B9: 0x69, 0x03BA: 0x6B, 0x03BD: 0x76, 0x03C1: 0x70, 0x03C4: 0x74,
    0x03C5: 0x75, 0x03C7: 0x78,
  ]

  /// Leetspeak read as letters, inside words only.
  static let leet: [Unicode.Scalar: Character] = [
    "1": "i", "0": "o", "3": "e", "4": "a", "@": "a", "$": "s",
  ]

  /// The normalised text's words: letters and digits (leetspeak read as letters), apostrophes
  /// dropped (`you're` → `youre`), everything else a separator.
  static func words(_ normal: String) -> [String] {
    var words: [String] = []
    var word = ""
    for scalar in normal.unicodeScalars {
      if scalar.isASCII
        && (scalar.value &- 0x61 < 26 || scalar == "5" || scalar.value &- 0x36 < 4 || scalar == "2")
      {
        word.unicodeScalars.append(scalar)
      } else if let letter = leet[scalar] {
        word.append(letter)
      } else if scalar.isASCII && scalar.value &- 0x41 >= 26 && scalar.value &- 0x30 >= 10 && scalar != "'" {
        if !word.isEmpty {
          words.append(word)
          word = ""
        }
      } else if scalar.properties.isAlphabetic || scalar.properties.numericType != nil {
        word.unicodeScalars.append(scalar)
      } else if scalar == "'" || scalar == "\u{2019}" {
        continue
      } else if !word.isEmpty {
        words.append(word)
        word = ""
      }
    }
    if !word.isEmpty { words.append(word) }
    return words
  }

  /// The printable texts that base64 runs of at least 24 characters decode to (at most 8).
  static func base64Texts(in text: String) -> [String] {
    var texts: [String] = []
    var run: [UInt8] = []
    func flush() {
      defer { run.removeAll(keepingCapacity: true) }
      guard run.count >= 24, texts.count < 8 else { return }
      var padded = run
      while padded.count % 4 != 0 { padded.append(0x3D) }
      guard let data = Data(base64Encoded: Data(padded)),
        let decoded = String(data: data, encoding: .utf8),
        decoded.unicodeScalars.allSatisfy({
          $0.properties.isWhitespace || !$0.properties.generalCategory.isControl
        })
      else { return }
      texts.append(decoded)
    }
    for byte in text.utf8 {
      let isBase64 =
        (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39)
        || byte == 0x2B || byte == 0x2F || byte == 0x3D
      if isBase64 { run.append(byte) } else { flush() }
    }
    flush()
    return texts
  }
}

extension Unicode.GeneralCategory {
  fileprivate var isControl: Bool { self == .control || self == .format || self == .unassigned }
}
