/// Expressions, by jinja2's precedence levels (jinja2/parser.py `parse_expression` down to
/// `parse_primary`, then postfix access, calls, filters and tests).
extension JinjaParser {
  /// An expression, or a tuple of them if commas follow (`{{ a, b }}`).
  mutating func parseTuple(withCondition: Bool = true) throws -> JinjaExpression {
    let offset = current.offset
    var items: [JinjaExpression] = []
    var sawComma = false
    while true {
      if !items.isEmpty {
        guard skip(op: ",") else { break }
        sawComma = true
        if current.kind == .variableEnd || current.kind == .blockEnd || isOp(")") { break }
      }
      items.append(withCondition ? try parseExpression() : try parseOr())
    }
    return sawComma ? .tuple(items, offset) : items[0]
  }

  mutating func parseExpression() throws -> JinjaExpression {
    var expr = try parseOr()
    while isName("if") {
      let offset = advance().offset
      let test = try parseOr()
      let otherwise = skip(name: "else") ? try parseExpression() : nil
      expr = .conditional(test: test, then: expr, otherwise: otherwise, offset)
    }
    return expr
  }

  private mutating func parseOr() throws -> JinjaExpression {
    var left = try parseAnd()
    while isName("or") {
      let offset = advance().offset
      left = .or(left, try parseAnd(), offset)
    }
    return left
  }

  private mutating func parseAnd() throws -> JinjaExpression {
    var left = try parseNot()
    while isName("and") {
      let offset = advance().offset
      left = .and(left, try parseNot(), offset)
    }
    return left
  }

  private mutating func parseNot() throws -> JinjaExpression {
    if isName("not") {
      let offset = advance().offset
      return .unary("not", try parseNot(), offset)
    }
    return try parseCompare()
  }

  private mutating func parseCompare() throws -> JinjaExpression {
    let offset = current.offset
    let first = try parseMath1()
    var rest: [(String, JinjaExpression)] = []
    while true {
      if case .op(let op) = current.kind, ["==", "!=", "<", ">", "<=", ">="].contains(op) {
        index += 1
        rest.append((op, try parseMath1()))
      } else if skip(name: "in") {
        rest.append(("in", try parseMath1()))
      } else if isName("not") && next.kind == .name("in") {
        index += 2
        rest.append(("not in", try parseMath1()))
      } else {
        break
      }
    }
    return rest.isEmpty ? first : .compare(first, rest, offset)
  }

  private mutating func parseBinary(
    _ ops: Set<String>, _ operand: (inout JinjaParser) throws -> JinjaExpression
  ) throws -> JinjaExpression {
    var left = try operand(&self)
    while case .op(let op) = current.kind, ops.contains(op) {
      let offset = advance().offset
      left = .binary(op, left, try operand(&self), offset)
    }
    return left
  }

  private mutating func parseMath1() throws -> JinjaExpression {
    try parseBinary(["+", "-"]) { try $0.parseConcat() }
  }

  private mutating func parseConcat() throws -> JinjaExpression {
    try parseBinary(["~"]) { try $0.parseMath2() }
  }

  private mutating func parseMath2() throws -> JinjaExpression {
    try parseBinary(["*", "/", "//", "%"]) { try $0.parsePow() }
  }

  private mutating func parsePow() throws -> JinjaExpression {
    try parseBinary(["**"]) { try $0.parseUnary() }
  }

  private mutating func parseUnary(withFilter: Bool = true) throws -> JinjaExpression {
    var node: JinjaExpression
    if isOp("-") || isOp("+") {
      let token = advance()
      node = .unary(token.kind == .op("-") ? "-" : "+", try parseUnary(withFilter: false), token.offset)
    } else {
      node = try parsePrimary()
    }
    node = try parsePostfix(node)
    return withFilter ? try parseFilterExpression(node) : node
  }

  private mutating func parsePrimary() throws -> JinjaExpression {
    let token = advance()
    switch token.kind {
    case .name(let n):
      switch n {
      case "true", "True": return .literal(.bool(true), token.offset)
      case "false", "False": return .literal(.bool(false), token.offset)
      case "none", "None": return .literal(.none, token.offset)
      default: return .name(n, token.offset)
      }
    case .string(var s):
      while case .string(let more) = current.kind {
        s += more
        index += 1
      }
      return .literal(.string(s), token.offset)
    case .int(let i): return .literal(.int(i), token.offset)
    case .float(let d): return .literal(.float(d), token.offset)
    case .op("("):
      if skip(op: ")") { return .tuple([], token.offset) }
      let inner = try parseTuple()
      try expect(op: ")")
      return inner
    case .op("["):
      var items: [JinjaExpression] = []
      while !skip(op: "]") {
        if !items.isEmpty { try expect(op: ",") }
        if skip(op: "]") { break }
        items.append(try parseExpression())
      }
      return .list(items, token.offset)
    case .op("{"):
      var pairs: [(JinjaExpression, JinjaExpression)] = []
      while !skip(op: "}") {
        if !pairs.isEmpty { try expect(op: ",") }
        if skip(op: "}") { break }
        let key = try parseExpression()
        try expect(op: ":")
        pairs.append((key, try parseExpression()))
      }
      return .dict(pairs, token.offset)
    default:
      throw error("unexpected \(describe(token))", at: token.offset)
    }
  }

