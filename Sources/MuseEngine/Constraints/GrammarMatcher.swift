/// An incremental recognizer for a `Grammar` over UTF-8 bytes: the pushdown stacks of llama.cpp's
/// `llama_grammar` (every way the input so far can be parsed is one stack of grammar positions;
/// a byte keeps the stacks whose top character set admits it). Stacks are hash-consed nodes
/// (position, parent) in an arena, so a stack is one integer, equal stacks are the same integer,
/// and trying a byte from a state never copies a stack. One matcher per sequence; not thread-safe.
final class GrammarMatcher {
  /// The input so far: every live stack (0 is the empty stack: the grammar may end here), and
  /// the UTF-8 character in progress, if a byte sequence stopped inside one.
  struct State: Hashable {
    var stacks: [Int32]
    /// The bits of the code point read so far, and how many continuation bytes it still needs.
    var partial: UInt32 = 0
    var remaining: UInt8 = 0
    /// The character's length in bytes (its smallest code point rules out overlong forms).
    var length: UInt8 = 0

    /// No parse is left: the input is not a prefix of any sentence.
    var isDead: Bool { stacks.isEmpty }
  }

  let grammar: Grammar
  private(set) var state: State
  // The arena: node i is the stack whose top is position nodePosition[i] above stack nodeParent[i].
  // Node 0 is the empty stack.
  private var nodePosition: [Int32] = [-1]
  private var nodeParent: [Int32] = [-1]
  private var nodeIndex: [UInt64: Int32] = [:]
  // Stamps that de-duplicate the stacks of one transition without a set.
  private var stamp: [UInt32] = [0]
  private var epoch: UInt32 = 0
  private var work: [Int32] = []
  private let elements: [Grammar.Element]
  private let charSets: [CodePointSet]
  // The trie walk's memo: states interned to ids (stacks sorted), and (id, byte) → id (-1:
  // refused). Inside a JSON string most bytes lead back to the same state, so most steps of a
  // walk are one lookup. Cleared when the arena is compacted or the memo grows too large.
  private var stateIDs: [State: Int32] = [:]
  private var statesByID: [State] = []
  private var transitions: [UInt64: Int32] = [:]
  /// Changes whenever ids are forgotten, so a cache keyed by them knows to drop its entries.
  private(set) var memoGeneration = 0
  private static let maxMemoStates = 50_000
  // About 16 MB at most per sequence (a walk inside a string adds up to one per trie node).
  private static let maxMemoTransitions = 400_000

  /// Arena size above which `commit` keeps only the nodes the current state reaches.
  private static let compactionThreshold = 1 << 20

  init(grammar: Grammar) {
    self.grammar = grammar
    elements = grammar.elements
    charSets = grammar.charSets
    state = State(stacks: [])
    state = initialState()
  }

  private func initialState() -> State {
    epoch &+= 1
    var out: [Int32] = []
    for start in grammar.alternatives[Int(grammar.root)] {
      expand(elements[Int(start)].kind == .end ? 0 : node(start, 0), into: &out)
    }
    return State(stacks: out)
  }

  private func node(_ position: Int32, _ parent: Int32) -> Int32 {
    let key = UInt64(UInt32(bitPattern: position)) << 32 | UInt64(UInt32(bitPattern: parent))
    if let existing = nodeIndex[key] { return existing }
    let id = Int32(nodePosition.count)
    nodePosition.append(position)
    nodeParent.append(parent)
    stamp.append(0)
    nodeIndex[key] = id
    return id
  }

  /// Adds the stacks `start` stands for with a character set on top (rule references expanded
  /// into each alternative) to `out`, once each per epoch. Iterative: hostile grammars can chain
  /// thousands of rules.
  private func expand(_ start: Int32, into out: inout [Int32]) {
    work.append(start)
    while let n = work.popLast() {
      if stamp[Int(n)] == epoch { continue }
      stamp[Int(n)] = epoch
      if n == 0 {
        out.append(0)
        continue
      }
      let position = nodePosition[Int(n)]
      let element = elements[Int(position)]
      guard element.kind == .rule else {
        out.append(n)
        continue
      }
      let parent = nodeParent[Int(n)]
      let rest = elements[Int(position) + 1].kind == .end ? parent : node(position + 1, parent)
      for alternative in grammar.alternatives[Int(element.value)] {
        work.append(elements[Int(alternative)].kind == .end ? rest : node(alternative, rest))
      }
    }
  }

  /// The state after the code point `c`, possibly dead.
  private func advance(_ stacks: [Int32], codePoint c: UInt32) -> [Int32] {
    epoch &+= 1
    var out: [Int32] = []
    for n in stacks where n != 0 {
      let position = nodePosition[Int(n)]
      guard charSets[Int(elements[Int(position)].value)].contains(c) else { continue }
      let parent = nodeParent[Int(n)]
      expand(elements[Int(position) + 1].kind == .end ? parent : node(position + 1, parent), into: &out)
    }
    return out
  }

