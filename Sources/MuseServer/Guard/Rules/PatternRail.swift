import Foundation

/// An operator's own rules: a deny list of words and phrases, and named regular expressions.
/// Every match is a finding with score 1 and the replacement `[REDACTED]`; deny-list matches
/// have the category `deny_list`, a regex's matches its rule's name.
///
/// The patterns come from the operator's configuration, never from a request, so they are
/// trusted not to be malicious; the limits here only keep a careless one from costing much:
/// a pattern may be at most `maxPatternLength` characters, there are at most `maxRules`
/// rules, a pattern that matches the empty string is refused, and each rule reports at most
/// `maxMatchesPerRule` matches per text.
public struct PatternRail: GuardRail {
  public let name = "patterns"
  public var canRedact: Bool { true }

  public static let maxPatternLength = 1_000
  public static let maxRules = 256
  public static let maxMatchesPerRule = 1_000

  /// The deny list as one alternation (longest entries first), or nil when it is empty.
  let denyList: Regex?
  let rules: [(name: String, regex: Regex)]

  /// A compiled expression; NSRegularExpression is immutable once made and safe to share.
  struct Regex: @unchecked Sendable {
    let expression: NSRegularExpression
  }

  /// - Parameters:
  ///   - deny: words and phrases matched case-insensitively as whole words (a phrase's spaces
  ///     match any run of whitespace; punctuation in an entry is matched literally).
  ///   - regexes: named ICU regular expressions; the name becomes the findings' category.
  /// - Throws: `PatternRailError` naming the entry or rule and what is wrong with it.
  public init(deny: [String] = [], regexes: [(name: String, pattern: String)] = []) throws {
    guard deny.count <= Self.maxRules, regexes.count <= Self.maxRules else {
      throw PatternRailError.tooManyRules(count: max(deny.count, regexes.count), limit: Self.maxRules)
    }
    var alternatives: [String] = []
    for entry in deny {
      let phrase = entry.trimmingCharacters(in: .whitespacesAndNewlines)
      guard !phrase.isEmpty else { throw PatternRailError.emptyDenyEntry }
      guard phrase.count <= Self.maxPatternLength else {
        throw PatternRailError.patternTooLong(
          rule: "deny_list entry \"\(phrase.prefix(40))…\"", length: phrase.count)
      }
      alternatives.append(Self.denyPattern(phrase))
    }
    if alternatives.isEmpty {
      denyList = nil
    } else {
      alternatives.sort { $0.count > $1.count }
      let pattern = alternatives.joined(separator: "|")
      denyList = Regex(
        expression: try NSRegularExpression(pattern: pattern, options: [.caseInsensitive]))
    }
    var rules: [(name: String, regex: Regex)] = []
    for (name, pattern) in regexes {
      guard !name.isEmpty, !name.contains(where: \.isWhitespace) else {
        throw PatternRailError.badRuleName(name)
      }
      guard !rules.contains(where: { $0.name == name }), name != "deny_list" else {
        throw PatternRailError.duplicateRule(name)
      }
      guard !pattern.isEmpty else {
        throw PatternRailError.invalidPattern(rule: name, reason: "the pattern is empty")
      }
      guard pattern.count <= Self.maxPatternLength else {
        throw PatternRailError.patternTooLong(rule: name, length: pattern.count)
      }
      let expression: NSRegularExpression
      do {
        expression = try NSRegularExpression(pattern: pattern)
      } catch {
        throw PatternRailError.invalidPattern(rule: name, reason: "it is not a valid regular expression")
      }
      if expression.firstMatch(in: "", range: NSRange(location: 0, length: 0)) != nil {
        throw PatternRailError.invalidPattern(rule: name, reason: "it matches the empty string")
      }
      rules.append((name, Regex(expression: expression)))
    }
    self.rules = rules
  }

  /// A deny entry as a regular expression: literal text, whitespace runs as `\s+`, and a
  /// word boundary on each side that starts or ends with a letter or digit.
  static func denyPattern(_ phrase: String) -> String {
    let words = phrase.split(whereSeparator: \.isWhitespace).map {
      NSRegularExpression.escapedPattern(for: String($0))
    }
    var pattern = words.joined(separator: "\\s+")
    let isWordChar = { (c: Character?) in c.map { $0.isLetter || $0.isNumber || $0 == "_" } ?? false }
    if isWordChar(phrase.first) { pattern = "(?<![\\p{L}\\p{N}_])" + pattern }
    if isWordChar(phrase.last) { pattern += "(?![\\p{L}\\p{N}_])" }
    return "(?:\(pattern))"
  }

  public func inspect(_ text: String) async throws -> [GuardFinding] {
    findings(in: text)
  }

  /// The findings in `text`, in text order; the body of `inspect`.
  public func findings(in text: String) -> [GuardFinding] {
    var findings: [GuardFinding] = []
    let whole = NSRange(text.startIndex..<text.endIndex, in: text)
    let named = (denyList.map { [("deny_list", $0)] } ?? []) + rules.map { ($0.name, $0.regex) }
    for (category, regex) in named {
      var count = 0
      regex.expression.enumerateMatches(in: text, range: whole) { match, _, stop in
        guard let match, match.range.length > 0, let range = Range(match.range, in: text) else { return }
        findings.append(GuardFinding(category: category, score: 1, range: range, replacement: "[REDACTED]"))
        count += 1
        if count >= Self.maxMatchesPerRule { stop.pointee = true }
      }
    }
    return findings.sorted { $0.range!.lowerBound < $1.range!.lowerBound }
  }
}

/// Why an operator's pattern configuration was refused, naming the rule.
public enum PatternRailError: Error, CustomStringConvertible, Equatable {
  case emptyDenyEntry
  case badRuleName(String)
  case duplicateRule(String)
  case patternTooLong(rule: String, length: Int)
  case invalidPattern(rule: String, reason: String)
  case tooManyRules(count: Int, limit: Int)

  public var description: String {
    switch self {
    case .emptyDenyEntry:
      "patterns guardrail: a deny_list entry is empty"
    case .badRuleName(let name):
      "patterns guardrail: rule name \"\(name)\" must be non-empty and without spaces"
    case .duplicateRule(let name):
      "patterns guardrail: rule \"\(name)\" is defined twice (or uses the reserved name deny_list)"
    case .patternTooLong(let rule, let length):
      "patterns guardrail: rule \"\(rule)\" is \(length) characters long; the limit is \(PatternRail.maxPatternLength)"
    case .invalidPattern(let rule, let reason):
      "patterns guardrail: rule \"\(rule)\" is refused: \(reason)"
    case .tooManyRules(let count, let limit):
      "patterns guardrail: \(count) rules given; the limit is \(limit)"
    }
  }
}
