/// Reads llama.cpp's GBNF (`grammars/README.md` there): `name ::= alternatives` rules separated
/// by newlines, string literals with escapes (`\n \t \r \\ \" \xXX \uXXXX \UXXXXXXXX`), character
/// classes `[a-z]` / `[^…]`, `.` (any character), groups, `|`, `* + ?`, `{m}` `{m,}` `{m,n}` and `#`
/// comments. Newlines may continue a rule inside parentheses and after `|` (as llama.cpp), and
/// before a `|` that opens the next line. Every error names its line and column.
struct GBNFParser {
  private let text: [Unicode.Scalar]
  private var pos = 0
  private var line = 1
  private var column = 1
  private var builder = GrammarBuilder()
  private var depth = 0
  private static let maxNesting = 256

  static func parse(_ source: String) throws -> GrammarBuilder {
    var parser = GBNFParser(text: Array(source.unicodeScalars))
    try parser.parseGrammar()
    return parser.builder
  }

  private init(text: [Unicode.Scalar]) { self.text = text }

  private var current: Unicode.Scalar? { pos < text.count ? text[pos] : nil }

  private func peek(_ offset: Int) -> Unicode.Scalar? { pos + offset < text.count ? text[pos + offset] : nil }

  private mutating func advance() {
    if text[pos] == "\n" {
      line += 1
      column = 1
    } else {
      column += 1
    }
    pos += 1
  }

  private func error(_ message: String) -> GrammarError { .syntax(message, line: line, column: column) }

  /// Skips blanks and comments; newlines only when `newlines`.
  private mutating func skipSpace(newlines: Bool) {
    while let c = current {
      if c == " " || c == "\t" || (newlines && (c == "\n" || c == "\r")) {
        advance()
      } else if c == "#" {
        while let d = current, d != "\n" { advance() }
      } else {
        return
      }
    }
  }

  private static func isNameCharacter(_ c: Unicode.Scalar) -> Bool {
    ("a"..."z").contains(c) || ("A"..."Z").contains(c) || ("0"..."9").contains(c) || c == "-" || c == "_"
  }

  private mutating func parseName() throws -> String {
    var name = ""
    while let c = current, Self.isNameCharacter(c) {
      name.unicodeScalars.append(c)
      advance()
    }
    guard !name.isEmpty else {
      throw error(current.map { "expected a rule name, found '\(Character($0))'" } ?? "expected a rule name")
    }
    return name
  }

  private mutating func parseGrammar() throws {
    skipSpace(newlines: true)
    while current != nil {
      let (ruleLine, ruleColumn) = (line, column)
      let name = try parseName()
      skipSpace(newlines: false)
      guard current == ":", peek(1) == ":", peek(2) == "=" else {
        throw error("expected '::=' after '\(name)'")
      }
      for _ in 0..<3 { advance() }
      skipSpace(newlines: true)
      let rule = try builder.rule(named: name)
      guard !builder.isDefined(rule) else {
        throw GrammarError.duplicateRule(name, line: ruleLine, column: ruleColumn)
      }
      let body = try parseAlternatives(rule: name, nested: false)
      try builder.define(rule, body)
      guard current == nil || current == "\n" || current == "\r" else {
        throw error("unexpected '\(Character(current!))'")
      }
      skipSpace(newlines: true)
    }
  }

  private mutating func parseAlternatives(rule: String, nested: Bool) throws -> [[GrammarBuilder.Item]] {
    var alternatives = [try parseSequence(rule: rule, nested: nested)]
    while true {
      if !nested {
        // A "|" opening the next line continues the rule.
        var look = pos
        while look < text.count, [" ", "\t", "\r", "\n"].contains(text[look]) { look += 1 }
        if look < text.count, text[look] == "|", look != pos { skipSpace(newlines: true) }
      }
      guard current == "|" else { return alternatives }
      advance()
      skipSpace(newlines: true)
      alternatives.append(try parseSequence(rule: rule, nested: nested))
    }
  }

  private mutating func parseSequence(rule: String, nested: Bool) throws -> [GrammarBuilder.Item] {
    var sequence: [GrammarBuilder.Item] = []
    while let c = current, c != "|", c != ")", c != "\n", c != "\r" {
      var atom = try parseAtom(rule: rule)
      skipSpace(newlines: nested)
      if let quantified = try parseQuantifier(atom, rule: rule) {
        atom = quantified
        skipSpace(newlines: nested)
      }
      sequence += atom
    }
    return sequence
  }