  /// The state after one more byte, or nil when no parse admits it (including invalid UTF-8).
  func next(_ s: State, byte: UInt8) -> State? {
    var s = s
    if s.remaining == 0 {
      switch byte {
      case 0..<0x80:
        s.stacks = advance(s.stacks, codePoint: UInt32(byte))
        return s.isDead ? nil : s
      case 0xC2..<0xE0: (s.partial, s.remaining, s.length) = (UInt32(byte & 0x1F), 1, 2)
      case 0xE0..<0xF0: (s.partial, s.remaining, s.length) = (UInt32(byte & 0x0F), 2, 3)
      case 0xF0..<0xF5: (s.partial, s.remaining, s.length) = (UInt32(byte & 0x07), 3, 4)
      default: return nil
      }
    } else {
      guard byte & 0xC0 == 0x80 else { return nil }
      s.partial = s.partial << 6 | UInt32(byte & 0x3F)
      s.remaining -= 1
      if s.remaining == 0 {
        let c = s.partial
        let smallest: UInt32 = s.length == 2 ? 0x80 : s.length == 3 ? 0x800 : 0x10000
        s.partial = 0
        s.length = 0
        guard c >= smallest, c <= CodePointSet.maxCodePoint, !(0xD800...0xDFFF).contains(c) else {
          return nil
        }
        s.stacks = advance(s.stacks, codePoint: c)
        return s.isDead ? nil : s
      }
    }
    // Inside a character: some stack must admit a code point that starts with these bytes and
    // is valid UTF-8 (not overlong, not a surrogate, at most U+10FFFF: models find such holes).
    let shift = UInt32(6 * s.remaining)
    let smallest: UInt32 = s.length == 2 ? 0x80 : s.length == 3 ? 0x800 : 0x10000
    let low = max(s.partial << shift, smallest)
    let high = min((s.partial << shift) | ((1 << shift) - 1), CodePointSet.maxCodePoint)
    guard low <= high, !(low >= 0xD800 && high <= 0xDFFF) else { return nil }
    let range = low...high
    let alive = s.stacks.contains { n in
      n != 0 && charSets[Int(elements[Int(nodePosition[Int(n)])].value)].overlaps(range)
    }
    return alive ? s : nil
  }

  /// The id of `s` in the memo.
  func id(of s: State) -> Int32 {
    var key = s
    key.stacks.sort()
    if let id = stateIDs[key] { return id }
    let id = Int32(statesByID.count)
    statesByID.append(key)
    stateIDs[key] = id
    return id
  }

  /// The id of the state after `byte` from state `id`, or -1 when refused.
  @inline(__always) func next(id: Int32, byte: UInt8) -> Int32 {
    let key = UInt64(UInt32(bitPattern: id)) << 8 | UInt64(byte)
    if let hit = transitions[key] { return hit }
    let result = next(statesByID[Int(id)], byte: byte).map { self.id(of: $0) } ?? -1
    transitions[key] = result
    return result
  }

  /// Forgets the memo if it has grown too large (call before a walk, not during one).
  func trimMemo() {
    guard statesByID.count > Self.maxMemoStates || transitions.count > Self.maxMemoTransitions else { return }
    forgetMemo()
  }

  private func forgetMemo() {
    stateIDs.removeAll(keepingCapacity: true)
    statesByID.removeAll(keepingCapacity: true)
    transitions.removeAll(keepingCapacity: true)
    memoGeneration += 1
  }

  /// The state after `bytes`, or nil when some byte is refused.
  func next(_ s: State, bytes: some Sequence<UInt8>) -> State? {
    var s = s
    for byte in bytes {
      guard let after = next(s, byte: byte) else { return nil }
      s = after
    }
    return s
  }

  /// Whether the input so far is a whole sentence of the grammar.
  func canEnd(_ s: State) -> Bool { s.remaining == 0 && s.stacks.contains(0) }

  /// Whether the input is a sentence that nothing can extend: the generation is done.
  func isComplete(_ s: State) -> Bool { s.remaining == 0 && s.stacks == [0] }

  var canEnd: Bool { canEnd(state) }
  var isComplete: Bool { isComplete(state) }

  /// Moves on by `bytes`; false (and no change) when the grammar refuses them.
  @discardableResult
  func accept(_ bytes: some Sequence<UInt8>) -> Bool {
    guard let after = next(state, bytes: bytes) else { return false }
    state = after
    if nodePosition.count > Self.compactionThreshold { compact() }
    return true
  }

  /// Starts again from the grammar's beginning.
  func reset() { state = initialState() }

  /// The state before any input.
  var initial: State { initialState() }

  /// Drops every node the current state does not reach (tries of the vocabulary leave many).
  private func compact() {
    var keep: [Int32: Int32] = [0: 0]
    var positions: [Int32] = [-1]
    var parents: [Int32] = [-1]
    var index: [UInt64: Int32] = [:]
    func copy(_ n: Int32) -> Int32 {
      // Parents first, iteratively.
      var chain: [Int32] = []
      var m = n
      while keep[m] == nil {
        chain.append(m)
        m = nodeParent[Int(m)]
      }
      for old in chain.reversed() {
        let parent = keep[nodeParent[Int(old)]]!
        let id = Int32(positions.count)
        positions.append(nodePosition[Int(old)])
        parents.append(parent)
        index[UInt64(UInt32(bitPattern: nodePosition[Int(old)])) << 32 | UInt64(UInt32(bitPattern: parent))] =
          id
        keep[old] = id
      }
      return keep[n]!
    }
    state.stacks = state.stacks.map(copy)
    nodePosition = positions
    nodeParent = parents
    nodeIndex = index
    stamp = [UInt32](repeating: 0, count: positions.count)
    epoch = 0
    forgetMemo()
  }
}
