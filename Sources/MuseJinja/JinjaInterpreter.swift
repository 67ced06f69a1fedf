import Foundation

/// Variables visible at one point of a template. `for` bodies and macro calls get a child
/// scope, so (as in jinja2) a `set` inside a loop does not leak out of it; `if` does not.
final class JinjaScope {
  var variables: [String: JinjaValue] = [:]
  let parent: JinjaScope?

  init(parent: JinjaScope?) { self.parent = parent }

  func lookup(_ name: String) -> JinjaValue? {
    var scope: JinjaScope? = self
    while let s = scope {
      if let v = s.variables[name] { return v }
      scope = s.parent
    }
    return nil
  }
}

/// How a statement list finished: normally, or by `{% break %}` / `{% continue %}`.
enum JinjaFlow {
  case normal
  case breakLoop
  case continueLoop
}

/// Executes a parsed template. Holds the environment (globals, filter and test tables) and
/// the source, so errors can be given positions.
final class JinjaInterpreter {
  let source: JinjaSource
  var globals: [String: JinjaValue] = [:]
  /// What `strftime_now` reads; injectable so renders are reproducible.
  var now: () -> Date = Date.init

  init(source: JinjaSource) {
    self.source = source
    globals = JinjaGlobals.make(self)
  }

  func render(_ body: [JinjaStatement], variables: [String: JinjaValue]) throws -> String {
    let root = JinjaScope(parent: nil)
    root.variables = globals.merging(variables) { $1 }
    var out = ""
    _ = try execute(body, scope: root, into: &out)
    return out
  }

  // MARK: Statements

  func execute(_ body: [JinjaStatement], scope: JinjaScope, into out: inout String) throws -> JinjaFlow {
    for statement in body {
      switch statement {
      case .text(let t):
        out += t
      case .output(let e):
        out += try evaluate(e, scope).stringValue
      case .ifChain(let branches, let otherwise):
        var taken = false
        for (test, branch) in branches where try evaluate(test, scope).isTruthy {
          taken = true
          let flow = try execute(branch, scope: scope, into: &out)
          if flow != .normal { return flow }
          break
        }
        if !taken {
          let flow = try execute(otherwise, scope: scope, into: &out)
          if flow != .normal { return flow }
        }
      case .forLoop(let target, let iterable, let filter, let loopBody, let otherwise, let offset):
        try located(offset) {
          try runLoop(target, iterable, filter, loopBody, otherwise, scope: scope, into: &out)
        }
      case .set(let target, let expression, let offset):
        let value = try evaluate(expression, scope)
        try located(offset) { try assign(target, value, scope: scope) }
      case .setBlock(let name, let blockBody, let filters, let offset):
        var captured = ""
        _ = try execute(blockBody, scope: scope, into: &captured)
        var value = JinjaValue.string(captured)
        for (filter, arguments) in filters {
          value = try located(offset) {
            try applyFilter(filter, value, try evaluateArguments(arguments, scope))
          }
        }
        scope.variables[name] = value
      case .macro(let name, let parameters, let macroBody):
        scope.variables[name] = makeMacro(name, parameters, macroBody, scope: scope, caller: nil)
      case .callBlock(let call, let parameters, let callerBody, let offset):
        guard case .call(let callee, let arguments, _) = call else { break }
        let caller = makeMacro("caller", parameters, callerBody, scope: scope, caller: nil)
        var args = try evaluateArguments(arguments, scope)
        args.keyword.append(("caller", caller))
        let function = try evaluate(callee, scope)
        out += try located(offset) { try callValue(function, args) }.stringValue
      case .filterBlock(let filters, let filterBody, let offset):
        var captured = ""
        _ = try execute(filterBody, scope: scope, into: &captured)
        var value = JinjaValue.string(captured)
        for (filter, arguments) in filters {
          value = try located(offset) {
            try applyFilter(filter, value, try evaluateArguments(arguments, scope))
          }
        }
        out += value.stringValue
      case .breakLoop:
        return .breakLoop
      case .continueLoop:
        return .continueLoop
      }
    }
    return .normal
  }

  /// Runs `body`, giving any error without a position the position of `offset`.
  func located<T>(_ offset: Int, _ body: () throws -> T) throws -> T {
    do {
      return try body()
    } catch var error as JinjaError where error.position == nil {
      error.position = source.position(offset)
      throw error
    }
  }

  private func runLoop(
    _ target: JinjaTarget, _ iterable: JinjaExpression, _ filter: JinjaExpression?, _ body: [JinjaStatement],
    _ otherwise: [JinjaStatement], scope: JinjaScope, into out: inout String
  ) throws {
    var items = try iterate(try evaluate(iterable, scope))
    let loopScope = JinjaScope(parent: scope)
    if let filter {
      items = try items.filter { item in
        try assign(target, item, scope: loopScope)
        return try evaluate(filter, loopScope).isTruthy
      }
    }
    if items.isEmpty {
      _ = try execute(otherwise, scope: scope, into: &out)
      return
    }
    let depth = (scope.lookup("loop").flatMap { loopDepth($0) } ?? 0) + 1
    for (i, item) in items.enumerated() {
      try assign(target, item, scope: loopScope)
      loopScope.variables["loop"] = loopObject(items, i, depth: depth)
      if try execute(body, scope: loopScope, into: &out) == .breakLoop { break }
    }
  }

  private func loopDepth(_ loop: JinjaValue) -> Int? {
    guard case .dict(let d) = loop, case .int(let depth)? = d["depth"] else { return nil }
    return depth
  }