  private mutating func parsePostfix(_ start: JinjaExpression) throws -> JinjaExpression {
    var node = start
    while true {
      if isOp(".") {
        let offset = advance().offset
        switch advance().kind {
        case .name(let n): node = .attribute(node, n, offset)
        case .int(let i): node = .index(node, .literal(.int(i), offset), offset)
        default: throw error("expected name or number after '.'", at: offset)
        }
      } else if isOp("[") {
        let offset = advance().offset
        var items: [JinjaExpression] = []
        var sawComma = false
        while !skip(op: "]") {
          if !items.isEmpty {
            try expect(op: ",")
            sawComma = true
          }
          items.append(try parseSubscriptItem(node, offset))
        }
        guard let first = items.first else { throw error("expected subscript expression", at: offset) }
        if case .slice = first, items.count == 1 {
          node = first
        } else {
          node = .index(node, sawComma ? .tuple(items, offset) : first, offset)
        }
      } else if isOp("(") {
        // Errors in a call point at the start of what is called: `raise_exception(...)`.
        node = .call(node, try parseCallArguments(), node.offset)
      } else {
        return node
      }
    }
  }

  /// One item inside `[...]`: an expression or a slice `a:b:c` (any part may be missing).
  private mutating func parseSubscriptItem(_ target: JinjaExpression, _ offset: Int) throws -> JinjaExpression
  {
    var parts: [JinjaExpression?] = []
    var current: JinjaExpression? = isOp(":") ? nil : try parseExpression()
    guard isOp(":") else { return current! }
    while skip(op: ":") {
      parts.append(current)
      current = isOp(":") || isOp("]") || isOp(",") ? nil : try parseExpression()
    }
    parts.append(current)
    return .slice(target, start: parts[0], stop: parts[1], step: parts.count > 2 ? parts[2] : nil, offset)
  }

  mutating func parseCallArguments() throws -> [JinjaCallArgument] {
    try expect(op: "(")
    var arguments: [JinjaCallArgument] = []
    while !skip(op: ")") {
      if !arguments.isEmpty { try expect(op: ",") }
      if skip(op: ")") { break }
      if skip(op: "**") {
        arguments.append(.keywordSplat(try parseExpression()))
      } else if skip(op: "*") {
        arguments.append(.splat(try parseExpression()))
      } else if case .name(let n) = current.kind, next.kind == .op("=") {
        index += 2
        arguments.append(.keyword(n, try parseExpression()))
      } else {
        arguments.append(.positional(try parseExpression()))
      }
    }
    return arguments
  }

  private mutating func parseFilterExpression(_ start: JinjaExpression) throws -> JinjaExpression {
    var node = start
    while true {
      if isOp("|") {
        let offset = advance().offset
        var name = try expectName()
        while skip(op: ".") { name += "." + (try expectName()) }
        node = .filter(node, name, isOp("(") ? try parseCallArguments() : [], offset)
      } else if isName("is") {
        let offset = advance().offset
        let negated = skip(name: "not")
        var name = try expectName()
        while skip(op: ".") { name += "." + (try expectName()) }
        var arguments: [JinjaCallArgument] = []
        if isOp("(") {
          arguments = try parseCallArguments()
        } else if startsTestArgument {
          arguments = [.positional(try parsePostfix(try parsePrimary()))]
        }
        node = .test(node, name, arguments, negated: negated, offset)
      } else if isOp("(") {
        let offset = current.offset
        node = .call(node, try parseCallArguments(), offset)
      } else {
        return node
      }
    }
  }

  /// jinja2 lets a test take one argument without parentheses: `x is divisibleby 3`.
  private var startsTestArgument: Bool {
    switch current.kind {
    case .name(let n): return !["else", "or", "and"].contains(n)
    case .string, .int, .float: return true
    case .op(let o): return o == "(" || o == "[" || o == "{"
    default: return false
    }
  }
}
