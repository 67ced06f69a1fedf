import Foundation
import MuseTestSupport
import Testing

@testable import MuseServer

/// The bundled offensive-language model against scikit-learn's own logits for the same texts
/// (Scripts/guard/offensive_language.py → Tests/Fixtures/guard/offensive-language-golden.json:
/// alt-profanity-check's TfidfVectorizer and its five calibrated SVMs' decision functions).
struct OffensiveLanguageModelTests {
  struct Golden: Decodable {
    struct Item: Decodable {
      let text: String
      let logit: Double
    }
    /// Python's own rules over every scalar (Scripts/guard/offensive_language.py).
    struct PythonUnicode: Decodable {
      let version: String
      let assigned: [[UInt32]]
      let word: [[UInt32]]
      let lower: [[LowerEntry]]
    }
    enum LowerEntry: Decodable {
      case scalar(UInt32)
      case text(String)
      init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let v = try? c.decode(UInt32.self) {
          self = .scalar(v)
        } else {
          self = .text(try c.decode(String.self))
        }
      }
    }
    let items: [Item]
    let python_unicode: PythonUnicode
  }

  /// Every golden text's logit within 1e-6 of scikit-learn's (the resource keeps 9 significant
  /// digits), among them texts whose words only Python's tokenizer rules find: upper case,
  /// non-ASCII vocabulary words, a decomposed accent or an emoji ending a word, `_` and
  /// numbers inside one, and no word at all (the bias alone).
  @Test func logitsMatchScikitLearn() throws {
    let golden = try TestPaths.golden("guard/offensive-language-golden.json", as: Golden.self)
    let model = try OffensiveLanguageModel.bundled()
    #expect(golden.items.count >= 15)
    for item in golden.items {
      let ours = model.logit(item.text)
      #expect(abs(ours - item.logit) <= 1e-6, "\(item.text.prefix(40)): \(ours) vs \(item.logit)")
    }
    let abusive = try #require(golden.items.first { $0.text.hasPrefix("shut the fuck") })
    let calm = try #require(golden.items.first { $0.text.hasPrefix("What's the best recipe") })
    #expect(abusive.logit > 10 && calm.logit < -3)
    #expect(model.logit("") == model.bias && model.logit("a b ☃") == model.bias)
  }

  /// Python's `\w`: letters, anything with a numeric type, `_`; not marks, symbols, punctuation.
  @Test func wordScalarsAreThoseOfPythonsRegex() {
    let word: [Unicode.Scalar] = ["a", "Z", "é", "ß", "Σ", "東", "ー", "_", "7", "٣", "½", "①", "Ⅻ"]
    let other: [Unicode.Scalar] = [
      " ", "-", "'", "\u{2019}", "\u{0301}", "\u{0307}", "😀", "☃", "—", "$", "\u{200D}",
    ]
    for s in word { #expect(OffensiveLanguageModel.isWordScalar(s), "\(s)") }
    for s in other { #expect(!OffensiveLanguageModel.isWordScalar(s), "\(s.value)") }
    let model = try? OffensiveLanguageModel.bundled()
    // One-letter words never count; `stupid_idiot` is one word (not in the vocabulary).
    #expect(model?.counts("I a stupid_idiot") == [:])
    #expect(model?.counts("IDIOT idiot\u{0301} idiot😀").values.reduce(0, +) == 3)
  }

  /// Every scalar Python's Unicode database assigns (14.0 in Python 3.11): `\w` and `str.lower()`
  /// as Python gives them, against `isWordScalar` and `pythonLowercased` (scalars assigned only in
  /// later Unicode versions are Python's unassigned, not words, and are left out).
  @Test func everyAssignedScalarIsSplitAndLowerCasedAsPythonDoes() throws {
    let unicode = try TestPaths.golden("guard/offensive-language-golden.json", as: Golden.self).python_unicode
    func contains(_ ranges: [[UInt32]], _ v: UInt32) -> Bool {
      var lo = 0
      var hi = ranges.count
      while lo < hi {
        let mid = (lo + hi) / 2
        if ranges[mid][1] < v { lo = mid + 1 } else { hi = mid }
      }
      return lo < ranges.count && ranges[lo][0] <= v
    }
    var lower: [UInt32: String] = [:]
    for entry in unicode.lower {
      guard entry.count == 2, case .scalar(let v) = entry[0], case .text(let t) = entry[1] else {
        Issue.record("a malformed lower entry")
        continue
      }
      lower[v] = t
    }
    #expect(unicode.version == "14.0.0" && lower.count > 1_000)
    var checked = 0
    var wordMismatches: [UInt32] = []
    var lowerMismatches: [UInt32] = []
    for range in unicode.assigned {
      for v in range[0]...range[1] {
        guard let scalar = Unicode.Scalar(v) else { continue }
        checked += 1
        if OffensiveLanguageModel.isWordScalar(scalar) != contains(unicode.word, v) {
          wordMismatches.append(v)
        }
        var ours = String.UnicodeScalarView()
        ours += OffensiveLanguageModel.pythonLowercased(String(scalar))
        if !String(ours).unicodeScalars.elementsEqual((lower[v] ?? String(scalar)).unicodeScalars) {
          lowerMismatches.append(v)
        }
      }
    }
    #expect(checked > 280_000)
    #expect(
      wordMismatches.isEmpty,
      "\(wordMismatches.count): \(wordMismatches.prefix(20).map { String($0, radix: 16) })")
    #expect(
      lowerMismatches.isEmpty,
      "\(lowerMismatches.count): \(lowerMismatches.prefix(20).map { String($0, radix: 16) })")
  }

  /// Python's `str.lower()`: full mappings, and the final sigma only where a word ends.
  @Test func lowercasingIsPythons() {
    func lower(_ s: String) -> String {
      var out = String.UnicodeScalarView()
      out += OffensiveLanguageModel.pythonLowercased(s)
      return String(out)
    }
    // Each expected string is Python 3.11's `.lower()` of the input.
    #expect(lower("ΕΤΗΤΗΣ ΣΑΣ.") == "ετητης σας.")
    #expect(lower("Σ ΑΣ' ΑΣΑ Σ") == "σ ας' ασα σ")
    #expect(lower("İstanbul ÉTÉ Straße") == "i\u{0307}stanbul été straße")
  }

  /// A resource that is not what the type implements is refused with a reason, not misread.
  @Test func malformedResourcesAreRefused() throws {
    func resource(_ change: (inout [String: Any]) -> Void) throws -> Data {
      var r: [String: Any] = [
        "format": "muse-offensive-language/1", "lowercase": true, "token_pattern": #"(?u)\b\w\w+\b"#,
        "norm": "l2", "feature_scale": 0.2, "bias": -1.0, "words": ["idiot", "moron"], "idf": [2.0, 3.0],
        "weights": [4.0, 5.0],
      ]
      change(&r)
      return try JSONSerialization.data(withJSONObject: r)
    }
    let model = try OffensiveLanguageModel(data: resource { _ in })
    // "idiot idiot moron": counts 2 and 1, tf-idf (4, 3) / 5, logit (4·4 + 3·5) / 5 − 1.
    #expect(abs(model.logit("Idiot, idiot... MORON!") - (31.0 / 5 - 1)) < 1e-12)
    let broken: [(String, (inout [String: Any]) -> Void)] = [
      ("format", { $0["format"] = "muse-offensive-language/2" }),
      ("norm", { $0["norm"] = "l1" }),
      ("pattern", { $0["token_pattern"] = #"\w+"# }),
      ("case", { $0["lowercase"] = false }),
      ("idf count", { $0["idf"] = [2.0] }),
      ("weight count", { $0["weights"] = [4.0, 5.0, 6.0] }),
      ("twice", { $0["words"] = ["idiot", "idiot"] }),
    ]
    for (why, change) in broken {
      #expect(throws: ModerationClassifierError.self, "\(why)") {
        try OffensiveLanguageModel(data: resource(change))
      }
    }
  }
}
