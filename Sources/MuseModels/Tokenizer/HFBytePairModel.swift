import Foundation

/// The `BPE` model of `tokenizer.json` (HF `tokenizers` `models/bpe`): a word starts as one
/// symbol per character — a character missing from the vocabulary becomes its UTF-8 bytes as
/// `<0xXX>` tokens (`byte_fallback`) or the unknown token (runs fused with `fuse_unk`) — then
/// the adjacent pair with the lowest merge rank is merged, leftmost first on ties, until no pair
/// is in the merge table. Byte-level vocabularies need nothing special: their pre-tokenizer has
/// already written the word in GPT-2's byte alphabet.
final class HFBytePairModel: @unchecked Sendable {
  private let tokenIDs: [String: Int]
  /// Key `left << 32 | right`, value `rank << 32 | merged`.
  private let merges: [UInt64: UInt64]
  private let unknownToken: Int?
  private let fuseUnknown: Bool
  private let byteFallback: [Int]?
  private let ignoreMerges: Bool
  private let continuingPrefix: String
  private let endOfWordSuffix: String
  private var cache: [String: [Int]] = [:]
  private let cacheLock = NSLock()

  init(
    tokenIDs: [String: Int], merges: [(String, String)], unknownToken: Int?, fuseUnknown: Bool,
    byteFallback usesByteFallback: Bool, ignoreMerges: Bool, continuingPrefix: String, endOfWordSuffix: String
  ) {
    self.tokenIDs = tokenIDs
    self.unknownToken = unknownToken
    self.fuseUnknown = fuseUnknown
    self.ignoreMerges = ignoreMerges
    self.continuingPrefix = continuingPrefix
    self.endOfWordSuffix = endOfWordSuffix
    let bytes = (0..<256).map { tokenIDs["<0x" + String(format: "%02X", $0) + ">"] ?? -1 }
    byteFallback = usesByteFallback && !bytes.contains(-1) ? bytes : nil
    var table: [UInt64: UInt64] = [:]
    table.reserveCapacity(merges.count)
    for (rank, (a, b)) in merges.enumerated() {
      let joined = a + (b.hasPrefix(continuingPrefix) ? String(b.dropFirst(continuingPrefix.count)) : b)
      guard let l = tokenIDs[a], let r = tokenIDs[b], let m = tokenIDs[joined] else { continue }
      let key = UInt64(l) << 32 | UInt64(r)
      if table[key] == nil { table[key] = UInt64(rank) << 32 | UInt64(m) }
    }
    self.merges = table
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
    if cache.count >= 65_536 { cache.removeAll(keepingCapacity: true) }
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

  private func encodeUncached(_ word: String) -> [Int] {
    if ignoreMerges, let id = tokenIDs[word] { return [id] }
    // Initial symbols.
    var ids: [Int32] = []
    // Characters as Rust (and HF) count them: Unicode scalars, not grapheme clusters.
    let characters = Array(word.unicodeScalars)
    var lastWasUnknown = false
    for (i, ch) in characters.enumerated() {
      var s = String(ch)
      if i > 0 { s = continuingPrefix + s }
      if i == characters.count - 1 { s += endOfWordSuffix }
      if let id = tokenIDs[s] {
        ids.append(Int32(id))
        lastWasUnknown = false
      } else if let bytes = byteFallback {
        for b in String(ch).utf8 { ids.append(Int32(bytes[Int(b)])) }
        lastWasUnknown = false
      } else if let unk = unknownToken {
        if !(fuseUnknown && lastWasUnknown) { ids.append(Int32(unk)) }
        lastWasUnknown = true
      }
    }
    let n = ids.count
    guard n > 1 else { return ids.map(Int.init) }
    var prev = (0..<n).map { Int32($0) - 1 }
    var next = (0..<n).map { $0 + 1 < n ? Int32($0 + 1) : -1 }
    var heap = MinHeap<Pair>(capacity: n)
    func addPair(_ left: Int32, _ right: Int32) {
      guard left >= 0, right >= 0 else { return }
      let a = ids[Int(left)]
      let b = ids[Int(right)]
      guard let entry = merges[UInt64(a) << 32 | UInt64(b)] else { return }
      heap.push(
        Pair(
          rank: UInt32(entry >> 32), left: left, right: right, merged: Int32(truncatingIfNeeded: entry),
          leftID: a, rightID: b))
    }
    for i in 1..<n { addPair(Int32(i - 1), Int32(i)) }
    while let pair = heap.pop() {
      let l = Int(pair.left)
      let r = Int(pair.right)
      guard ids[l] == pair.leftID, ids[r] == pair.rightID, next[l] == pair.right else { continue }
      ids[l] = pair.merged
      ids[r] = -2
      next[l] = next[r]
      if next[r] >= 0 { prev[Int(next[r])] = pair.left }
      addPair(prev[l], pair.left)
      addPair(pair.left, next[l])
    }
    var out: [Int] = []
    var i: Int32 = 0
    while i >= 0 {
      out.append(Int(ids[Int(i)]))
      i = next[Int(i)]
    }
    return out
  }
}

/// normalizer → pre-tokenizer → model, as a `tokenizer.json` describes them.
struct HFTokenizationPipeline: TokenizationPipeline {
  let normalizer: (any TextNormalizer)?
  let preTokenizer: (any WordSplitter)?
  let model: HFWordModel

  func encode(_ text: String, afterSpecial: Bool, into ids: inout [Int]) {
    encode(text, afterSpecial: afterSpecial, atStart: afterSpecial, into: &ids)
  }

  func encode(_ text: String, afterSpecial: Bool, atStart: Bool, into ids: inout [Int]) {
    let normalized = normalizer?.normalize(text) ?? text
    guard !normalized.isEmpty else { return }
    let words = preTokenizer?.split([normalized], atStart: atStart) ?? [normalized]
    for word in words where !word.isEmpty { model.encode(word: word, into: &ids) }
  }
}

/// The model stage: BPE, or WordPiece (Muse's `WordPieceEncoder`).
enum HFWordModel: @unchecked Sendable {
  case bytePair(HFBytePairModel)
  case wordPiece(WordPieceEncoder)

  func encode(word: String, into ids: inout [Int]) {
    switch self {
    case .bytePair(let m): m.encode(word: word, into: &ids)
    case .wordPiece(let m): m.encode(word: word, into: &ids)
    }
  }
}
