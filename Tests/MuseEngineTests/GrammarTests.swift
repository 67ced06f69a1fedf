import Foundation
import Testing

@testable import MuseEngine

/// GBNF parsing (every construct, every refusal with its place) and the matcher's answers.
struct GrammarTests {
  /// Whether `grammar` accepts `text` as a whole sentence (nil: not even as a prefix).
  func verdict(_ grammar: Grammar, _ text: String) -> Bool? {
    let matcher = GrammarMatcher(grammar: grammar)
    guard matcher.accept(Array(text.utf8)) else { return nil }
    return matcher.canEnd
  }

  func accepts(_ gbnf: String, _ text: String) throws -> Bool {
    try verdict(Grammar(gbnf: gbnf), text) == true
  }

  @Test func literalsAlternativesAndGroups() throws {
    let g = try Grammar(gbnf: #"root ::= "ab" ( "c" | "d" )  # comment"#)
    #expect(verdict(g, "abc") == true)
    #expect(verdict(g, "abd") == true)
    #expect(verdict(g, "ab") == false)  // a prefix, not a sentence
    #expect(verdict(g, "abe") == nil)
    #expect(verdict(g, "abcd") == nil)
  }

  @Test func escapesInLiterals() throws {
    let g = try Grammar(gbnf: #"root ::= "\n\t\\\"\x41\u00e9\U0001F600""#)
    #expect(verdict(g, "\n\t\\\"Aé😀") == true)
  }

  @Test func characterClassesAndAny() throws {
    #expect(try accepts("root ::= [a-c0-9]+", "a9c"))
    #expect(try !accepts("root ::= [a-c0-9]+", "ad"))
    #expect(try accepts(#"root ::= [^"\\]*"#, "héllo"))
    #expect(try !accepts(#"root ::= [^"\\]*"#, "a\"b"))
    #expect(try accepts("root ::= . .", "é😀"))
    #expect(try accepts(#"root ::= [\]\-]"#, "-"))
  }

  @Test(arguments: [
    ("root ::= \"a\"*", ["", "a", "aaaa"], ["b"]),
    ("root ::= \"a\"+", ["a", "aaa"], [""]),
    ("root ::= \"a\"?", ["", "a"], ["aa"]),
    ("root ::= \"a\"{3}", ["aaa"], ["aa", "aaaa"]),
    ("root ::= \"a\"{2,}", ["aa", "aaaaa"], ["a"]),
    ("root ::= \"a\"{1,3}", ["a", "aa", "aaa"], ["", "aaaa"]),
    ("root ::= \"ab\"{0,2}", ["", "ab", "abab"], ["a", "ababab"]),
    ("root ::= (\"x\" | \"yz\"){2}", ["xx", "xyz", "yzyz"], ["x", "xxx"]),
  ])
  func repetitions(gbnf: String, valid: [String], invalid: [String]) throws {
    let g = try Grammar(gbnf: gbnf)
    for text in valid { #expect(verdict(g, text) == true, "\(gbnf) should accept \(text.debugDescription)") }
    for text in invalid {
      #expect(verdict(g, text) != true, "\(gbnf) should refuse \(text.debugDescription)")
    }
  }

  @Test func rulesWithDashesAcrossLines() throws {
    let g = try Grammar(
      gbnf: """
        # a comment line
        root ::= item-list
        item-list ::= (
            item ("," item)*
          )
        item ::= "x"
               | "y"
        """)
    #expect(verdict(g, "x,y,x") == true)
    #expect(verdict(g, "x,") == false)
  }

  @Test func recursionThroughRules() throws {
    let g = try Grammar(gbnf: #"root ::= "(" root ")" | """#)
    #expect(verdict(g, "((()))") == true)
    #expect(verdict(g, "(()") == false)
    #expect(verdict(g, "())") == nil)
  }

  @Test(arguments: [
    ("root ::= foo", GrammarError.undefinedRule("foo", line: 1, column: 10)),
    ("a ::= \"x\"", GrammarError.missingRoot("root")),
    ("root ::= \"abc", GrammarError.syntax("unterminated string literal", line: 1, column: 14)),
    ("root ::= [a-", GrammarError.syntax("unterminated character class", line: 1, column: 13)),
    ("root ::= ( \"a\"", GrammarError.syntax("missing ')'", line: 1, column: 15)),
    ("root \"a\"", GrammarError.syntax("expected '::=' after 'root'", line: 1, column: 6)),
    ("root ::= \"a\"\nroot ::= \"b\"", GrammarError.duplicateRule("root", line: 2, column: 1)),
    ("root ::= root \"a\" | \"b\"", GrammarError.leftRecursion("root")),
    ("root ::= x\nx ::= \"\"? x", GrammarError.leftRecursion("x")),
    (
      "root ::= \"a\"{5,2}",
      GrammarError.syntax("repetition {5,2} has its maximum below its minimum", line: 1, column: 18)
    ),
    ("root ::= \"a\"{99999}", GrammarError.syntax("repetition count above 10000", line: 1, column: 18)),
    ("root ::= \"\\q\"", GrammarError.syntax("unknown escape '\\q'", line: 1, column: 13)),
    ("root ::= [z-a]", GrammarError.syntax("character range is backwards (122 > 97)", line: 1, column: 14)),
    ("root ::= \"a\" )", GrammarError.syntax("unexpected ')'", line: 1, column: 14)),
  ])
  func refusals(gbnf: String, error: GrammarError) {
    #expect(throws: error) { try Grammar(gbnf: gbnf) }
  }

  @Test func errorsReadWell() {
    let error = GrammarError.undefinedRule("foo", line: 3, column: 7)
    #expect(error.description == "grammar line 3, column 7: undefined rule 'foo'")
  }

  /// Hostile input: deep nesting and long rule chains are refused or handled without
  /// exhausting the stack.
  @Test func hostileGrammars() throws {
    let deep = "root ::= " + String(repeating: "(", count: 300) + "\"a\"" + String(repeating: ")", count: 300)
    #expect(throws: GrammarError.self) { try Grammar(gbnf: deep) }
    // 20,000 rules, each starting with the next: expansion is iterative.
    var chain = "root ::= r0\n"
    for i in 0..<20_000 { chain += "r\(i) ::= r\(i + 1) | \"x\"\n" }
    chain += "r20000 ::= \"y\"\n"
    let g = try Grammar(gbnf: chain)
    #expect(verdict(g, "y") == true)
    #expect(verdict(g, "x") == true)
  }

  /// A character split across byte sequences is held until complete, and only where the
  /// grammar could accept some character starting with those bytes.
  @Test func utf8SplitAcrossSteps() throws {
    let g = try Grammar(gbnf: #"root ::= "é" [α-ω]"#)
    let matcher = GrammarMatcher(grammar: g)
    let bytes = Array("éβ".utf8)  // C3 A9 CE B2
    #expect(matcher.accept(bytes[0..<1]))
    #expect(!matcher.canEnd)
    #expect(matcher.accept(bytes[1..<3]))
    #expect(matcher.accept(bytes[3..<4]))
    #expect(matcher.canEnd && matcher.isComplete)
    // A lead byte no allowed character starts with is refused at once.
    let other = GrammarMatcher(grammar: g)
    #expect(!other.accept([0xE2]))  // é starts with C3
    #expect(!other.accept([0xFF]))  // never valid UTF-8
    #expect(!other.accept([0x80]))  // a continuation byte with nothing to continue
  }

  /// Overlong forms and surrogates are not UTF-8: SmolLM2 at a high temperature once wrote
  /// E0 81 B3 (an overlong "s") inside a JSON key through three byte tokens.
  @Test func overlongAndSurrogateBytesAreRefused() throws {
    let matcher = GrammarMatcher(grammar: try Grammar(gbnf: #"root ::= "s""#))
    #expect(matcher.next(matcher.state, bytes: [0xE0, 0x81]) == nil)
    #expect(matcher.next(matcher.state, bytes: [0xC1, 0xB3]) == nil)
    #expect(matcher.next(matcher.state, bytes: [0xF0, 0x80, 0x81]) == nil)
    let any = GrammarMatcher(grammar: try Grammar(gbnf: "root ::= .*"))
    #expect(any.next(any.state, bytes: [0xED, 0xA0]) == nil)  // a surrogate's first two bytes
    #expect(any.next(any.state, bytes: [0xF4, 0x90]) == nil)  // above U+10FFFF
    #expect(any.next(any.state, bytes: Array("é日😀".utf8)) != nil)
  }

  @Test func completeMeansNothingMayFollow() throws {
    let matcher = GrammarMatcher(grammar: try Grammar(gbnf: #"root ::= "a" "b"?"#))
    #expect(matcher.accept(Array("a".utf8)))
    #expect(matcher.canEnd && !matcher.isComplete)
    #expect(matcher.accept(Array("b".utf8)))
    #expect(matcher.isComplete)
  }
}
