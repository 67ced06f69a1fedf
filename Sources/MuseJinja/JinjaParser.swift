/// Recursive-descent parser from tokens to statements, with jinja2's precedence
/// (jinja2/parser.py): ternary < or < and < not < comparison < + - < ~ < * / // % < ** <
/// unary - + < postfix (. [] call) and filters/tests.
struct JinjaParser {
  private let tokens: [JinjaToken]
  private let source: JinjaSource
  var index = 0

  init(tokens: [JinjaToken], source: JinjaSource) {
    self.tokens = tokens
    self.source = source
  }

  static func parse(_ source: JinjaSource) throws -> [JinjaStatement] {
    var parser = JinjaParser(tokens: try JinjaLexer(source: source).tokenize(), source: source)
    let (body, end) = try parser.parseStatements(until: [])
    if let end { throw parser.error("Encountered unknown tag '\(end)'.") }
    return body
  }

  // MARK: Token stream

  var current: JinjaToken { tokens[index] }
  var next: JinjaToken { tokens[min(index + 1, tokens.count - 1)] }

  func error(_ message: String, at offset: Int? = nil) -> JinjaError {
    JinjaError(.syntax, message, at: source.position(offset ?? current.offset))
  }

  mutating func advance() -> JinjaToken {
    defer { index = min(index + 1, tokens.count - 1) }
    return current
  }

  func isOp(_ op: String) -> Bool { current.kind == .op(op) }
  func isName(_ name: String) -> Bool { current.kind == .name(name) }

  mutating func skip(op: String) -> Bool {
    guard isOp(op) else { return false }
    index += 1
    return true
  }

  mutating func skip(name: String) -> Bool {
    guard isName(name) else { return false }
    index += 1
    return true
  }

  mutating func expect(op: String) throws {
    guard skip(op: op) else { throw error("expected '\(op)', got \(describe(current))") }
  }

  mutating func expectName() throws -> String {
    guard case .name(let n) = current.kind else { throw error("expected a name, got \(describe(current))") }
    index += 1
    return n
  }

  private mutating func expectBlockEnd() throws {
    guard current.kind == .blockEnd else {
      throw error("expected end of statement block, got \(describe(current))")
    }
    index += 1
  }

  func describe(_ token: JinjaToken) -> String {
    switch token.kind {
    case .text: "text"
    case .variableBegin: "'{{'"
    case .variableEnd: "'}}'"
    case .blockBegin: "'{%'"
    case .blockEnd: "'%}'"
    case .name(let n): "'\(n)'"
    case .string(let s): "string \(PythonString.repr(s))"
    case .int(let i): "\(i)"
    case .float(let d): "\(d)"
    case .op(let o): "'\(o)'"
    case .eof: "end of template"
    }
  }

  // MARK: Statements

  /// Parses until a block tag whose keyword is in `ends`; returns that keyword (consumed, with
  /// the block end left for the caller) or nil at the end of the template.
  private mutating func parseStatements(until ends: Set<String>) throws -> ([JinjaStatement], String?) {
    var body: [JinjaStatement] = []
    while true {
      switch current.kind {
      case .eof:
        return (body, nil)
      case .text(let t):
        index += 1
        body.append(.text(t))
      case .variableBegin:
        index += 1
        body.append(.output(try parseTuple()))
        guard current.kind == .variableEnd else { throw error("expected '}}', got \(describe(current))") }
        index += 1
      case .blockBegin:
        index += 1
        let keywordOffset = current.offset
        let keyword = try expectName()
        if ends.contains(keyword) { return (body, keyword) }
        body.append(try parseStatement(keyword, offset: keywordOffset))
      default:
        throw error("unexpected \(describe(current))")
      }
    }
  }

  private mutating func parseBody(until ends: Set<String>, for tag: String, at offset: Int) throws -> (
    [JinjaStatement], String
  ) {
    let (body, end) = try parseStatements(until: ends)
    guard let end else {
      let expected = ends.sorted().map { "'\($0)'" }.joined(separator: " or ")
      throw error(
        "Unexpected end of template. Jinja was looking for: \(expected) (to close '\(tag)')", at: offset)
    }
    return (body, end)
  }

