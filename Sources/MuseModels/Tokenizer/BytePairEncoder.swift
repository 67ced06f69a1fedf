import Foundation

/// Byte-level BPE (GPT-2; llama.cpp `llm_tokenizer_bpe_session`): a word's UTF-8 bytes start as
/// one symbol each (the byte's token in GPT-2's byte alphabet), then the adjacent pair with the
/// lowest merge rank is merged, leftmost first on ties, until no pair is in the merge table.
/// Works on token ids: a merge is a table entry (left id, right id) → (rank, merged id).
final class BytePairEncoder: @unchecked Sendable {
  /// The token of each byte value, -1 when the vocabulary lacks it.
  private let byteTokens: [Int32]
  /// Key `left << 32 | right`, value `rank << 32 | merged`.
  private let merges: [UInt64: UInt64]
  private let tokenIDs: [String: Int]
  private let ignoreMerges: Bool
  // Words repeat a lot in real text; the cache is shared between threads behind a lock.
  private var cache: [String: [Int]] = [:]
  private let cacheLock = NSLock()
  private static let cacheLimit = 65_536

  init(vocabulary: TokenizerVocabulary, tokenIDs: [String: Int], ignoreMerges: Bool) {
    self.tokenIDs = tokenIDs
    self.ignoreMerges = ignoreMerges
    byteTokens = ByteLevelAlphabet.scalars.map { tokenIDs[String($0)].map(Int32.init) ?? -1 }
    var table: [UInt64: UInt64] = [:]
    table.reserveCapacity(vocabulary.merges.count)
    for (rank, (a, b)) in vocabulary.merges.enumerated() {
      // A merge naming a token the vocabulary lacks can never fire; llama.cpp skips it too in
      // effect, since the merged text would have no id.
      guard let left = tokenIDs[a], let right = tokenIDs[b], let merged = tokenIDs[a + b] else { continue }
      let key = UInt64(left) << 32 | UInt64(right)
      if table[key] == nil { table[key] = UInt64(rank) << 32 | UInt64(merged) }
    }
    merges = table
  }

  func encode(word: String, into output: inout [Int]) {
    cacheLock.lock()
    let cached = cache[word]
    cacheLock.unlock()
    if let cached {
      output.append(contentsOf: cached)
      return
    }
    let ids = encodeUncached(Array(word.utf8))
    cacheLock.lock()
    if cache.count >= Self.cacheLimit { cache.removeAll(keepingCapacity: true) }
    cache[word] = ids
    cacheLock.unlock()
    output.append(contentsOf: ids)
  }

  private struct Pair: Comparable {
    let rank: UInt32
    let left: Int32
    let right: Int32
    let merged: Int32
    let leftID: Int32
    let rightID: Int32
    static func < (a: Pair, b: Pair) -> Bool { a.rank != b.rank ? a.rank < b.rank : a.left < b.left }
  }

  private func encodeUncached(_ bytes: [UInt8]) -> [Int] {
    if ignoreMerges, let id = tokenIDs[ByteLevelAlphabet.encode(bytes)] { return [id] }
    let n = bytes.count
    if n == 1 { return byteTokens[Int(bytes[0])] >= 0 ? [Int(byteTokens[Int(bytes[0])])] : [] }
    var ids = bytes.map { byteTokens[Int($0)] }
    var prev = (0..<n).map { Int32($0) - 1 }
    var next = (0..<n).map { $0 + 1 < n ? Int32($0 + 1) : -1 }
    var heap = MinHeap<Pair>(capacity: n)

    func addPair(_ left: Int32, _ right: Int32) {
      guard left >= 0, right >= 0 else { return }
      let a = ids[Int(left)]
      let b = ids[Int(right)]
      guard a >= 0, b >= 0, let entry = merges[UInt64(a) << 32 | UInt64(b)] else { return }
      heap.push(
        Pair(
          rank: UInt32(entry >> 32), left: left, right: right, merged: Int32(truncatingIfNeeded: entry),
          leftID: a, rightID: b))
    }

    for i in 1..<n { addPair(Int32(i - 1), Int32(i)) }
    while let pair = heap.pop() {
      let l = Int(pair.left)
      let r = Int(pair.right)
      // Stale entries: one side was merged away or into something else since this was queued.
      guard ids[l] == pair.leftID, ids[r] == pair.rightID, next[l] == pair.right else { continue }
      ids[l] = pair.merged
      ids[r] = -2  // merged away
      next[l] = next[r]
      if next[r] >= 0 { prev[Int(next[r])] = pair.left }
      addPair(prev[l], pair.left)
      addPair(pair.left, next[l])
    }
    var out: [Int] = []
    var i: Int32 = 0
    while i >= 0 {
      // A byte missing from the vocabulary yields nothing, as in llama.cpp.
      if ids[Int(i)] >= 0 { out.append(Int(ids[Int(i)])) }
      i = next[Int(i)]
    }
    return out
  }
}
