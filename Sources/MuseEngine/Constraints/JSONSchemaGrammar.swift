import MuseJinja

/// JSON Schema → GBNF (then a `Grammar`), for `response_format: json_schema`, tool arguments and
/// `json_object`. Supported: the OpenAI strict subset — `type` (a name or a list), objects with
/// `properties` / `required` / `additionalProperties`, arrays with `items` / `minItems` /
/// `maxItems`, `enum`, `const`, `anyOf`, `oneOf` (when its branches cannot overlap), a one-schema
/// `allOf`, `$ref` into `$defs` / `definitions` (recursion included), strings with `minLength` /
/// `maxLength` / `pattern` (`RegexGrammar`) / `format` (date, time, date-time, uuid, email), and
/// integer `minimum` / `maximum` (exclusive too). Any other keyword throws
/// `JSONSchemaError.unsupportedKeyword` naming it and its place; annotations are ignored.
///
/// Policies, each producing only instances the schema accepts:
/// - properties come in the schema's order; `additionalProperties` absent, `true` or a schema
///   beside `properties` adds no others (an object with `additionalProperties` but no
///   `properties` takes any keys, each value as that schema says);
/// - a schema without `type` has the types its keywords are about (`properties` → object, …;
///   none → any JSON value);
/// - integers are written without a fraction or exponent, numbers with at most 16 integer and
///   16 fraction digits;
/// - between tokens at most one space, or one newline and 20 spaces or tabs (llama.cpp's bound),
///   so a model can indent but cannot loop on whitespace.
public enum JSONSchemaGrammar {
  /// The grammar of `schema`'s instances.
  public static func grammar(for schema: JinjaValue) throws -> Grammar {
    try Grammar(gbnf: gbnf(for: schema))
  }

  /// The GBNF text of `schema`'s instances, starting at `root`.
  public static func gbnf(for schema: JinjaValue) throws -> String {
    let (root, rules) = try gbnfRules(for: schema, prefix: "")
    return root == "root" ? rules : "root ::= \(root)\n" + rules
  }

  /// `schema` as GBNF rules whose names all start with `prefix` (letters, digits, `-`), to be
  /// combined with other GBNF text (a tool-call syntax around each tool's `parameters`):
  /// `root` is the rule to reference, `rules` the definitions (one per line).
  public static func gbnfRules(for schema: JinjaValue, prefix: String) throws -> (root: String, rules: String)
  {
    guard
      prefix.unicodeScalars.allSatisfy({
        $0.isASCII && ($0 == "-" || Character($0).isLetter || Character($0).isNumber)
      })
    else {
      throw JSONSchemaError.invalid(
        "rule prefix '\(prefix)' may hold only letters, digits and '-'", path: "#")
    }
    var compiler = SchemaCompiler(document: schema, prefix: prefix)
    let root = try compiler.rootRule()
    return (root, compiler.rules.joined(separator: "\n") + "\n")
  }

  /// `response_format: {type: "json_object"}`: any JSON object.
  public static func anyObjectGBNF(prefix: String = "") -> (root: String, rules: String) {
    var compiler = SchemaCompiler(document: .dict(JinjaDict()), prefix: prefix)
    let root = compiler.primitive(.object)
    return (root, compiler.rules.joined(separator: "\n") + "\n")
  }

  public static let anyObject: Grammar = {
    let (root, rules) = anyObjectGBNF()
    return try! Grammar(gbnf: "root ::= \(root)\n" + rules)
  }()
}

/// Why a schema cannot be enforced; `path` is a JSON pointer into the schema (`#/properties/a`).
public enum JSONSchemaError: Error, CustomStringConvertible, Equatable {
  case unsupportedKeyword(String, path: String)
  case invalid(String, path: String)
  case tooComplex(String, path: String)

  public var description: String {
    switch self {
    case .unsupportedKeyword(let keyword, let path): "unsupported JSON Schema keyword '\(keyword)' at \(path)"
    case .invalid(let message, let path): "invalid JSON Schema at \(path): \(message)"
    case .tooComplex(let message, let path): "JSON Schema too complex at \(path): \(message)"
    }
  }
}

struct SchemaCompiler {
  enum Primitive: String, CaseIterable {
    case ws, char, string, integer, number, boolean, null, value, object, array
  }

