import Foundation

/// A `tokenizer.json` normalizer (HF `tokenizers` `normalizers`): text → text, run on each piece
/// of input between added tokens, before the pre-tokenizer.
protocol TextNormalizer: Sendable {
  func normalize(_ text: String) -> String
}

/// Unicode normalization forms (UAX #15).
struct UnicodeNormalizer: TextNormalizer {
  enum Form: String {
    case nfc = "NFC"
    case nfd = "NFD"
    case nfkc = "NFKC"
    case nfkd = "NFKD"
  }
  let form: Form
  func normalize(_ text: String) -> String {
    switch form {
    case .nfc: text.precomposedStringWithCanonicalMapping
    case .nfd: text.decomposedStringWithCanonicalMapping
    case .nfkc: text.precomposedStringWithCompatibilityMapping
    case .nfkd: text.decomposedStringWithCompatibilityMapping
    }
  }
}

struct LowercaseNormalizer: TextNormalizer {
  func normalize(_ text: String) -> String {
    var out = String.UnicodeScalarView()
    for s in text.unicodeScalars { out.append(contentsOf: s.properties.lowercaseMapping.unicodeScalars) }
    return String(out)
  }
}

/// Drops combining marks (Mn); HF pairs it with NFD so accents are separate marks first.
struct StripAccentsNormalizer: TextNormalizer {
  func normalize(_ text: String) -> String {
    String(
      String.UnicodeScalarView(
        text.unicodeScalars.filter { $0.properties.generalCategory != .nonspacingMark }))
  }
}

/// `Replace`: every match of a literal string or a regex becomes `content`.
struct ReplaceNormalizer: TextNormalizer, @unchecked Sendable {
  let pattern: TextPattern
  let content: String
  func normalize(_ text: String) -> String { pattern.replacingMatches(in: text, with: content) }
}

/// `Prepend`: `prepend` in front of any non-empty piece (Llama 2's "▁").
struct PrependNormalizer: TextNormalizer {
  let prepend: String
  func normalize(_ text: String) -> String { text.isEmpty ? text : prepend + text }
}

/// `Strip`: whitespace removed from the left and/or right end.
struct StripNormalizer: TextNormalizer {
  let left: Bool
  let right: Bool
  func normalize(_ text: String) -> String {
    var scalars = Substring(text).unicodeScalars[...]
    if left { while let f = scalars.first, f.properties.isWhitespace { scalars.removeFirst() } }
    if right { while let l = scalars.last, l.properties.isWhitespace { scalars.removeLast() } }
    return String(String.UnicodeScalarView(scalars))
  }
}

/// `BertNormalizer`: control characters dropped, whitespace as spaces, CJK ideographs padded
/// with spaces, optional accent stripping and lower-casing. With both (the usual uncased BERT)
/// it is Muse's `BertNormalizer`.
struct HFBertNormalizer: TextNormalizer {
  let lowercase: Bool
  let stripAccents: Bool
  func normalize(_ text: String) -> String {
    if lowercase && stripAccents { return BertNormalizer().normalize(text) }
    var out = String.UnicodeScalarView()
    let source = stripAccents ? text.decomposedStringWithCanonicalMapping : text
    for s in source.unicodeScalars {
      let category = s.properties.generalCategory
      if s.value == 0 || s.value == 0xFFFD { continue }
      if category == .control && !s.properties.isWhitespace { continue }
      if stripAccents && category == .nonspacingMark { continue }
      if lowercase {
        out.append(contentsOf: s.properties.lowercaseMapping.unicodeScalars)
      } else {
        out.append(s)
      }
    }
    return String(out)
  }
}

struct NormalizerSequence: TextNormalizer {
  let steps: [any TextNormalizer]
  func normalize(_ text: String) -> String { steps.reduce(text) { $1.normalize($0) } }
}

/// A `{"String": …}` or `{"Regex": …}` pattern of `Replace` and `Split`.
struct TextPattern: @unchecked Sendable {
  // NSRegularExpression is immutable and safe to share between threads.
  let regex: NSRegularExpression

  init(json: Any?, file: String, what: String) throws {
    if let p = json as? [String: Any], let s = p["String"] as? String {
      regex = try NSRegularExpression(pattern: NSRegularExpression.escapedPattern(for: s))
    } else if let p = json as? [String: Any], let r = p["Regex"] as? String {
      do {
        regex = try NSRegularExpression(pattern: r)
      } catch {
        throw TokenizerError.unsupportedComponent(
          file: file, component: what, reason: "regex \(r) does not compile")
      }
    } else if let s = json as? String {
      regex = try NSRegularExpression(pattern: NSRegularExpression.escapedPattern(for: s))
    } else {
      throw TokenizerError.unsupportedComponent(
        file: file, component: what, reason: "pattern is not String or Regex")
    }
  }

  func replacingMatches(in text: String, with content: String) -> String {
    let ns = NSString(string: text)
    return regex.stringByReplacingMatches(
      in: text, range: NSRange(location: 0, length: ns.length),
      withTemplate: NSRegularExpression.escapedTemplate(for: content))
  }

  /// The text cut into alternating unmatched and matched pieces (empty pieces left out).
  func segments(_ text: String) -> [(text: String, isMatch: Bool)] {
    let ns = NSString(string: text)
    var out: [(String, Bool)] = []
    var cursor = 0
    for m in regex.matches(in: text, range: NSRange(location: 0, length: ns.length)) where m.range.length > 0
    {
      if m.range.location > cursor {
        out.append((ns.substring(with: NSRange(location: cursor, length: m.range.location - cursor)), false))
      }
      out.append((ns.substring(with: m.range), true))
      cursor = m.range.location + m.range.length
    }
    if cursor < ns.length { out.append((ns.substring(from: cursor), false)) }
    return out
  }
}
