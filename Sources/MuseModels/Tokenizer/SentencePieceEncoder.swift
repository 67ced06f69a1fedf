/// SentencePiece BPE as llama.cpp runs it (`llm_tokenizer_spm_session`): the text's UTF-8
/// characters start as symbols; the adjacent pair whose concatenation is the vocabulary piece
/// with the highest score is merged (leftmost on ties) until no pair is a piece. Merged symbols
/// are pieces by construction, so only single characters can be missing from the vocabulary:
/// those become byte tokens `<0xXX>` (byte fallback).
struct SentencePieceEncoder: Sendable {
  private let tokenIDs: [String: Int]
  private let scores: [Float]
  /// `<0xXX>` of each byte value, -1 when missing.
  private let byteTokens: [Int]
  private let unknownToken: Int?

  init(vocabulary: TokenizerVocabulary, tokenIDs: [String: Int]) {
    self.tokenIDs = tokenIDs
    scores =
      vocabulary.scores.isEmpty ? Array(repeating: 0, count: vocabulary.tokens.count) : vocabulary.scores
    byteTokens = (0..<256).map { b in
      tokenIDs["<0x" + String(b, radix: 16, uppercase: true).leftPadded(to: 2) + ">"]
        ?? tokenIDs[String(UnicodeScalar(UInt8(b)))] ?? -1
    }
    unknownToken = vocabulary.unknownToken
  }

  private struct Bigram: Comparable {
    // 32-bit fields keep the heap's elements small (20 bytes): it is the hot loop.
    let score: Float
    let left: Int32
    let right: Int32
    let size: Int32
    let merged: Int32
    /// Highest score first, then leftmost.
    static func < (a: Bigram, b: Bigram) -> Bool { a.score != b.score ? a.score > b.score : a.left < b.left }
  }

  /// Encodes text whose spaces are already escaped as "▁".
  func encode(_ text: String, into output: inout [Int]) {
    let bytes = Array(text.utf8)
    guard !bytes.isEmpty else { return }
    var start: [Int] = []
    var length: [Int] = []
    var offset = 0
    while offset < bytes.count {
      let n = min(Self.utf8Length(bytes[offset]), bytes.count - offset)
      start.append(offset)
      length.append(n)
      offset += n
    }
    let count = start.count
    var prev = (0..<count).map { $0 - 1 }
    var next = (0..<count).map { $0 + 1 < count ? $0 + 1 : -1 }
    var heap = MinHeap<Bigram>(capacity: count)

    func pieceText(_ from: Int, _ n: Int) -> String {
      String(decoding: bytes[from..<(from + n)], as: UTF8.self)
    }

    // Each symbol's piece id (-1: a character that is no piece). Lookups of a pair of pieces are
    // cached by id: text repeats, and building the concatenated string is the expensive part.
    var characterIDs: [UInt32: Int] = [:]
    var ids = [Int](repeating: -1, count: count)
    for i in 0..<count {
      var key: UInt32 = 0
      for b in bytes[start[i]..<(start[i] + length[i])] { key = key << 8 | UInt32(b) }
      if let id = characterIDs[key] {
        ids[i] = id
      } else {
        let id = tokenIDs[pieceText(start[i], length[i])] ?? -1
        characterIDs[key] = id
        ids[i] = id
      }
    }
    var pairIDs: [UInt64: Int] = [:]

    func addBigram(_ left: Int, _ right: Int) {
      guard left >= 0, right >= 0 else { return }
      let merged: Int
      if ids[left] >= 0 && ids[right] >= 0 {
        let key = UInt64(ids[left]) << 32 | UInt64(ids[right])
        if let cached = pairIDs[key] {
          merged = cached
        } else {
          merged = tokenIDs[pieceText(start[left], length[left] + length[right])] ?? -1
          pairIDs[key] = merged
        }
      } else {
        merged = tokenIDs[pieceText(start[left], length[left] + length[right])] ?? -1
      }
      guard merged >= 0 else { return }
      heap.push(
        Bigram(
          score: scores[merged], left: Int32(left), right: Int32(right),
          size: Int32(length[left] + length[right]), merged: Int32(merged)))
    }

    for i in 1..<max(count, 1) { addBigram(i - 1, i) }
    while let bigram = heap.pop() {
      let l = Int(bigram.left)
      let r = Int(bigram.right)
      // Stale: a side was merged since (symbols only grow, so the sizes tell).
      guard length[l] > 0, length[r] > 0, length[l] + length[r] == Int(bigram.size) else { continue }
      length[l] += length[r]
      length[r] = 0
      ids[l] = Int(bigram.merged)
      next[l] = next[r]
      if next[r] >= 0 { prev[next[r]] = l }
      addBigram(prev[l], l)
      addBigram(l, next[l])
    }

    func emit(_ i: Int) {
      if ids[i] >= 0 {
        output.append(ids[i])
      } else {
        for b in bytes[start[i]..<(start[i] + length[i])] {
          let id = byteTokens[Int(b)]
          if id >= 0 {
            output.append(id)
          } else if let unknownToken {
            output.append(unknownToken)
          }
        }
      }
    }
    var i = 0
    while i >= 0 {
      emit(i)
      i = next[i]
    }
  }

  /// Length of the UTF-8 sequence a lead byte starts (llama.cpp `unicode_len_utf8`).
  private static func utf8Length(_ lead: UInt8) -> Int {
    switch lead >> 4 {
    case 0xF: 4
    case 0xE: 3
    case 0xC, 0xD: 2
    default: 1
    }
  }
}

extension String {
  fileprivate func leftPadded(to width: Int) -> String {
    count >= width ? self : String(repeating: "0", count: width - count) + self
  }
}
