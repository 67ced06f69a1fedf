/// JSON Schema `pattern` (ECMA-262 / Python `re` syntax, the common subset) → GBNF over the
/// characters of a JSON string's text: a literal `"` in the pattern is written `\"`, a
/// backslash `\\`, a newline `\n`. Supported: literals and escapes, classes `[…]` / `[^…]`,
/// `\d \w \s` and their negations, `.`, groups (capturing, `(?:…)`, named), `|`, `* + ? {m}
/// {m,} {m,n}` (lazy forms too: same language). A pattern matches anywhere in the string
/// (JSON Schema searches), so a side without its `^` / `$` anchor is padded with any characters.
/// Lookarounds, backreferences, word boundaries, inline flags and anchors inside the pattern are
/// refused. `\d` is ASCII digits (Python's is any Unicode digit).
struct RegexGrammar {
  struct Unsupported: Error {
    let reason: String
  }

  private let text: [Unicode.Scalar]
  private var pos = 0
  private var depth = 0
  private static let maxDepth = 100

  /// `char` is the rule of one JSON string character, for the unanchored sides.
  static func gbnf(_ pattern: String, char: String) throws -> String {
    var scalars = Array(pattern.unicodeScalars)
    let anchoredStart = scalars.first == "^"
    if anchoredStart { scalars.removeFirst() }
    // A final "$" that is not escaped.
    var backslashes = 0
    if scalars.last == "$" {
      var i = scalars.count - 2
      while i >= 0 && scalars[i] == "\\" {
        backslashes += 1
        i -= 1
      }
    }
    let anchoredEnd = scalars.last == "$" && backslashes % 2 == 0
    if anchoredEnd { scalars.removeLast() }
    var parser = RegexGrammar(text: scalars)
    let (body, branches) = try parser.parseAlternation()
    guard parser.pos == scalars.count else { throw Unsupported(reason: "unbalanced ')'") }
    if branches > 1 && (anchoredStart || anchoredEnd) {
      throw Unsupported(reason: "anchors around a top-level '|'; group it as ^(…)$")
    }
    let open = anchoredStart ? "" : "\(char)* "
    let close = anchoredEnd ? "" : " \(char)*"
    return open + "( " + body + " )" + close
  }

  private init(text: [Unicode.Scalar]) { self.text = text }

  private var current: Unicode.Scalar? { pos < text.count ? text[pos] : nil }

  private mutating func parseAlternation() throws -> (String, Int) {
    var branches = [try parseConcatenation()]
    while current == "|" {
      pos += 1
      branches.append(try parseConcatenation())
    }
    return (branches.map { $0.isEmpty ? "\"\"" : $0 }.joined(separator: " | "), branches.count)
  }

  private mutating func parseConcatenation() throws -> String {
    var items: [String] = []
    while let c = current, c != "|", c != ")" {
      var atom = try parseAtom()
      if let quantifier = try parseQuantifier() { atom = "( \(atom) )" + quantifier }
      items.append(atom)
    }
    return items.joined(separator: " ")
  }

