import Foundation

/// Splits a fragment of text (no special tokens inside) into the words the model encodes one by
/// one (HF `tokenizers` `pre_tokenizers`). Words concatenate back to the fragment exactly.
protocol PreTokenizer: Sendable {
  func words(_ text: String) -> [String]
}

/// The whole fragment is one word (SentencePiece works on the full text).
struct WholeTextPreTokenizer: PreTokenizer {
  func words(_ text: String) -> [String] { text.isEmpty ? [] : [text] }
}

/// llama.cpp's `unicode_regex_split`: each regex in turn splits every current piece into its
/// matches and the unmatched text between them, which is what a `Sequence` of HF `Split`
/// pre-tokenizers with behaviour `Isolated` does. Regexes run with ICU (`NSRegularExpression`),
/// a backtracking engine with the same semantics as HF's Oniguruma for these patterns
/// (`\s+(?!\S)` leaves the last space of a run for the next word); each piece is matched on
/// its own, so lookaheads stop at the piece's end as in llama.cpp.
struct RegexSplitPreTokenizer: PreTokenizer, @unchecked Sendable {
  // NSRegularExpression is immutable and documented as safe to share between threads.
  private let regexes: [NSRegularExpression]

  init(patterns: [String]) throws {
    regexes = try patterns.map { try NSRegularExpression(pattern: $0, options: []) }
  }

  func words(_ text: String) -> [String] {
    guard !text.isEmpty else { return [] }
    var pieces = [text]
    for regex in regexes {
      var next: [String] = []
      next.reserveCapacity(pieces.count * 2)
      for piece in pieces { split(piece, by: regex, into: &next) }
      pieces = next
    }
    return pieces
  }

  private func split(_ piece: String, by regex: NSRegularExpression, into out: inout [String]) {
    let ns = NSString(string: piece)
    let length = ns.length
    var cursor = 0
    for match in regex.matches(in: piece, options: [], range: NSRange(location: 0, length: length)) {
      let r = match.range
      guard r.length > 0 else { continue }
      if r.location > cursor {
        out.append(ns.substring(with: NSRange(location: cursor, length: r.location - cursor)))
      }
      out.append(ns.substring(with: r))
      cursor = r.location + r.length
    }
    if cursor == 0 {
      out.append(piece)
    } else if cursor < length {
      out.append(ns.substring(with: NSRange(location: cursor, length: length - cursor)))
    }
  }
}
