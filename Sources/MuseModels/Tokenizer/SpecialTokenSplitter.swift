import Foundation

/// A piece of the input: plain text for the pipeline, or a special token written in the text.
enum TextFragment: Equatable {
  case text(String)
  case token(Int)
}

/// Splits special tokens out of the text before anything else runs (llama.cpp
/// `tokenizer_st_partition`): tokens typed control, user-defined or unknown, longest first, each
/// cutting every remaining text piece at its occurrences. User-defined tokens are always
/// matched; control and unknown ones only when the caller parses special tokens.
struct SpecialTokenSplitter: Sendable {
  private struct Special {
    let bytes: [UInt8]
    let id: Int
    let onlyWhenParsingSpecial: Bool
  }
  private let specials: [Special]

  init(tokens: [String], types: [TokenType]) {
    var list: [Special] = []
    for (id, type) in types.enumerated() where type.isSpecial && !tokens[id].isEmpty {
      list.append(
        Special(bytes: Array(tokens[id].utf8), id: id, onlyWhenParsingSpecial: type != .userDefined))
    }
    // Longest first, so "<|im_start|>" is not cut by a shorter token inside it; ties by id.
    list.sort { $0.bytes.count != $1.bytes.count ? $0.bytes.count > $1.bytes.count : $0.id < $1.id }
    specials = list
  }

  func split(_ text: String, parseSpecial: Bool) -> [TextFragment] {
    guard !text.isEmpty else { return [] }
    let bytes = Array(text.utf8)
    // Pieces as byte ranges; id < 0 marks text.
    var pieces: [(id: Int, range: Range<Int>)] = [(-1, 0..<bytes.count)]
    for special in specials where parseSpecial || !special.onlyWhenParsingSpecial {
      var next: [(id: Int, range: Range<Int>)] = []
      var changed = false
      for piece in pieces {
        guard piece.id < 0 else {
          next.append(piece)
          continue
        }
        var start = piece.range.lowerBound
        while let hit = Self.find(special.bytes, in: bytes, from: start, to: piece.range.upperBound) {
          if hit > start { next.append((-1, start..<hit)) }
          next.append((special.id, hit..<(hit + special.bytes.count)))
          start = hit + special.bytes.count
          changed = true
        }
        if start < piece.range.upperBound { next.append((-1, start..<piece.range.upperBound)) }
      }
      if changed { pieces = next }
    }
    return pieces.map { piece in
      piece.id >= 0 ? .token(piece.id) : .text(String(decoding: bytes[piece.range], as: UTF8.self))
    }
  }

  /// The first position ≥ `from` where `needle` occurs entirely before `to`.
  private static func find(_ needle: [UInt8], in haystack: [UInt8], from: Int, to: Int) -> Int? {
    let n = needle.count
    guard n > 0, to - from >= n else { return nil }
    return haystack.withUnsafeBufferPointer { h in
      needle.withUnsafeBufferPointer { p in
        let base = h.baseAddress!
        var i = from
        let last = to - n
        while i <= last {
          // memchr finds candidate first bytes far faster than a byte loop.
          guard let hit = memchr(base + i, Int32(p[0]), last - i + 1) else { return nil }
          i = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
          if memcmp(base + i, p.baseAddress!, n) == 0 { return i }
          i += 1
        }
        return nil
      }
    }
  }
}