  let document: JinjaValue
  let prefix: String
  private(set) var rules: [String] = []
  private var names: Set<String> = []
  private var primitives: [Primitive: String] = [:]
  private var refRules: [String: String] = [:]
  private var depth = 0
  private var size = 0

  static let maxDepth = 64
  static let maxRules = 20_000
  static let maxText = 4 << 20
  static let maxRepetition = GrammarBuilder.maxRepetition

  static let annotations: Set<String> = [
    "title", "description", "$schema", "$id", "$comment", "default", "examples", "deprecated", "readOnly",
    "writeOnly", "$anchor",
  ]
  static let known: Set<String> = [
    "type", "enum", "const", "anyOf", "oneOf", "allOf", "$ref", "$defs", "definitions", "properties",
    "required",
    "additionalProperties", "items", "minItems", "maxItems", "minLength", "maxLength", "pattern", "format",
    "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
  ]
  static let typeKeywords: [String: [String]] = [
    "object": ["properties", "required", "additionalProperties"],
    "array": ["items", "minItems", "maxItems"],
    "string": ["minLength", "maxLength", "pattern", "format"],
    "number": ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"],
  ]

  init(document: JinjaValue, prefix: String) {
    self.document = document
    self.prefix = prefix
  }

  mutating func rootRule() throws -> String {
    let name = uniqueName("root")
    refRules["#"] = name
    try define(name, expression(for: document, path: "#"), path: "#")
    return name
  }

  // MARK: rules

  mutating func uniqueName(_ hint: String) -> String {
    var base = ""
    for c in hint.unicodeScalars.prefix(40) {
      base += (c.isASCII && (Character(c).isLetter || Character(c).isNumber)) ? String(c) : "-"
    }
    base = prefix + (base.isEmpty ? "r" : base)
    var name = base
    var n = 1
    while names.contains(name) || Primitive(rawValue: String(name.dropFirst(prefix.count))) != nil {
      n += 1
      name = "\(base)-\(n)"
    }
    names.insert(name)
    return name
  }

  mutating func define(_ name: String, _ body: String, path: String) throws {
    size += name.utf8.count + body.utf8.count + 5
    guard rules.count < Self.maxRules, size <= Self.maxText else {
      throw JSONSchemaError.tooComplex(
        "the grammar would exceed \(Self.maxRules) rules or \(Self.maxText) bytes", path: path)
    }
    rules.append("\(name) ::= \(body)")
  }

  /// A rule holding `body`, referenced by name (so repetition and alternatives stay small).
  mutating func rule(_ hint: String, _ body: String, path: String) throws -> String {
    let name = uniqueName(hint)
    try define(name, body, path: path)
    return name
  }

  /// The shared rules for JSON's building blocks, defined on first use.
  mutating func primitive(_ p: Primitive) -> String {
    if let name = primitives[p] { return name }
    let name = prefix + p.rawValue
    names.insert(name)
    primitives[p] = name
    let body: String
    switch p {
    case .ws: body = #"( " " | "\n" [ \t]{0,20} )?"#
    case .char: body = #"[^"\\\x00-\x1F] | "\\" ( ["\\/bfnrt] | "u" [0-9a-fA-F]{4} )"#
    case .string: body = #""\"" "# + primitive(.char) + #"* "\"""#
    case .integer: body = #""-"? ( "0" | [1-9] [0-9]{0,15} )"#
    case .number: body = #""-"? ( "0" | [1-9] [0-9]{0,15} ) ( "." [0-9]{1,16} )? ( [eE] [-+]? [0-9]{1,3} )?"#
    case .boolean: body = #""true" | "false""#
    case .null: body = #""null""#
    case .value:
      body = [Primitive.object, .array, .string, .number, .boolean, .null].map { primitive($0) }.joined(
        separator: " | ")
    case .object:
      let (ws, s, v) = (primitive(.ws), primitive(.string), primitive(.value))
      body =
        #""{" \#(ws) ( \#(s) \#(ws) ":" \#(ws) \#(v) ( \#(ws) "," \#(ws) \#(s) \#(ws) ":" \#(ws) \#(v) )* \#(ws) )? "}""#
    case .array:
      let (ws, v) = (primitive(.ws), primitive(.value))
      body = #""[" \#(ws) ( \#(v) ( \#(ws) "," \#(ws) \#(v) )* \#(ws) )? "]""#
    }
    rules.append("\(name) ::= \(body)")
    return name
  }