  /// The `loop` variable of one iteration.
  private func loopObject(_ items: [JinjaValue], _ i: Int, depth: Int) -> JinjaValue {
    let n = items.count
    var loop = JinjaDict()
    loop["index"] = .int(i + 1)
    loop["index0"] = .int(i)
    loop["revindex"] = .int(n - i)
    loop["revindex0"] = .int(n - i - 1)
    loop["first"] = .bool(i == 0)
    loop["last"] = .bool(i == n - 1)
    loop["length"] = .int(n)
    loop["depth"] = .int(depth)
    loop["depth0"] = .int(depth - 1)
    loop["previtem"] = i > 0 ? items[i - 1] : .undefined("there is no previous item")
    loop["nextitem"] = i + 1 < n ? items[i + 1] : .undefined("there is no next item")
    loop["cycle"] = .function(
      JinjaFunction(name: "cycle") { args in
        guard !args.positional.isEmpty else { throw JinjaError(.type, "no items for cycling given") }
        return args.positional[i % args.positional.count]
      })
    return .dict(loop)
  }

  func assign(_ target: JinjaTarget, _ value: JinjaValue, scope: JinjaScope) throws {
    switch target {
    case .name(let n):
      scope.variables[n] = value
    case .attribute(let object, let attribute):
      guard case .namespace(let ns)? = scope.lookup(object) ?? globals[object] else {
        throw JinjaError(.type, "cannot assign attribute on non-namespace object")
      }
      ns.attributes[attribute] = value
    case .tuple(let targets):
      let items = try iterate(value)
      guard items.count == targets.count else {
        throw JinjaError(
          .value,
          items.count < targets.count
            ? "not enough values to unpack (expected \(targets.count), got \(items.count))"
            : "too many values to unpack (expected \(targets.count))")
      }
      for (t, v) in zip(targets, items) { try assign(t, v, scope: scope) }
    }
  }

  /// Python iteration: lists and tuples by item, dicts by key, strings by character.
  func iterate(_ value: JinjaValue) throws -> [JinjaValue] {
    switch value.plain {
    case .undefined: return []
    case .array(let a), .tuple(let a), .generator(let a): return a
    case .dict(let d): return d.keys
    case .string(let s): return PythonString.scalars(s)
    default: throw JinjaError(.type, "'\(value.pythonTypeName)' object is not iterable")
    }
  }

  // MARK: Macros and calls

  private func makeMacro(
    _ name: String, _ parameters: [JinjaParameter], _ body: [JinjaStatement], scope: JinjaScope,
    caller: JinjaValue?
  ) -> JinjaValue {
    .function(
      JinjaFunction(name: name) { [unowned self] args in
        let local = JinjaScope(parent: scope)
        var keyword = args.keyword
        for (i, parameter) in parameters.enumerated() {
          if i < args.positional.count {
            local.variables[parameter.name] = args.positional[i]
          } else if let k = keyword.firstIndex(where: { $0.0 == parameter.name }) {
            local.variables[parameter.name] = keyword.remove(at: k).1
          } else if let d = parameter.defaultValue {
            local.variables[parameter.name] = try evaluate(d, local)
          } else {
            local.variables[parameter.name] = .undefined("parameter '\(parameter.name)' was not provided")
          }
        }
        if let k = keyword.firstIndex(where: { $0.0 == "caller" }) {
          local.variables["caller"] = keyword.remove(at: k).1
        }
        local.variables["varargs"] = .tuple(Array(args.positional.dropFirst(parameters.count)))
        var kwargs = JinjaDict()
        for (k, v) in keyword { kwargs[.string(k)] = v }
        local.variables["kwargs"] = .dict(kwargs)
        var out = ""
        _ = try execute(body, scope: local, into: &out)
        return .string(out)
      })
  }

  func callValue(_ function: JinjaValue, _ args: JinjaArguments) throws -> JinjaValue {
    switch function {
    case .function(let f): return try f.body(args)
    case .undefined(let message):
      throw JinjaError(message.hasPrefix("access to") ? .security : .undefined, message)
    default: throw JinjaError(.type, "'\(function.pythonTypeName)' object is not callable")
    }
  }

  func evaluateArguments(_ arguments: [JinjaCallArgument], _ scope: JinjaScope) throws -> JinjaArguments {
    var result = JinjaArguments()
    for argument in arguments {
      switch argument {
      case .positional(let e): result.positional.append(try evaluate(e, scope))
      case .keyword(let k, let e): result.keyword.append((k, try evaluate(e, scope)))
      case .splat(let e): result.positional += try iterate(try evaluate(e, scope))
      case .keywordSplat(let e):
        guard case .dict(let d) = try evaluate(e, scope) else {
          throw JinjaError(.type, "argument after ** must be a mapping")
        }
        for (k, v) in d { result.keyword.append((k.stringValue, v)) }
      }
    }
    return result
  }

  func applyFilter(_ name: String, _ value: JinjaValue, _ args: JinjaArguments) throws -> JinjaValue {
    guard let filter = JinjaFilters.table[name] else {
      throw JinjaError(.syntax, "No filter named '\(name)' found.")
    }
    return try filter(self, value, args)
  }

  func applyTest(_ name: String, _ value: JinjaValue, _ args: [JinjaValue]) throws -> Bool {
    guard let test = JinjaTestFunctions.table[name] else {
      throw JinjaError(.syntax, "No test named '\(name)' found.")
    }
    return try test(self, value, args)
  }
}
