import Foundation

/// A `tokenizer.json` pre-tokenizer (HF `tokenizers` `pre_tokenizers`): each word becomes one or
/// more words. `atStart`: the piece is the very start of the input (Metaspace's "first").
protocol WordSplitter: Sendable {
  func split(_ words: [String], atStart: Bool) -> [String]
}

/// How `Split` treats the matches (HF `SplitDelimiterBehavior`).
enum SplitBehavior: String {
  case removed = "Removed"
  case isolated = "Isolated"
  case mergedWithPrevious = "MergedWithPrevious"
  case mergedWithNext = "MergedWithNext"
  case contiguous = "Contiguous"

  /// Joins segments (matched or not) into words as the behaviour says.
  func apply(_ segments: [(text: String, isMatch: Bool)]) -> [String] {
    var out: [String] = []
    var pendingPrefix = ""
    var lastWasMatch = false
    for (text, isMatch) in segments {
      switch self {
      case .isolated: out.append(text)
      case .removed: if !isMatch { out.append(text) }
      case .mergedWithPrevious:
        if isMatch, !out.isEmpty, !lastWasMatch { out[out.count - 1] += text } else { out.append(text) }
      case .mergedWithNext:
        if isMatch {
          pendingPrefix += text
        } else {
          out.append(pendingPrefix + text)
          pendingPrefix = ""
        }
      case .contiguous:
        if isMatch, lastWasMatch, !out.isEmpty { out[out.count - 1] += text } else { out.append(text) }
      }
      lastWasMatch = isMatch
    }
    if !pendingPrefix.isEmpty { out.append(pendingPrefix) }
    return out
  }
}

/// `Split`: a regex or string pattern, with a behaviour for the matches; `invert` swaps which
/// pieces count as matches.
struct SplitPreTokenizer: WordSplitter {
  let pattern: TextPattern
  let behavior: SplitBehavior
  let invert: Bool

  func split(_ words: [String], atStart: Bool) -> [String] {
    words.flatMap { word in
      behavior.apply(pattern.segments(word).map { ($0.text, $0.isMatch != invert) })
    }
  }
}

/// `ByteLevel`: optional space prefix, GPT-2's regex split, then every byte written in GPT-2's
/// byte alphabet (so the BPE model sees "Ġworld").
struct ByteLevelPreTokenizer: WordSplitter {
  static let gpt2Pattern = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
  let addPrefixSpace: Bool
  let regex: RegexSplitPreTokenizer?

  init(addPrefixSpace: Bool, useRegex: Bool) throws {
    self.addPrefixSpace = addPrefixSpace
    regex = useRegex ? try RegexSplitPreTokenizer(patterns: [Self.gpt2Pattern]) : nil
  }

  func split(_ words: [String], atStart: Bool) -> [String] {
    words.flatMap { word -> [String] in
      let w = addPrefixSpace && !word.hasPrefix(" ") ? " " + word : word
      return (regex?.words(w) ?? [w]).map { ByteLevelAlphabet.encode($0.utf8) }
    }
  }
}

/// `Metaspace`: spaces become "▁"; "▁" is put in front when the scheme says (always, or only
/// at the start of the input for "first") and the piece does not already start with one;
/// `split` cuts before every "▁".
struct MetaspacePreTokenizer: WordSplitter {
  let replacement: String
  let prependScheme: String
  let splits: Bool

  func split(_ words: [String], atStart: Bool) -> [String] {
    var out: [String] = []
    for (i, word) in words.enumerated() {
      var w = word.replacingOccurrences(of: " ", with: replacement)
      let prepend = prependScheme == "always" || (prependScheme == "first" && atStart && i == 0)
      if prepend && !w.hasPrefix(replacement) { w = replacement + w }
      guard splits else {
        out.append(w)
        continue
      }
      var current = String.UnicodeScalarView()
      let mark = replacement.unicodeScalars.first
      for ch in w.unicodeScalars {
        if ch == mark && !current.isEmpty {
          out.append(String(current))
          current = String.UnicodeScalarView()
        }
        current.append(ch)
      }
      if !current.isEmpty { out.append(String(current)) }
    }
    return out
  }
}

/// `Digits`: digits split from the rest, each alone or in runs.
struct DigitsPreTokenizer: WordSplitter {
  let individual: Bool
  func split(_ words: [String], atStart: Bool) -> [String] {
    words.flatMap { word -> [String] in
      var out: [String] = []
      var current = String.UnicodeScalarView()
      var currentIsDigit = false
      for ch in word.unicodeScalars {
        let isDigit = ch.properties.numericType != nil
        if !current.isEmpty && (isDigit != currentIsDigit || (isDigit && individual)) {
          out.append(String(current))
          current = String.UnicodeScalarView()
        }
        current.append(ch)
        currentIsDigit = isDigit
      }
      if !current.isEmpty { out.append(String(current)) }
      return out
    }
  }
}

/// `Whitespace` (`\w+|[^\w\s]+`, whitespace dropped) and `WhitespaceSplit` (split at
/// whitespace).
struct WhitespacePreTokenizer: WordSplitter {
  let regex: RegexSplitPreTokenizer?

  init(splitPunctuation: Bool) throws {
    regex = splitPunctuation ? try RegexSplitPreTokenizer(patterns: [#"\w+|[^\w\s]+"#]) : nil
  }

  func split(_ words: [String], atStart: Bool) -> [String] {
    words.flatMap { word -> [String] in
      let parts = regex?.words(word) ?? [word]
      return parts.flatMap { $0.split(whereSeparator: \.isWhitespace).map(String.init) }
    }
  }
}

/// `Punctuation`: every punctuation character its own word.
struct PunctuationPreTokenizer: WordSplitter {
  func split(_ words: [String], atStart: Bool) -> [String] {
    words.flatMap { word -> [String] in
      var out: [String] = []
      var current = String.UnicodeScalarView()
      for ch in word.unicodeScalars {
        if ch.properties.generalCategory.isPunctuation {
          if !current.isEmpty { out.append(String(current)) }
          out.append(String(ch))
          current = String.UnicodeScalarView()
        } else {
          current.append(ch)
        }
      }
      if !current.isEmpty { out.append(String(current)) }
      return out
    }
  }
}

/// `BertPreTokenizer`: Muse's BERT splitter.
struct BertWordSplitter: WordSplitter {
  func split(_ words: [String], atStart: Bool) -> [String] { words.flatMap { BertPreTokenizer().words($0) } }
}

struct PreTokenizerSequence: WordSplitter {
  let steps: [any WordSplitter]
  func split(_ words: [String], atStart: Bool) -> [String] {
    steps.reduce(words) { $1.split($0, atStart: atStart) }
  }
}

extension Unicode.GeneralCategory {
  fileprivate var isPunctuation: Bool {
    switch self {
    case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation,
      .finalPunctuation, .otherPunctuation:
      true
    default: false
    }
  }
}
