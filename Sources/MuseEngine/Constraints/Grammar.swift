/// A context-free grammar over Unicode code points, compiled for `GrammarMatcher`: every rule is a
/// list of alternatives, each a sequence of character sets and rule references, stored flat as in
/// llama.cpp's `llama_grammar` (each alternative ends with an `end` element, so a position in
/// `elements` is all a stack frame needs). Repetition and grouping are lowered to plain rules when
/// the grammar is built (`x*` → `r ::= x r | ε`, tail-recursive, so stacks never grow with length).
/// Immutable and shared by every sequence that generates under it.
public final class Grammar: Sendable {
  enum Kind: UInt8, Sendable {
    /// The end of an alternative.
    case end
    /// One code point from `charSets[value]`.
    case chars
    /// The rule `value`.
    case rule
  }

  struct Element: Sendable {
    let kind: Kind
    let value: Int32
  }

  let elements: [Element]
  /// Per rule, where each of its alternatives starts in `elements`.
  let alternatives: [[Int32]]
  let charSets: [CodePointSet]
  let ruleNames: [String]
  let root: Int32

  /// Compiles GBNF text (llama.cpp's grammar syntax) whose start rule is `root`.
  public convenience init(gbnf text: String, root: String = "root") throws {
    var builder = try GBNFParser.parse(text)
    try self.init(builder: &builder, root: root)
  }

  init(builder: inout GrammarBuilder, root rootName: String) throws {
    guard let root = builder.ruleIndex[rootName], builder.bodies[root] != nil else {
      throw GrammarError.missingRoot(rootName)
    }
    for (index, body) in builder.bodies.enumerated() where body == nil {
      let place = builder.firstUse[index] ?? (line: 0, column: 0)
      throw GrammarError.undefinedRule(builder.names[index], line: place.line, column: place.column)
    }
    let bodies = builder.bodies.map { $0! }
    try Self.checkNoLeftRecursion(bodies, names: builder.names)
    var elements: [Element] = []
    var alternatives: [[Int32]] = []
    for body in bodies {
      var starts: [Int32] = []
      for sequence in body {
        starts.append(Int32(elements.count))
        for item in sequence {
          switch item {
          case .chars(let set): elements.append(Element(kind: .chars, value: Int32(set)))
          case .rule(let rule): elements.append(Element(kind: .rule, value: Int32(rule)))
          }
        }
        elements.append(Element(kind: .end, value: 0))
      }
      alternatives.append(starts)
    }
    self.elements = elements
    self.alternatives = alternatives
    charSets = builder.charSets
    ruleNames = builder.names
    self.root = Int32(root)
  }

  /// Left recursion (a rule reaching itself before consuming a character) would make the
  /// matcher's expansion loop forever; llama.cpp refuses it the same way.
  private static func checkNoLeftRecursion(_ bodies: [[[GrammarBuilder.Item]]], names: [String]) throws {
    // Nullable rules, to a fixed point.
    var nullable = [Bool](repeating: false, count: bodies.count)
    var changed = true
    while changed {
      changed = false
      for (rule, body) in bodies.enumerated() where !nullable[rule] {
        let empty = body.contains { sequence in
          sequence.allSatisfy { if case .rule(let r) = $0 { nullable[r] } else { false } }
        }
        if empty {
          nullable[rule] = true
          changed = true
        }
      }
    }
    // The rules each rule can start with (through nullable prefixes).
    var firsts = [[Int]](repeating: [], count: bodies.count)
    for (rule, body) in bodies.enumerated() {
      var seen = Set<Int>()
      for sequence in body {
        for item in sequence {
          guard case .rule(let r) = item else { break }
          if seen.insert(r).inserted { firsts[rule].append(r) }
          if !nullable[r] { break }
        }
      }
    }
    // Iterative depth-first search for a cycle (hostile grammars may chain thousands of rules).
    var color = [UInt8](repeating: 0, count: bodies.count)  // 0 new, 1 on the path, 2 done
    for start in bodies.indices where color[start] == 0 {
      var path: [(rule: Int, next: Int)] = [(start, 0)]
      color[start] = 1
      while let (rule, next) = path.last {
        if next < firsts[rule].count {
          path[path.count - 1].next += 1
          let child = firsts[rule][next]
          if color[child] == 1 { throw GrammarError.leftRecursion(names[child]) }
          if color[child] == 0 {
            color[child] = 1
            path.append((child, 0))
          }
        } else {
          color[rule] = 2
          path.removeLast()
        }
      }
    }
  }

  /// Rules and elements in all, for reports and limits.
  public var ruleCount: Int { alternatives.count }
  public var elementCount: Int { elements.count }
}

/// A set of code points as sorted, disjoint ranges, with a bitmap for ASCII (most of what JSON
/// needs is ASCII, so most lookups never search the ranges).
struct CodePointSet: Sendable, Hashable {
  let ranges: [ClosedRange<UInt32>]
  private let asciiLow: UInt64
  private let asciiHigh: UInt64

  static let maxCodePoint: UInt32 = 0x10FFFF

