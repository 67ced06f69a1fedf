import Foundation

/// The BPE model, for GGUF vocabularies (`tokenizer.ggml.model == "gpt2"`, llama.cpp
/// `llm_tokenizer_bpe_session`) and `tokenizer.json` ones (HF `tokenizers` `models/bpe`) alike:
/// a word starts as a row of symbols (`Symbols`), then the adjacent pair with the lowest merge
/// rank is merged, leftmost first on ties, until no pair is in the merge table. Works on token
/// ids: a merge is a table entry (left id, right id) → (rank, merged id).
final class BytePairEncoder: @unchecked Sendable {
  /// How a word becomes its first symbols.
  enum Symbols: Sendable {
    /// GGUF byte-level BPE: the word's UTF-8 bytes, one symbol each (the byte's token in GPT-2's
    /// byte alphabet). A byte the vocabulary lacks stays a symbol that never merges and yields
    /// nothing, as in llama.cpp.
    case bytes
    /// `tokenizer.json` BPE: one symbol per character (Unicode scalar, as Rust counts them),
    /// after the first prefixed with `continuingPrefix`, the last suffixed with
    /// `endOfWordSuffix`. A character missing from the vocabulary becomes its UTF-8 bytes as
    /// `<0xXX>` tokens (`byteFallback`) or the unknown token (runs fused with `fuseUnknown`).
    /// Byte-level vocabularies need nothing special: their pre-tokenizer has already written
    /// the word in GPT-2's byte alphabet.
    case characters(
      continuingPrefix: String, endOfWordSuffix: String, unknownToken: Int?, fuseUnknown: Bool,
      byteFallback: Bool)
  }

  private let tokenIDs: [String: Int]
  /// Key `left << 32 | right`, value `rank << 32 | merged`.
  private let merges: [UInt64: UInt64]
  private let symbols: Symbols
  private let ignoreMerges: Bool
  /// `.bytes`: the token of each byte value in GPT-2's byte alphabet. `.characters` with
  /// `byteFallback`: the `<0xXX>` token of each byte value, or nil unless all 256 exist.
  /// -1 where the vocabulary lacks the token.
  private let byteTokens: [Int32]?
  // Words repeat a lot in real text; the cache is shared between threads behind a lock.
  private var cache: [String: [Int]] = [:]
  private let cacheLock = NSLock()
  private static let cacheLimit = 65_536

  /// `merges` in rank order. With `ignoreMerges` a word that is itself a token is that token.
  init(tokenIDs: [String: Int], merges mergeList: [(String, String)], symbols: Symbols, ignoreMerges: Bool) {
    self.tokenIDs = tokenIDs
    self.symbols = symbols
    self.ignoreMerges = ignoreMerges
    var continuingPrefix = ""
    switch symbols {
    case .bytes:
      byteTokens = ByteLevelAlphabet.scalars.map { tokenIDs[String($0)].map(Int32.init) ?? -1 }
    case .characters(let prefix, _, _, _, let usesByteFallback):
      continuingPrefix = prefix
      let bytes = (0..<256).map { Int32(tokenIDs["<0x" + String(format: "%02X", $0) + ">"] ?? -1) }
      byteTokens = usesByteFallback && !bytes.contains(-1) ? bytes : nil
    }
    var table: [UInt64: UInt64] = [:]
    table.reserveCapacity(mergeList.count)
    for (rank, (a, b)) in mergeList.enumerated() {
      let joined =
        continuingPrefix.isEmpty || !b.hasPrefix(continuingPrefix)
        ? a + b : a + b.dropFirst(continuingPrefix.count)
      // A merge naming a token the vocabulary lacks can never fire; llama.cpp skips it too in
      // effect, since the merged text would have no id.
      guard let left = tokenIDs[a], let right = tokenIDs[b], let merged = tokenIDs[joined] else { continue }
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
    let ids = encodeUncached(word)
    cacheLock.lock()
    if cache.count >= Self.cacheLimit { cache.removeAll(keepingCapacity: true) }
    cache[word] = ids
    cacheLock.unlock()
    output.append(contentsOf: ids)
  }

  private func encodeUncached(_ word: String) -> [Int] {
    switch symbols {
    case .bytes:
      let bytes = Array(word.utf8)
      if ignoreMerges, let id = tokenIDs[ByteLevelAlphabet.encode(bytes)] { return [id] }
      return merge(bytes.map { byteTokens![Int($0)] })
    case .characters(let continuingPrefix, let endOfWordSuffix, let unknownToken, let fuseUnknown, _):
      if ignoreMerges, let id = tokenIDs[word] { return [id] }
      var ids: [Int32] = []
      let characters = Array(word.unicodeScalars)
      var lastWasUnknown = false
      for (i, ch) in characters.enumerated() {
        var s = String(ch)
        if i > 0 { s = continuingPrefix + s }
        if i == characters.count - 1 { s += endOfWordSuffix }
        if let id = tokenIDs[s] {
          ids.append(Int32(id))
          lastWasUnknown = false
        } else if let bytes = byteTokens {
          for b in String(ch).utf8 { ids.append(bytes[Int(b)]) }
          lastWasUnknown = false
        } else if let unk = unknownToken {
          if !(fuseUnknown && lastWasUnknown) { ids.append(Int32(unk)) }
          lastWasUnknown = true
        }
      }
      return merge(ids)
    }
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

  /// Merges `ids` (negative: a symbol with no token, which never merges and yields nothing).
  private func merge(_ symbols: [Int32]) -> [Int] {
    var ids = symbols
    let n = ids.count
    guard n > 0 else { return [] }
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
      if ids[Int(i)] >= 0 { out.append(Int(ids[Int(i)])) }
      i = next[Int(i)]
    }
    return out
  }
}