  private mutating func parseAtom(rule: String) throws -> [GrammarBuilder.Item] {
    let (atomLine, atomColumn) = (line, column)
    switch current! {
    case "\"":
      advance()
      var items: [GrammarBuilder.Item] = []
      while current != "\"" {
        guard let c = current, c != "\n" else { throw error("unterminated string literal") }
        let scalar = c == "\\" ? try parseEscape() : c
        if c != "\\" { advance() }
        items.append(builder.chars(CodePointSet([scalar.value...scalar.value])))
      }
      advance()
      return items
    case "[":
      advance()
      var negated = false
      if current == "^" {
        negated = true
        advance()
      }
      var ranges: [ClosedRange<UInt32>] = []
      while current != "]" {
        let low = try parseClassCharacter()
        if current == "-", peek(1) != "]", peek(1) != nil {
          advance()
          let high = try parseClassCharacter()
          guard low.value <= high.value else {
            throw error("character range is backwards (\(low.value) > \(high.value))")
          }
          ranges.append(low.value...high.value)
        } else {
          ranges.append(low.value...low.value)
        }
      }
      advance()
      return [builder.chars(CodePointSet(ranges, negated: negated))]
    case ".":
      advance()
      return [builder.chars(CodePointSet([0...CodePointSet.maxCodePoint]))]
    case "(":
      advance()
      depth += 1
      defer { depth -= 1 }
      guard depth <= Self.maxNesting else { throw error("groups nest deeper than \(Self.maxNesting)") }
      skipSpace(newlines: true)
      let body = try parseAlternatives(rule: rule, nested: true)
      guard current == ")" else { throw error(current == nil ? "missing ')'" : "expected ')'") }
      advance()
      if body.count == 1 { return body[0] }
      return [.rule(try builder.helperRule(for: rule, body: body))]
    case let c where Self.isNameCharacter(c):
      let name = try parseName()
      let index = try builder.rule(named: name)
      if builder.firstUse[index] == nil { builder.firstUse[index] = (atomLine, atomColumn) }
      return [.rule(index)]
    case let c:
      throw error("unexpected '\(Character(c))'")
    }
  }

  private mutating func parseClassCharacter() throws -> Unicode.Scalar {
    guard let c = current, c != "\n" else { throw error("unterminated character class") }
    if c == "\\" { return try parseEscape() }
    advance()
    return c
  }

  /// At a backslash: the escaped character.
  private mutating func parseEscape() throws -> Unicode.Scalar {
    advance()
    guard let c = current else { throw error("unterminated escape") }
    advance()
    switch c {
    case "n": return "\n"
    case "t": return "\t"
    case "r": return "\r"
    case "0": return "\0"
    case "x": return try parseHex(2)
    case "u": return try parseHex(4)
    case "U": return try parseHex(8)
    case "\\", "\"", "[", "]", "-", "^", "/", "'", ".", "(", ")", "|", "*", "+", "?", "{", "}": return c
    default: throw error("unknown escape '\\\(Character(c))'")
    }
  }

  private mutating func parseHex(_ digits: Int) throws -> Unicode.Scalar {
    var value: UInt32 = 0
    for _ in 0..<digits {
      guard let c = current, let d = Character(c).hexDigitValue else {
        throw error("expected \(digits) hex digits in escape")
      }
      value = value * 16 + UInt32(d)
      advance()
    }
    guard let scalar = Unicode.Scalar(value) else {
      throw error("escape \\u\(value) is not a Unicode scalar")
    }
    return scalar
  }

  /// `* + ? {m} {m,} {m,n}` after an atom, lowered to helper rules; nil when none follows.
  private mutating func parseQuantifier(_ atom: [GrammarBuilder.Item], rule: String) throws
    -> [GrammarBuilder.Item]?
  {
    guard let c = current, ["*", "+", "?", "{"].contains(c) else { return nil }
    advance()
    let (low, high): (Int, Int?)
    switch c {
    case "*": (low, high) = (0, nil)
    case "+": (low, high) = (1, nil)
    case "?": (low, high) = (0, 1)
    default:
      skipSpace(newlines: false)
      let m = try parseCount()
      skipSpace(newlines: false)
      if current == "," {
        advance()
        skipSpace(newlines: false)
        (low, high) = (m, current == "}" ? nil : try parseCount())
        skipSpace(newlines: false)
      } else {
        (low, high) = (m, m)
      }
      guard current == "}" else { throw error("expected '}' to close the repetition") }
      advance()
      if let high, high < low { throw error("repetition {\(low),\(high)} has its maximum below its minimum") }
    }
    return try repeating(atom, low: low, high: high, rule: rule)
  }

  private mutating func parseCount() throws -> Int {
    var value = 0
    var any = false
    while let c = current, let d = Character(c).wholeNumberValue, c.isASCII {
      value = value * 10 + d
      any = true
      guard value <= GrammarBuilder.maxRepetition else {
        throw error("repetition count above \(GrammarBuilder.maxRepetition)")
      }
      advance()
    }
    guard any else { throw error("expected a number in the repetition") }
    return value
  }

  private mutating func repeating(_ atom: [GrammarBuilder.Item], low: Int, high: Int?, rule: String) throws
    -> [GrammarBuilder.Item]
  {
    let x: GrammarBuilder.Item =
      atom.count == 1 ? atom[0] : .rule(try builder.helperRule(for: rule, body: [atom]))
    var items = [GrammarBuilder.Item](repeating: x, count: low)
    if let high {
      // x{0,k} as a chain of optionals: o_k ::= x o_(k-1) | ε, each a tail call.
      var tail: GrammarBuilder.Item?
      for _ in 0..<(high - low) {
        let body: [[GrammarBuilder.Item]] = [[x] + (tail.map { [$0] } ?? []), []]
        tail = .rule(try builder.helperRule(for: rule, body: body))
      }
      if let tail { items.append(tail) }
    } else {
      // x* as r ::= x r | ε.
      let star = try builder.rule(named: "\(rule):\(builder.names.count)")
      try builder.define(star, [[x, .rule(star)], []])
      items.append(.rule(star))
    }
    return items
  }
}