  /// The code points in `ranges`, or all others when `negated`.
  init(_ ranges: [ClosedRange<UInt32>], negated: Bool = false) {
    var merged: [ClosedRange<UInt32>] = []
    for r in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
      if let last = merged.last, r.lowerBound <= last.upperBound &+ 1 {
        merged[merged.count - 1] = last.lowerBound...max(last.upperBound, r.upperBound)
      } else {
        merged.append(r)
      }
    }
    if negated {
      var complement: [ClosedRange<UInt32>] = []
      var next: UInt32 = 0
      var reachedEnd = false
      for r in merged {
        if r.lowerBound > next { complement.append(next...(r.lowerBound - 1)) }
        if r.upperBound >= Self.maxCodePoint {
          reachedEnd = true
          break
        }
        next = r.upperBound + 1
      }
      if !reachedEnd { complement.append(next...Self.maxCodePoint) }
      merged = complement
    }
    self.ranges = merged
    var low: UInt64 = 0
    var high: UInt64 = 0
    for r in merged where r.lowerBound < 128 {
      for c in r.lowerBound...min(r.upperBound, 127) {
        if c < 64 { low |= 1 << UInt64(c) } else { high |= 1 << UInt64(c - 64) }
      }
    }
    asciiLow = low
    asciiHigh = high
  }

  @inline(__always) func contains(_ c: UInt32) -> Bool {
    if c < 64 { return asciiLow & (1 << UInt64(c)) != 0 }
    if c < 128 { return asciiHigh & (1 << UInt64(c - 64)) != 0 }
    var lo = 0
    var hi = ranges.count
    while lo < hi {
      let mid = (lo + hi) / 2
      if ranges[mid].upperBound < c { lo = mid + 1 } else { hi = mid }
    }
    return lo < ranges.count && ranges[lo].lowerBound <= c
  }

  /// Whether some code point in `range` is in the set (for a character whose first UTF-8 bytes
  /// are known).
  func overlaps(_ range: ClosedRange<UInt32>) -> Bool {
    ranges.contains { $0.overlaps(range) }
  }
}

/// A grammar as it is being built: rules by name, alternatives as item sequences. The GBNF
/// parser fills it; `Grammar.init(builder:)` checks and flattens it.
struct GrammarBuilder {
  enum Item: Hashable {
    case chars(Int)
    case rule(Int)
  }

  /// Limits that keep hostile grammars from exhausting memory or time.
  static let maxRules = 200_000
  static let maxItems = 2_000_000
  static let maxRepetition = 10_000

  private(set) var names: [String] = []
  private(set) var ruleIndex: [String: Int] = [:]
  var bodies: [[[Item]]?] = []
  var firstUse: [Int: (line: Int, column: Int)] = [:]
  private(set) var charSets: [CodePointSet] = []
  private var charSetIndex: [CodePointSet: Int] = [:]
  private var items = 0

  /// The rule called `name`, declared on first mention.
  mutating func rule(named name: String) throws -> Int {
    if let index = ruleIndex[name] { return index }
    guard names.count < Self.maxRules else { throw GrammarError.tooLarge("more than \(Self.maxRules) rules") }
    names.append(name)
    bodies.append(nil)
    ruleIndex[name] = names.count - 1
    return names.count - 1
  }

  /// A new rule for a group or repetition, named after the rule it helps with a ':' that GBNF
  /// names cannot hold, so it never collides with a rule the text defines later.
  mutating func helperRule(for parent: String, body: [[Item]]) throws -> Int {
    let index = try rule(named: "\(parent):\(names.count)")
    try define(index, body)
    return index
  }

  mutating func define(_ rule: Int, _ body: [[Item]]) throws {
    items += body.reduce(body.count) { $0 + $1.count }
    guard items <= Self.maxItems else { throw GrammarError.tooLarge("more than \(Self.maxItems) elements") }
    bodies[rule] = body
  }

  func isDefined(_ rule: Int) -> Bool { bodies[rule] != nil }

  mutating func chars(_ set: CodePointSet) -> Item {
    if let index = charSetIndex[set] { return .chars(index) }
    charSets.append(set)
    charSetIndex[set] = charSets.count - 1
    return .chars(charSets.count - 1)
  }

  mutating func literal(_ text: String) -> [Item] {
    text.unicodeScalars.map { chars(CodePointSet([$0.value...$0.value])) }
  }
}

/// Why a grammar was refused, with where in the text when it came from GBNF.
public enum GrammarError: Error, CustomStringConvertible, Equatable {
  case syntax(String, line: Int, column: Int)
  case undefinedRule(String, line: Int, column: Int)
  case duplicateRule(String, line: Int, column: Int)
  case missingRoot(String)
  case leftRecursion(String)
  case tooLarge(String)
  /// A lazy constraint's trigger that the grammar cannot start with.
  case triggerNotInGrammar(String)

  public var description: String {
    switch self {
    case .syntax(let message, let line, let column): "grammar line \(line), column \(column): \(message)"
    case .undefinedRule(let name, let line, let column):
      "grammar line \(line), column \(column): undefined rule '\(name)'"
    case .duplicateRule(let name, let line, let column):
      "grammar line \(line), column \(column): rule '\(name)' is defined twice"
    case .missingRoot(let name): "grammar has no rule '\(name)' to start from"
    case .leftRecursion(let name):
      "grammar rule '\(name)' is left-recursive (it can reach itself without consuming a character)"
    case .tooLarge(let what): "grammar is too large: \(what)"
    case .triggerNotInGrammar(let trigger):
      "the grammar cannot start with the trigger \(String(reflecting: trigger))"
    }
  }
}
