import Foundation

/// The filter table: jinja2's builtin filters (jinja2/filters.py) that chat templates use, plus
/// transformers' `tojson` override, which calls `json.dumps` without HTML escaping.
enum JinjaFilters {
  typealias Filter = (JinjaInterpreter, JinjaValue, JinjaArguments) throws -> JinjaValue

  static let table: [String: Filter] = {
    var t: [String: Filter] = [
      "tojson": { _, v, a in
        let indent: String? =
          switch a.value(1, "indent") {
          case .int(let n)?: String(repeating: " ", count: n)
          case .string(let s)?: s
          default: nil
          }
        var separators: (String, String)?
        if case .tuple(let seps)? = a.value(2, "separators"), seps.count == 2 {
          separators = (seps[0].stringValue, seps[1].stringValue)
        }
        return .string(
          try v.jsonString(
            indent: indent, separators: separators, sortKeys: a.value(3, "sort_keys")?.isTruthy ?? false))
      },
      "trim": { _, v, a in
        .string(
          PythonString.strip(v.stringValue, a.value(0, "chars")?.stringValue, leading: true, trailing: true))
      },
      "upper": { _, v, _ in .string(v.stringValue.uppercased()) },
      "lower": { _, v, _ in .string(v.stringValue.lowercased()) },
      "capitalize": { _, v, _ in .string(PythonString.capitalize(v.stringValue)) },
      "title": { _, v, _ in .string(title(v.stringValue)) },
      "length": { _, v, _ in .int(try length(v)) },
      "string": { _, v, _ in .string(v.stringValue) },
      "safe": { _, v, _ in .markup(v.stringValue) },
      "escape": { _, v, _ in
        if case .markup = v { return v }
        return .markup(escape(v.stringValue))
      },
      "first": { i, v, _ in
        try i.iterate(v).first ?? .undefined("No first item, sequence was empty.")
      },
      "last": { i, v, _ in
        if case .string(let s) = v {
          return s.unicodeScalars.last.map { .string(String($0)) } ?? .undefined("")
        }
        return try i.iterate(v).last ?? .undefined("No last item, sequence was empty.")
      },
      "join": { i, v, a in
        var items = try i.iterate(v)
        if let attribute = a.value(1, "attribute") { items = try items.map { try lookup(i, $0, attribute) } }
        return .string(items.map(\.stringValue).joined(separator: a.value(0, "d")?.stringValue ?? ""))
      },
      "default": { _, v, a in
        let fallback = a.value(0, "default_value") ?? .string("")
        if v.isUndefined || (a.value(1, "boolean")?.isTruthy == true && !v.isTruthy) { return fallback }
        return v
      },
      "replace": { _, v, a in
        .string(
          PythonString.replace(
            v.stringValue, a.value(0, "old")?.stringValue ?? "", a.value(1, "new")?.stringValue ?? "",
            count: a.value(2, "count")?.integer ?? -1))
      },
      "list": { i, v, _ in .array(try i.iterate(v)) },
      "int": { _, v, a in toInt(v) ?? a.value(0, "default") ?? .int(0) },
      "float": { _, v, a in
        if let d = v.numeric { return .float(d) }
        if case .string(let s) = v, let d = Double(s.trimmingCharacters(in: .whitespaces)) {
          return .float(d)
        }
        return a.value(0, "default") ?? .float(0)
      },
      "abs": { _, v, _ in
        switch v {
        case .int(let i): return .int(abs(i))
        case .float(let d): return .float(abs(d))
        default: throw JinjaError(.type, "bad operand type for abs(): '\(v.pythonTypeName)'")
        }
      },
      "round": { _, v, a in
        let precision = a.value(0, "precision")?.integer ?? 0
        let method = a.value(1, "method")?.stringValue ?? "common"
        guard let d = v.numeric else {
          throw JinjaError(.type, "type \(v.pythonTypeName) doesn't define __round__")
        }
        // Python's round() of an int stays an int; ceil/floor divide, so give floats.
        if case .int = v, method == "common", precision >= 0 { return v }
        let scale = pow(10, Double(precision))
        let rule: FloatingPointRoundingRule =
          method == "ceil" ? .up : method == "floor" ? .down : .toNearestOrEven
        return .float((d * scale).rounded(rule) / scale)
      },
      "items": { _, v, _ in
        switch v {
        case .undefined: return .array([])
        case .dict(let d): return .array(d.map { .tuple([$0.key, $0.value]) })
        default: throw JinjaError(.type, "Can only get item pairs from a mapping.")
        }
      },
      "dictsort": { _, v, a in
        guard case .dict(let d) = v else {
          throw JinjaError(.type, "You can only sort by either 'key' or 'value'")
        }
        let caseSensitive = a.value(0, "case_sensitive")?.isTruthy ?? false
        let byValue = a.value(1, "by")?.stringValue == "value"
        let reverse = a.value(2, "reverse")?.isTruthy ?? false
        let pairs = d.map { (key: $0.key, value: $0.value) }
        let sorted = try stableSort(pairs, reverse: reverse) {
          sortKey(byValue ? $0.value : $0.key, caseSensitive: caseSensitive)
        }
        return .array(sorted.map { .tuple([$0.key, $0.value]) })
      },
      "sort": { i, v, a in
        let reverse = a.value(0, "reverse")?.isTruthy ?? false
        let caseSensitive = a.value(1, "case_sensitive")?.isTruthy ?? false
        let attribute = a.value(2, "attribute")
        return .array(
          try stableSort(try i.iterate(v), reverse: reverse) { item in
            sortKey(try attribute.map { try lookup(i, item, $0) } ?? item, caseSensitive: caseSensitive)
          })
      },
      "unique": { i, v, a in
        let caseSensitive = a.value(0, "case_sensitive")?.isTruthy ?? false
        let attribute = a.value(1, "attribute")
        var seen: [JinjaValue] = []
        var out: [JinjaValue] = []
        for item in try i.iterate(v) {
          let key = sortKey(
            try attribute.map { try lookup(i, item, $0) } ?? item, caseSensitive: caseSensitive)
          if !seen.contains(where: { $0.pythonEquals(key) }) {
            seen.append(key)
            out.append(item)
          }
        }
        return .generator(out)
      },
      "reverse": { i, v, _ in
        if case .string(let s) = v {
          return .string(String(String.UnicodeScalarView(s.unicodeScalars.reversed())))
        }
        return .generator(try i.iterate(v).reversed())
      },
      "indent": { _, v, a in
        let width: String =
          if case .string(let s)? = a.value(0, "width") { s } else {
            String(repeating: " ", count: a.value(0, "width")?.integer ?? 4)
          }
        return .string(
          indent(
            v.stringValue, width, first: a.value(1, "first")?.isTruthy ?? false,
            blank: a.value(2, "blank")?.isTruthy ?? false))
      },
      "wordcount": { _, v, _ in
        .int(
          v.stringValue.unicodeScalars.split {
            !($0.properties.isAlphabetic || $0.properties.numericType != nil || $0 == "_")
          }
          .count)
      },
      "center": { _, v, a in
        let s = v.stringValue
        let width = a.value(0, "width")?.integer ?? 80
        let n = s.unicodeScalars.count
        guard width > n else { return .string(s) }
        // CPython's str.center puts the odd space on the left when the width is odd.
        let left = (width - n) / 2 + ((width - n) & width & 1)
        return .string(
          String(repeating: " ", count: left) + s + String(repeating: " ", count: width - n - left))
      },
      "batch": { i, v, a in
        let size = max(1, a.value(0, "linecount")?.integer ?? 1)
        let fill = a.value(1, "fill_with")
        var batches: [JinjaValue] = []
        var items = try i.iterate(v)[...]
        while !items.isEmpty {
          var batch = Array(items.prefix(size))
          items = items.dropFirst(size)
          if let fill, !fill.isNone { while batch.count < size { batch.append(fill) } }
          batches.append(.array(batch))
        }
        return .generator(batches)
      },
      "max": { i, v, a in try extreme(i, v, a, pickLarger: true) },
      "min": { i, v, a in try extreme(i, v, a, pickLarger: false) },
      "sum": { i, v, a in
        var total = a.value(1, "start") ?? .int(0)
        for item in try i.iterate(v) {
          total = try JinjaOperators.binary(
            "+", total, try a.value(0, "attribute").map { try lookup(i, item, $0) } ?? item)
        }
        return total
      },
      "format": { _, v, a in .string(try JinjaOperators.percentFormat(v.stringValue, .tuple(a.positional))) },
      "attr": { i, v, a in try i.attribute(of: v, a.value(0, "name")?.stringValue ?? "") },
    ]
    t["count"] = t["length"]
    t["d"] = t["default"]
    t["e"] = t["escape"]
    for (name, filter) in JinjaFilters.sequenceFilters { t[name] = filter }
    return t
  }()

