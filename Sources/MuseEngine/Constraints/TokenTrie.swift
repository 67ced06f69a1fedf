import Foundation
import MuseModels

/// Every token's bytes in one trie, in preorder, so the tokens a grammar state allows are found
/// by one walk that skips a whole subtree as soon as its first byte is refused (most of the
/// vocabulary, outside strings). Built once per tokenizer (`TokenTrie.shared(for:)`).
/// Control and end-of-generation tokens are left out: they are not text the grammar could read;
/// the end tokens are allowed separately, when the grammar can end.
public final class TokenTrie: @unchecked Sendable {
  // Node i (0 is the root): the byte on its edge, its depth, and the index after its subtree.
  private let byte: [UInt8]
  private let depth: [Int32]
  private let subtreeEnd: [Int32]
  /// Tokens whose bytes end at node i: sortedTokens[tokenStart[i]..<tokenStart[i + 1]].
  private let tokenStart: [Int32]
  private let sortedTokens: [Int32]
  let maxDepth: Int
  /// The tokens that end a generation, for when the grammar can end.
  let endTokens: [Int]
  /// Whether each id is in the trie (text the grammar reads).
  let isText: [Bool]
  let vocabularySize: Int

  public init(tokenizer: Tokenizer) {
    let n = tokenizer.vocabularySize
    let types = tokenizer.vocabulary.tokenTypes
    var ids: [Int32] = []
    var bytes: [[UInt8]] = []
    bytes.reserveCapacity(n)
    var isText = [Bool](repeating: false, count: n)
    var ends: [Int] = []
    for id in 0..<n {
      let b = tokenizer.tokenBytes(id)
      bytes.append(b)
      if tokenizer.isEndOfGeneration(id) {
        ends.append(id)
        continue
      }
      let type = id < types.count ? types[id] : .normal
      guard !b.isEmpty, type != .control, type != .unused else { continue }
      ids.append(Int32(id))
      isText[id] = true
    }
    ids.sort { bytes[Int($0)].lexicographicallyPrecedes(bytes[Int($1)]) }
    var byte: [UInt8] = [0]
    var depth: [Int32] = [0]
    var subtreeEnd: [Int32] = [0]
    // The path from the root to the last node made: path[d] is the node at depth d.
    var path: [Int] = [0]
    var maxDepth = 0
    var terminal: [Int] = []
    for id in ids {
      let b = bytes[Int(id)]
      // The longest prefix of b already on the path (sorted input: only the path can share it).
      var shared = 0
      while shared < path.count - 1, shared < b.count, byte[path[shared + 1]] == b[shared] { shared += 1 }
      for closed in path[(shared + 1)...] { subtreeEnd[closed] = Int32(byte.count) }
      path.removeSubrange((shared + 1)...)
      for d in shared..<b.count {
        byte.append(b[d])
        depth.append(Int32(d + 1))
        subtreeEnd.append(0)
        path.append(byte.count - 1)
      }
      terminal.append(path[b.count])
      maxDepth = max(maxDepth, b.count)
    }
    for open in path { subtreeEnd[open] = Int32(byte.count) }
    // Sorted bytes are preorder, so each node's tokens are one run of `ids`.
    var starts = [Int32](repeating: 0, count: byte.count + 1)
    var k = 0
    for node in 0...byte.count {
      while k < ids.count, terminal[k] < node { k += 1 }
      starts[node] = Int32(k)
    }
    self.byte = byte
    self.depth = depth
    self.subtreeEnd = subtreeEnd
    self.tokenStart = starts
    sortedTokens = ids
    self.maxDepth = maxDepth
    endTokens = ends
    self.isText = isText
    vocabularySize = n
  }

  var nodeCount: Int { byte.count }

  /// Calls `allowed` with every text token the matcher accepts from `state` (all of its bytes,
  /// possibly stopping inside a character), walking the matcher's memo of transitions.
  func walk(_ matcher: GrammarMatcher, from state: GrammarMatcher.State, allowed: (Int) -> Void) {
    matcher.trimMemo()
    var ids = [Int32](repeating: matcher.id(of: state), count: maxDepth + 1)
    var i = 1
    while i < byte.count {
      let d = Int(depth[i])
      let next = matcher.next(id: ids[d - 1], byte: byte[i])
      guard next >= 0 else {
        i = Int(subtreeEnd[i])
        continue
      }
      ids[d] = next
      for t in tokenStart[i]..<tokenStart[i + 1] { allowed(Int(sortedTokens[Int(t)])) }
      i += 1
    }
  }

  private static let cacheLock = NSLock()
  nonisolated(unsafe) private static var cache: [(tokenizer: Weak, trie: TokenTrie)] = []
  private struct Weak { weak var value: Tokenizer? }

  /// The trie of `tokenizer`'s vocabulary, built on first use and kept while the tokenizer lives.
  public static func shared(for tokenizer: Tokenizer) -> TokenTrie {
    cacheLock.withLock {
      cache.removeAll { $0.tokenizer.value == nil }
      if let hit = cache.first(where: { $0.tokenizer.value === tokenizer }) { return hit.trie }
      let trie = TokenTrie(tokenizer: tokenizer)
      cache.append((Weak(value: tokenizer), trie))
      return trie
    }
  }
}