  private mutating func parseAtom() throws -> String {
    let c = current!
    pos += 1
    switch c {
    case "(":
      depth += 1
      defer { depth -= 1 }
      guard depth <= Self.maxDepth else {
        throw Unsupported(reason: "groups nest deeper than \(Self.maxDepth)")
      }
      if current == "?" {
        pos += 1
        switch current {
        case ":": pos += 1
        case "P" where pos + 1 < text.count && text[pos + 1] == "<", "<":
          if current == "P" { pos += 1 }
          pos += 1
          if current == "=" || current == "!" { throw Unsupported(reason: "lookbehind") }
          while let d = current, d != ">" { pos += 1 }
          guard current == ">" else { throw Unsupported(reason: "unterminated group name") }
          pos += 1
        case "=", "!": throw Unsupported(reason: "lookahead")
        case "P": throw Unsupported(reason: "backreference")
        default: throw Unsupported(reason: "inline flags or other (?…) groups")
        }
      }
      let (body, _) = try parseAlternation()
      guard current == ")" else { throw Unsupported(reason: "missing ')'") }
      pos += 1
      return "( \(body.isEmpty ? "\"\"" : body) )"
    case "[": return Self.jsonChars(try parseClass())
    case ".": return Self.jsonChars(CodePointSet([0x0A...0x0A], negated: true))
    case "\\": return Self.jsonChars(try parseEscape(inClass: false))
    case "^", "$": throw Unsupported(reason: "anchors inside the pattern")
    case "*", "+", "?": throw Unsupported(reason: "nothing to repeat before '\(Character(c))'")
    default: return Self.jsonChars(CodePointSet([c.value...c.value]))
    }
  }

  /// After a backslash: the set it stands for.
  private mutating func parseEscape(inClass: Bool) throws -> CodePointSet {
    guard let c = current else { throw Unsupported(reason: "trailing backslash") }
    pos += 1
    let digits = CodePointSet([0x30...0x39])
    let word = CodePointSet([0x30...0x39, 0x41...0x5A, 0x5F...0x5F, 0x61...0x7A])
    let space = CodePointSet([0x09...0x0D, 0x20...0x20])
    func single(_ v: UInt32) -> CodePointSet { CodePointSet([v...v]) }
    switch c {
    case "d": return digits
    case "D": return CodePointSet(digits.ranges, negated: true)
    case "w": return word
    case "W": return CodePointSet(word.ranges, negated: true)
    case "s": return space
    case "S": return CodePointSet(space.ranges, negated: true)
    case "n": return single(0x0A)
    case "t": return single(0x09)
    case "r": return single(0x0D)
    case "f": return single(0x0C)
    case "v": return single(0x0B)
    case "0": return single(0)
    case "x", "u":
      let count = c == "x" ? 2 : 4
      var value: UInt32 = 0
      for _ in 0..<count {
        guard let d = current, let v = Character(d).hexDigitValue else {
          throw Unsupported(reason: "bad \\\(Character(c)) escape")
        }
        value = value * 16 + UInt32(v)
        pos += 1
      }
      return single(value)
    case "b" where inClass: return single(0x08)
    case "b", "B", "A", "Z", "z", "G":
      throw Unsupported(reason: "anchor or word boundary '\\\(Character(c))'")
    case "1"..."9", "k": throw Unsupported(reason: "backreference")
    case "p", "P": throw Unsupported(reason: "Unicode property classes")
    default:
      guard !Character(c).isLetter else { throw Unsupported(reason: "unknown escape '\\\(Character(c))'") }
      return single(c.value)
    }
  }

  /// After "[": the class's set.
  private mutating func parseClass() throws -> CodePointSet {
    var negated = false
    if current == "^" {
      negated = true
      pos += 1
    }
    var ranges: [ClosedRange<UInt32>] = []
    var first = true
    while let c = current, c != "]" || first {
      first = false
      pos += 1
      var low: UInt32
      if c == "\\" {
        let set = try parseEscape(inClass: true)
        guard set.ranges.count == 1, set.ranges[0].count == 1 else {
          ranges += set.ranges
          continue
        }
        low = set.ranges[0].lowerBound
      } else {
        low = c.value
      }
      if current == "-", pos + 1 < text.count, text[pos + 1] != "]" {
        pos += 1
        let d = current!
        pos += 1
        var high = d.value
        if d == "\\" {
          let set = try parseEscape(inClass: true)
          guard set.ranges.count == 1, set.ranges[0].count == 1 else {
            throw Unsupported(reason: "bad class range")
          }
          high = set.ranges[0].lowerBound
        }
        guard low <= high else { throw Unsupported(reason: "class range out of order") }
        ranges.append(low...high)
      } else {
        ranges.append(low...low)
      }
      low = 0
    }
    guard current == "]" else { throw Unsupported(reason: "missing ']'") }
    pos += 1
    return CodePointSet(ranges, negated: negated)
  }

  /// `* + ? {m} {m,} {m,n} {,n}` with an optional lazy `?`; nil when none follows (a `{` that
  /// does not open a count is a literal, as in Python).
  private mutating func parseQuantifier() throws -> String? {
    guard let c = current else { return nil }
    var result: String
    switch c {
    case "*", "+", "?":
      pos += 1
      result = String(Character(c))
    case "{":
      var i = pos + 1
      func number() -> Int? {
        var value: Int?
        while i < text.count, let d = Character(text[i]).wholeNumberValue, text[i].isASCII {
          value = (value ?? 0) * 10 + d
          if value! > GrammarBuilder.maxRepetition { return Int.max }
          i += 1
        }
        return value
      }
      let low = number()
      var high = low
      if i < text.count, text[i] == "," {
        i += 1
        high = number()
        if high == nil { high = -1 }  // open
      }
      guard i < text.count, text[i] == "}", low != nil || (high ?? -1) >= 0 else { return nil }
      pos = i + 1
      let l = low ?? 0
      guard l <= GrammarBuilder.maxRepetition, (high ?? 0) <= GrammarBuilder.maxRepetition else {
        throw Unsupported(reason: "repetition above \(GrammarBuilder.maxRepetition)")
      }
      if let h = high, h >= 0, h < l { throw Unsupported(reason: "repetition maximum below its minimum") }
      result = high == -1 ? "{\(l),}" : "{\(l),\(high!)}"
    default: return nil
    }
    if current == "?" { pos += 1 }
    if current == "+" { throw Unsupported(reason: "possessive quantifier") }
    return result
  }

  /// A GBNF expression for one character of `set` as a JSON string writes it: most characters
  /// as themselves, `"` and `\` escaped, control characters as their short escapes.
  static func jsonChars(_ set: CodePointSet) -> String {
    let plain = CodePointSet(
      set.ranges.flatMap { r -> [ClosedRange<UInt32>] in
        // Drop controls, '"' and '\'.
        var pieces: [ClosedRange<UInt32>] = []
        var low = max(r.lowerBound, 0x20)
        for cut in [UInt32(0x22), 0x5C] where low <= r.upperBound && cut >= low && cut <= r.upperBound {
          if cut > low { pieces.append(low...(cut - 1)) }
          low = cut + 1
        }
        if low <= r.upperBound { pieces.append(low...r.upperBound) }
        return pieces
      })
    var alternatives: [String] = []
    if !plain.ranges.isEmpty {
      alternatives.append(
        plain.ranges.count == 1 && plain.ranges[0].count == 1
          ? GBNFText.literal(String(Character(Unicode.Scalar(plain.ranges[0].lowerBound)!)))
          : GBNFText.characterClass(plain.ranges))
    }
    let escapes: [(UInt32, String)] = [
      (0x22, "\\\""), (0x5C, "\\\\"), (0x0A, "\\n"), (0x09, "\\t"), (0x0D, "\\r"), (0x08, "\\b"),
      (0x0C, "\\f"),
    ]
    for (c, escape) in escapes where set.contains(c) { alternatives.append(GBNFText.literal(escape)) }
    guard !alternatives.isEmpty else { return "[^\\x00-\\U0010FFFF]" }
    return alternatives.count == 1 ? alternatives[0] : "( " + alternatives.joined(separator: " | ") + " )"
  }
}