  static func length(_ v: JinjaValue) throws -> Int {
    switch v.plain {
    case .undefined: return 0
    case .string(let s): return s.unicodeScalars.count
    case .array(let a), .tuple(let a): return a.count
    case .dict(let d): return d.count
    default: throw JinjaError(.type, "object of type '\(v.pythonTypeName)' has no len()")
    }
  }

  static func toInt(_ v: JinjaValue) -> JinjaValue? {
    if let i = v.integer { return .int(i) }
    if case .float(let d) = v, d.isFinite { return .int(Int(d)) }
    if case .string(let s) = v {
      let t = s.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "_", with: "")
      if let i = Int(t) { return .int(i) }
      if let d = Double(t), d.isFinite { return .int(Int(d)) }
    }
    return nil
  }

  /// jinja2's `title`: uppercase the first letter of each word, words split at `-`, spaces and
  /// opening brackets (not Python's `str.title`, which also splits at apostrophes).
  static func title(_ s: String) -> String {
    var out = ""
    var atWordStart = true
    for c in s.unicodeScalars {
      let separator = PythonString.isSpace(c) || "-({[<".unicodeScalars.contains(c)
      out += separator ? String(c) : atWordStart ? String(c).uppercased() : String(c).lowercased()
      atWordStart = separator
    }
    return out
  }

  static func escape(_ s: String) -> String {
    var out = ""
    for c in s.unicodeScalars {
      switch c {
      case "&": out += "&amp;"
      case "<": out += "&lt;"
      case ">": out += "&gt;"
      case "\"": out += "&#34;"
      case "'": out += "&#39;"
      default: out.unicodeScalars.append(c)
      }
    }
    return out
  }

  /// jinja2's `indent`, including its quirk of appending a newline before splitting lines.
  static func indent(_ s: String, _ width: String, first: Bool, blank: Bool) -> String {
    let lines = PythonString.splitLines(s + "\n")
    var rv: String
    if blank {
      rv = lines.joined(separator: "\n" + width)
    } else {
      rv = lines.first ?? ""
      let rest = lines.dropFirst()
      if !rest.isEmpty { rv += "\n" + rest.map { $0.isEmpty ? $0 : width + $0 }.joined(separator: "\n") }
    }
    return first ? width + rv : rv
  }

  /// An attribute path like `function.name` or `0`, looked up as jinja2's make_attrgetter does.
  static func lookup(_ interpreter: JinjaInterpreter, _ item: JinjaValue, _ attribute: JinjaValue) throws
    -> JinjaValue
  {
    guard case .string(let path) = attribute else { return try interpreter.item(of: item, attribute) }
    var value = item
    for part in path.split(separator: ".") {
      value = try interpreter.item(of: value, Int(part).map { .int($0) } ?? .string(String(part)))
    }
    return value
  }

  static func sortKey(_ v: JinjaValue, caseSensitive: Bool) -> JinjaValue {
    if !caseSensitive, case .string(let s) = v { return .string(s.lowercased()) }
    return v
  }

  static func stableSort<T>(_ items: [T], reverse: Bool, key: (T) throws -> JinjaValue) throws -> [T] {
    let keyed = try items.enumerated().map { (offset: $0.offset, key: try key($0.element), item: $0.element) }
    var failure: Error?
    let sorted = keyed.sorted { a, b in
      do {
        let order = try JinjaOperators.ordering(a.key, b.key)
        if order != 0 { return reverse ? order > 0 : order < 0 }
      } catch { failure = failure ?? error }
      return a.offset < b.offset
    }
    if let failure { throw failure }
    return sorted.map(\.item)
  }

  private static func extreme(_ i: JinjaInterpreter, _ v: JinjaValue, _ a: JinjaArguments, pickLarger: Bool)
    throws
    -> JinjaValue
  {
    let caseSensitive = a.value(0, "case_sensitive")?.isTruthy ?? false
    let attribute = a.value(1, "attribute")
    var best: (item: JinjaValue, key: JinjaValue)?
    for item in try i.iterate(v) {
      let key = sortKey(try attribute.map { try lookup(i, item, $0) } ?? item, caseSensitive: caseSensitive)
      if let current = best {
        let order = try JinjaOperators.ordering(key, current.key)
        if pickLarger ? order > 0 : order < 0 { best = (item, key) }
      } else {
        best = (item, key)
      }
    }
    return best?.item ?? .undefined("No aggregated item, sequence was empty.")
  }
}
