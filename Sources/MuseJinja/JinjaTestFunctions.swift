import Foundation

/// The test table (`x is defined`, `n is divisibleby 3`): jinja2's builtin tests (jinja2/tests.py).
/// Python's bool is an int, so `true is number` holds but `true is integer` does not, as in jinja2.
enum JinjaTestFunctions {
  typealias Test = (JinjaInterpreter, JinjaValue, [JinjaValue]) throws -> Bool

  static let table: [String: Test] = {
    var t: [String: Test] = [
      "defined": { _, v, _ in !v.isUndefined },
      "undefined": { _, v, _ in v.isUndefined },
      "none": { _, v, _ in v.isNone },
      "string": { _, v, _ in if case .string = v.plain { true } else { false } },
      "number": { _, v, _ in v.numeric != nil },
      "integer": { _, v, _ in if case .int = v { true } else { false } },
      "float": { _, v, _ in if case .float = v { true } else { false } },
      "boolean": { _, v, _ in if case .bool = v { true } else { false } },
      "true": { _, v, _ in if case .bool(true) = v { true } else { false } },
      "false": { _, v, _ in if case .bool(false) = v { true } else { false } },
      "mapping": { _, v, _ in if case .dict = v { true } else { false } },
      "iterable": { _, v, _ in
        switch v {
        case .undefined, .string, .array, .tuple, .dict, .generator: true
        default: false
        }
      },
      "sequence": { _, v, _ in
        switch v {
        case .undefined, .string, .array, .tuple, .dict: true
        default: false
        }
      },
      "callable": { _, v, _ in
        switch v {
        case .function, .undefined: true
        default: false
        }
      },
      "odd": { _, v, _ in try parity(v) == 1 },
      "even": { _, v, _ in try parity(v) == 0 },
      "divisibleby": { _, v, a in
        guard let n = v.integer, let d = a.first?.integer, d != 0 else {
          throw JinjaError(.type, "divisibleby needs integers")
        }
        return n % d == 0
      },
      "eq": { _, v, a in v.pythonEquals(a.first ?? JinjaValue.none) },
      "ne": { _, v, a in !v.pythonEquals(a.first ?? JinjaValue.none) },
      "lt": { _, v, a in try JinjaOperators.compare("<", v, a.first ?? JinjaValue.none) },
      "le": { _, v, a in try JinjaOperators.compare("<=", v, a.first ?? JinjaValue.none) },
      "gt": { _, v, a in try JinjaOperators.compare(">", v, a.first ?? JinjaValue.none) },
      "ge": { _, v, a in try JinjaOperators.compare(">=", v, a.first ?? JinjaValue.none) },
      "in": { _, v, a in try JinjaOperators.contains(a.first ?? JinjaValue.none, v) },
      "sameas": { _, v, a in
        let other = a.first ?? JinjaValue.none
        switch (v, other) {
        case (.none, .none): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.namespace(let x), .namespace(let y)): return x === y
        default: return false
        }
      },
      "lower": { _, v, _ in if case .string(let s) = v { s.lowercased() == s } else { false } },
      "upper": { _, v, _ in if case .string(let s) = v { s.uppercased() == s } else { false } },
      "escaped": { _, _, _ in false },
      "filter": { _, v, _ in JinjaFilters.table[v.stringValue] != nil },
      "test": { _, v, _ in JinjaTestFunctions.table[v.stringValue] != nil },
    ]
    for (alias, name) in [
      ("equalto", "eq"), ("==", "eq"), ("!=", "ne"), ("<", "lt"), ("lessthan", "lt"), ("<=", "le"),
      (">", "gt"), ("greaterthan", "gt"), (">=", "ge"),
    ] {
      t[alias] = t[name]
    }
    return t
  }()

  private static func parity(_ v: JinjaValue) throws -> Int {
    if case .undefined(let m) = v { throw JinjaError(.undefined, m) }
    guard let n = v.integer else {
      throw JinjaError(.type, "unsupported operand type(s) for %: '\(v.pythonTypeName)' and 'int'")
    }
    return ((n % 2) + 2) % 2
  }
}

/// `map`, `select`, `reject`, `selectattr`, `rejectattr`: filters that apply another filter or
/// a test to each item. Like jinja2 they return generators, so `tojson` without `| list` fails.
extension JinjaFilters {
  static let sequenceFilters: [String: Filter] = [
    "map": { i, v, a in
      // jinja2 guards with `if value:`, so mapping over none or an empty string gives nothing.
      let items = v.isTruthy ? try i.iterate(v) : []
      if let attribute = a.keyword.first(where: { $0.0 == "attribute" })?.1 {
        let fallback = a.keyword.first { $0.0 == "default" }?.1
        return .generator(
          try items.map { item in
            let value = try lookup(i, item, attribute)
            return value.isUndefined ? fallback ?? value : value
          })
      }
      guard let name = a.positional.first?.stringValue else { return .generator(items) }
      let rest = JinjaArguments(Array(a.positional.dropFirst()), keyword: a.keyword)
      return .generator(try items.map { try i.applyFilter(name, $0, rest) })
    },
    "select": { i, v, a in .generator(try select(i, v, a, attribute: false, keep: true)) },
    "reject": { i, v, a in .generator(try select(i, v, a, attribute: false, keep: false)) },
    "selectattr": { i, v, a in .generator(try select(i, v, a, attribute: true, keep: true)) },
    "rejectattr": { i, v, a in .generator(try select(i, v, a, attribute: true, keep: false)) },
  ]

  private static func select(
    _ i: JinjaInterpreter, _ v: JinjaValue, _ a: JinjaArguments, attribute: Bool, keep: Bool
  ) throws -> [JinjaValue] {
    var positional = a.positional[...]
    let path = attribute ? positional.popFirst() : nil
    let testName = positional.popFirst()?.stringValue
    let testArguments = Array(positional)
    guard v.isTruthy else { return [] }  // jinja2's `if value:` guard
    return try i.iterate(v).filter { item in
      let subject = try path.map { try lookup(i, item, $0) } ?? item
      let passed = try testName.map { try i.applyTest($0, subject, testArguments) } ?? subject.isTruthy
      return passed == keep
    }
  }
}
