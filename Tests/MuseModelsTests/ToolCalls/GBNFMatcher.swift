import Foundation

/// A small GBNF reader and backtracking matcher, enough for the call grammars: literals,
/// character classes, rule references, groups, `|`, `*`, `+`, `?` and `{m}` / `{m,n}`. It
/// checks that a grammar accepts a text, as llama.cpp's sampler would let it be written.
struct GBNFMatcher {
  indirect enum Node {
    case literal([Unicode.Scalar])
    case characterClass(negated: Bool, ranges: [ClosedRange<UInt32>])
    case reference(String)
    case sequence([Node])
    case alternatives([Node])
    case repetition(Node, min: Int, max: Int?)
  }

  struct SyntaxError: Error, CustomStringConvertible {
    var description: String
  }

  private(set) var rules: [String: Node] = [:]

  init(_ text: String) throws {
    for line in text.split(separator: "\n") where !line.trimmingCharacters(in: .whitespaces).isEmpty {
      guard let sep = line.range(of: " ::= ") else { throw SyntaxError(description: "no ::= in \(line)") }
      var s = Array(line[sep.upperBound...].unicodeScalars)[...]
      let node = try Self.alternatives(&s)
      Self.skip(&s)
      guard s.isEmpty else { throw SyntaxError(description: "trailing text in \(line)") }
      rules[String(line[..<sep.lowerBound])] = node
    }
  }

  /// Whether rule `root` matches the whole text (giving up, as false, after many steps).
  func matches(_ text: String) -> Bool {
    let scalars = Array(text.unicodeScalars)
    guard let root = rules["root"] else { return false }
    let budget = Budget()
    return match(root, scalars, 0, budget) { $0 == scalars.count }
  }

  private final class Budget {
    var left = 2_000_000
  }

  private func match(_ node: Node, _ t: [Unicode.Scalar], _ i: Int, _ budget: Budget, _ k: (Int) -> Bool)
    -> Bool
  {
    budget.left -= 1
    if budget.left < 0 { return false }
    switch node {
    case .literal(let l):
      guard i + l.count <= t.count, t[i..<(i + l.count)].elementsEqual(l) else { return false }
      return k(i + l.count)
    case .characterClass(let negated, let ranges):
      guard i < t.count else { return false }
      let inside = ranges.contains { $0.contains(t[i].value) }
      return inside != negated && k(i + 1)
    case .reference(let name):
      guard let rule = rules[name] else { return false }
      return match(rule, t, i, budget, k)
    case .sequence(let nodes):
      return matchSequence(nodes[...], t, i, budget, k)
    case .alternatives(let nodes):
      for n in nodes where match(n, t, i, budget, k) { return true }
      return false
    case .repetition(let n, let min, let max):
      return matchRepeat(n, min: min, max: max, count: 0, t, i, budget, k)
    }
  }

  private func matchSequence(
    _ nodes: ArraySlice<Node>, _ t: [Unicode.Scalar], _ i: Int, _ budget: Budget, _ k: (Int) -> Bool
  ) -> Bool {
    guard let first = nodes.first else { return k(i) }
    return match(first, t, i, budget) { j in matchSequence(nodes.dropFirst(), t, j, budget, k) }
  }

  private func matchRepeat(
    _ n: Node, min: Int, max: Int?, count: Int, _ t: [Unicode.Scalar], _ i: Int, _ budget: Budget,
    _ k: (Int) -> Bool
  ) -> Bool {
    if max.map({ count < $0 }) ?? true {
      // Greedy: one more, unless it matched nothing (which would loop).
      let more = match(n, t, i, budget) { j in
        j > i && matchRepeat(n, min: min, max: max, count: count + 1, t, j, budget, k)
      }
      if more { return true }
    }
    return count >= min && k(i)
  }

  // MARK: reading

  private static func skip(_ s: inout ArraySlice<Unicode.Scalar>) {
    while let c = s.first, c == " " || c == "\t" { s.removeFirst() }
  }

  private static func alternatives(_ s: inout ArraySlice<Unicode.Scalar>) throws -> Node {
    var options = [try sequence(&s)]
    skip(&s)
    while s.first == "|" {
      s.removeFirst()
      options.append(try sequence(&s))
      skip(&s)
    }
    return options.count == 1 ? options[0] : .alternatives(options)
  }

  private static func sequence(_ s: inout ArraySlice<Unicode.Scalar>) throws -> Node {
    var items: [Node] = []
    while true {
      skip(&s)
      guard let c = s.first, c != "|", c != ")" else { break }
      var item: Node
      switch c {
      case "\"":
        s.removeFirst()
        var l: [Unicode.Scalar] = []
        while let d = s.popFirst(), d != "\"" { l.append(d == "\\" ? try escaped(&s) : d) }
        item = .literal(l)
      case "[":
        s.removeFirst()
        let negated = s.first == "^"
        if negated { s.removeFirst() }
        var ranges: [ClosedRange<UInt32>] = []
        while let d = s.popFirst(), d != "]" {
          let low = d == "\\" ? try escaped(&s) : d
          var high = low
          if s.first == "-", s.dropFirst().first != "]" {
            s.removeFirst()
            let e = s.popFirst()!
            high = e == "\\" ? try escaped(&s) : e
          }
          ranges.append(low.value...high.value)
        }
        item = .characterClass(negated: negated, ranges: ranges)
      case "(":
        s.removeFirst()
        item = try alternatives(&s)
        guard s.popFirst() == ")" else { throw SyntaxError(description: "unclosed (") }
      default:
        var name = ""
        while let d = s.first, d.properties.isAlphabetic || ("0"..."9").contains(d) || d == "-" {
          name.unicodeScalars.append(s.removeFirst())
        }
        guard !name.isEmpty else { throw SyntaxError(description: "unexpected \(c)") }
        item = .reference(name)
      }
      switch s.first {
      case "*":
        s.removeFirst()
        item = .repetition(item, min: 0, max: nil)
      case "+":
        s.removeFirst()
        item = .repetition(item, min: 1, max: nil)
      case "?":
        s.removeFirst()
        item = .repetition(item, min: 0, max: 1)
      case "{":
        s.removeFirst()
        var text = ""
        while let d = s.popFirst(), d != "}" { text.unicodeScalars.append(d) }
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { Int($0) }
        item = .repetition(item, min: parts[0] ?? 0, max: parts.count == 1 ? parts[0] : parts[1])
      default: break
      }
      items.append(item)
    }
    return items.count == 1 ? items[0] : .sequence(items)
  }

  private static func escaped(_ s: inout ArraySlice<Unicode.Scalar>) throws -> Unicode.Scalar {
    guard let e = s.popFirst() else { throw SyntaxError(description: "dangling \\") }
    switch e {
    case "n": return "\n"
    case "t": return "\t"
    case "r": return "\r"
    case "x":
      let hex = String(String.UnicodeScalarView(s.prefix(2)))
      s.removeFirst(2)
      return Unicode.Scalar(UInt32(hex, radix: 16) ?? 0)!
    default: return e
    }
  }
}