  private mutating func parseStatement(_ keyword: String, offset: Int) throws -> JinjaStatement {
    switch keyword {
    case "if":
      var branches: [(JinjaExpression, [JinjaStatement])] = []
      var test = try parseTuple(withCondition: false)
      while true {
        try expectBlockEnd()
        let (body, end) = try parseBody(until: ["elif", "else", "endif"], for: "if", at: offset)
        branches.append((test, body))
        if end == "elif" {
          test = try parseTuple(withCondition: false)
          continue
        }
        try expectBlockEnd()
        if end == "endif" { return .ifChain(branches, otherwise: []) }
        let (otherwise, _) = try parseBody(until: ["endif"], for: "if", at: offset)
        try expectBlockEnd()
        return .ifChain(branches, otherwise: otherwise)
      }
    case "for":
      let target = try parseTarget()
      guard skip(name: "in") else { throw error("expected 'in', got \(describe(current))") }
      let iterable = try parseTuple(withCondition: false)
      let filter = skip(name: "if") ? try parseExpression() : nil
      if isName("recursive") { throw error("recursive loops are not supported") }
      try expectBlockEnd()
      let (body, end) = try parseBody(until: ["endfor", "else"], for: "for", at: offset)
      try expectBlockEnd()
      var otherwise: [JinjaStatement] = []
      if end == "else" {
        otherwise = try parseBody(until: ["endfor"], for: "for", at: offset).0
        try expectBlockEnd()
      }
      return .forLoop(
        target: target, iterable: iterable, filter: filter, body: body, otherwise: otherwise, offset: offset)
    case "set":
      let target = try parseTarget(allowAttribute: true)
      if skip(op: "=") {
        let value = try parseTuple()
        try expectBlockEnd()
        return .set(target, value, offset: offset)
      }
      guard case .name(let name) = target else { throw error("expected '='") }
      let filters = try parseFilterChain()
      try expectBlockEnd()
      let (body, _) = try parseBody(until: ["endset"], for: "set", at: offset)
      try expectBlockEnd()
      return .setBlock(name, body: body, filters: filters, offset: offset)
    case "macro":
      let name = try expectName()
      let parameters = try parseParameters()
      try expectBlockEnd()
      let (body, _) = try parseBody(until: ["endmacro"], for: "macro", at: offset)
      if case .name = current.kind { index += 1 }  // `{% endmacro name %}`
      try expectBlockEnd()
      return .macro(name: name, parameters: parameters, body: body)
    case "call":
      let parameters = isOp("(") ? try parseParameters() : []
      let call = try parseExpression()
      guard case .call = call else { throw error("expected call", at: call.offset) }
      try expectBlockEnd()
      let (body, _) = try parseBody(until: ["endcall"], for: "call", at: offset)
      try expectBlockEnd()
      return .callBlock(call: call, parameters: parameters, body: body, offset: offset)
    case "filter":
      let filters = try parseFilterChain(leadingPipe: false)
      try expectBlockEnd()
      let (body, _) = try parseBody(until: ["endfilter"], for: "filter", at: offset)
      try expectBlockEnd()
      return .filterBlock(filters: filters, body: body, offset: offset)
    case "generation":
      // transformers' AssistantTracker tag: outside training it only renders its body.
      try expectBlockEnd()
      let (body, _) = try parseBody(until: ["endgeneration"], for: "generation", at: offset)
      try expectBlockEnd()
      return .ifChain([(.literal(.bool(true), offset), body)], otherwise: [])
    case "break", "continue":
      try expectBlockEnd()
      return keyword == "break" ? .breakLoop : .continueLoop
    default:
      throw error("Encountered unknown tag '\(keyword)'.", at: offset)
    }
  }

  private mutating func parseFilterChain(leadingPipe: Bool = true) throws -> [(String, [JinjaCallArgument])] {
    var filters: [(String, [JinjaCallArgument])] = []
    // `{% set x | f %}` starts with a pipe, `{% filter f | g %}` does not.
    while (!leadingPipe && filters.isEmpty) || skip(op: "|") {
      let name = try expectName()
      filters.append((name, isOp("(") ? try parseCallArguments() : []))
    }
    return filters
  }

  private mutating func parseParameters() throws -> [JinjaParameter] {
    try expect(op: "(")
    var parameters: [JinjaParameter] = []
    while !skip(op: ")") {
      if !parameters.isEmpty { try expect(op: ",") }
      if skip(op: ")") { break }
      let name = try expectName()
      parameters.append(JinjaParameter(name: name, defaultValue: skip(op: "=") ? try parseExpression() : nil))
    }
    return parameters
  }

  private mutating func parseTarget(allowAttribute: Bool = false) throws -> JinjaTarget {
    var targets: [JinjaTarget] = []
    repeat {
      if isOp(")") || current.kind == .blockEnd || isName("in") { break }
      let name = try expectName()
      if allowAttribute && skip(op: ".") {
        targets.append(.attribute(name, try expectName()))
      } else {
        targets.append(.name(name))
      }
    } while skip(op: ",")
    guard !targets.isEmpty else { throw error("expected a name, got \(describe(current))") }
    return targets.count == 1 && !isOp(",") ? targets[0] : .tuple(targets)
  }
}