  // MARK: schemas

  /// A GBNF expression (a rule name, a literal or a parenthesised group) for `schema`.
  mutating func expression(for schema: JinjaValue, path: String) throws -> String {
    depth += 1
    defer { depth -= 1 }
    guard depth <= Self.maxDepth else {
      throw JSONSchemaError.tooComplex("schemas nest deeper than \(Self.maxDepth) levels", path: path)
    }
    let d: JinjaDict
    switch schema {
    case .bool(true): return primitive(.value)
    case .bool(false): throw JSONSchemaError.invalid("the schema false admits no value", path: path)
    case .dict(let dict): d = dict
    default: throw JSONSchemaError.invalid("a schema must be an object or a boolean", path: path)
    }
    for key in d.stringKeys where !Self.annotations.contains(key) && !Self.known.contains(key) {
      throw JSONSchemaError.unsupportedKeyword(key, path: path)
    }
    let constraints = d.stringKeys.filter {
      !Self.annotations.contains($0) && $0 != "$defs" && $0 != "definitions"
    }

    if let ref = d["$ref"] {
      if let other = constraints.first(where: { $0 != "$ref" }) {
        throw JSONSchemaError.unsupportedKeyword(other, path: path + " (beside $ref)")
      }
      guard case .string(let pointer) = ref else {
        throw JSONSchemaError.invalid("$ref must be a string", path: path)
      }
      return try reference(pointer, path: path)
    }
    for combinator in ["anyOf", "oneOf", "allOf"] {
      guard let value = d[combinator] else { continue }
      if let other = constraints.first(where: { $0 != combinator }) {
        throw JSONSchemaError.unsupportedKeyword(other, path: path + " (beside \(combinator))")
      }
      guard case .array(let branches) = value, !branches.isEmpty else {
        throw JSONSchemaError.invalid("\(combinator) must be a non-empty array", path: path)
      }
      if combinator == "allOf" {
        guard branches.count == 1 else {
          throw JSONSchemaError.unsupportedKeyword("allOf", path: path + " (with more than one schema)")
        }
        return try expression(for: branches[0], path: path + "/allOf/0")
      }
      if combinator == "oneOf" && !Self.disjoint(branches) {
        throw JSONSchemaError.unsupportedKeyword(
          "oneOf", path: path + " (its branches may overlap; use anyOf)")
      }
      var alternatives: [String] = []
      for (i, branch) in branches.enumerated() {
        alternatives.append(try expression(for: branch, path: "\(path)/\(combinator)/\(i)"))
      }
      return alternatives.count == 1 ? alternatives[0] : "( " + alternatives.joined(separator: " | ") + " )"
    }
    if let value = d["const"] { return try literal(value, path: path + "/const") }
    if let value = d["enum"] {
      guard case .array(let options) = value, !options.isEmpty else {
        throw JSONSchemaError.invalid("enum must be a non-empty array", path: path)
      }
      let literals = try options.enumerated().map { try literal($1, path: "\(path)/enum/\($0)") }
      return "( " + literals.joined(separator: " | ") + " )"
    }
    var types: [String]
    switch d["type"] {
    case .string(let t)?: types = [t]
    case .array(let list)?:
      types = try list.map {
        guard case .string(let t) = $0 else {
          throw JSONSchemaError.invalid("type must name types", path: path)
        }
        return t
      }
    case nil:
      // The types the keywords are about; none: any value.
      types = ["object", "array", "string", "number"].filter { t in
        Self.typeKeywords[t]!.contains { d[$0] != nil }
      }
      if types.isEmpty { return primitive(.value) }
    default: throw JSONSchemaError.invalid("type must be a string or an array of strings", path: path)
    }
    if types.contains("number") { types.removeAll { $0 == "integer" } }
    var alternatives: [String] = []
    for t in types {
      switch t {
      case "null": alternatives.append(primitive(.null))
      case "boolean": alternatives.append(primitive(.boolean))
      case "integer": alternatives.append(try integer(d, path: path))
      case "number": alternatives.append(try number(d, path: path))
      case "string": alternatives.append(try string(d, path: path))
      case "object": alternatives.append(try object(d, path: path))
      case "array": alternatives.append(try array(d, path: path))
      default: throw JSONSchemaError.invalid("unknown type '\(t)'", path: path + "/type")
      }
    }
    guard !alternatives.isEmpty else { throw JSONSchemaError.invalid("type lists no types", path: path) }
    return alternatives.count == 1 ? alternatives[0] : "( " + alternatives.joined(separator: " | ") + " )"
  }

  /// `$ref` to `#` or a JSON pointer within the document, one rule per target (so it can recurse).
  private mutating func reference(_ pointer: String, path: String) throws -> String {
    if let name = refRules[pointer] { return name }
    guard pointer.hasPrefix("#") else {
      throw JSONSchemaError.unsupportedKeyword(
        "$ref", path: path + " (only references within the schema, '#/…')")
    }
    var target = document
    let tokens = pointer.dropFirst().split(separator: "/", omittingEmptySubsequences: false).dropFirst()
    for raw in tokens {
      let token = raw.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
      switch target {
      case .dict(let d) where d[token] != nil: target = d[token]!
      case .array(let a) where Int(token).map({ a.indices.contains($0) }) ?? false: target = a[Int(token)!]
      default: throw JSONSchemaError.invalid("$ref '\(pointer)' points at nothing", path: path)
      }
    }
    let name = uniqueName(tokens.last.map(String.init) ?? "ref")
    refRules[pointer] = name
    try define(name, expression(for: target, path: pointer), path: pointer)
    return name
  }

  /// Whether no value can match two of `branches` (so oneOf means anyOf): their types are
  /// disjoint, all are const/enum with no value in common, or all are objects that require a
  /// property (a discriminator) whose const / enum values differ.
  static func disjoint(_ branches: [JinjaValue]) -> Bool {
    if discriminated(branches) { return true }
    var typeSets: [Set<String>] = []
    var literalSets: [[JinjaValue]] = []
    for branch in branches {
      guard case .dict(let d) = branch else { return false }
      if let c = d["const"] {
        literalSets.append([c])
      } else if case .array(let values)? = d["enum"] {
        literalSets.append(values)
      }
      switch d["type"] {
      case .string(let t)?: typeSets.append(t == "number" ? ["number", "integer"] : [t])
      case .array(let list)?:
        typeSets.append(
          Set(list.map(\.stringValue).flatMap { $0 == "number" ? ["number", "integer"] : [$0] }))
      default: break
      }
    }
    if literalSets.count == branches.count {
      let all = literalSets.flatMap { $0 }
      for (i, a) in all.enumerated() where all[(i + 1)...].contains(where: { $0.pythonEquals(a) }) {
        return false
      }
      return true
    }
    guard typeSets.count == branches.count else { return false }
    for i in typeSets.indices {
      for j in typeSets.indices where j > i && !typeSets[i].isDisjoint(with: typeSets[j]) { return false }
    }
    return true
  }

  private static func discriminated(_ branches: [JinjaValue]) -> Bool {
    var candidates: Set<String>?
    var values: [[String: [JinjaValue]]] = []
    for branch in branches {
      guard case .dict(let d) = branch, case .dict(let properties)? = d["properties"],
        case .array(let required)? = d["required"]
      else { return false }
      var literals: [String: [JinjaValue]] = [:]
      for name in required.map(\.stringValue) {
        guard case .dict(let p)? = properties[name] else { continue }
        if let c = p["const"] {
          literals[name] = [c]
        } else if case .array(let e)? = p["enum"] {
          literals[name] = e
        }
      }
      candidates = candidates.map { $0.intersection(literals.keys) } ?? Set(literals.keys)
      values.append(literals)
    }
    for name in candidates ?? [] {
      let all = values.flatMap { $0[name]! }
      if !all.enumerated().contains(where: { i, a in all[(i + 1)...].contains { $0.pythonEquals(a) } }) {
        return true
      }
    }
    return false
  }

  /// The compact JSON text of a constant, as a GBNF literal.
  func literal(_ value: JinjaValue, path: String) throws -> String {
    if case .float(let f) = value, !f.isFinite {
      throw JSONSchemaError.invalid("\(f) is not a JSON number", path: path)
    }
    guard let text = try? value.jsonString(separators: (",", ":")) else {
      throw JSONSchemaError.invalid("not a JSON value", path: path)
    }
    return GBNFText.literal(text)
  }
}
