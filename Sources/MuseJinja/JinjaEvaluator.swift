import Foundation

/// Expression evaluation: names, literals, access, calls, filters, tests, boolean logic.
extension JinjaInterpreter {
  func evaluate(_ expression: JinjaExpression, _ scope: JinjaScope) throws -> JinjaValue {
    do {
      return try evaluateUnlocated(expression, scope)
    } catch var error as JinjaError where error.position == nil {
      error.position = source.position(expression.offset)
      throw error
    }
  }

  private func evaluateUnlocated(_ expression: JinjaExpression, _ scope: JinjaScope) throws -> JinjaValue {
    switch expression {
    case .literal(let v, _):
      return v
    case .name(let n, _):
      return scope.lookup(n) ?? .undefinedName(n)
    case .list(let items, _):
      return .array(try items.map { try evaluate($0, scope) })
    case .tuple(let items, _):
      return .tuple(try items.map { try evaluate($0, scope) })
    case .dict(let pairs, _):
      var d = JinjaDict()
      for (k, v) in pairs {
        let key = try evaluate(k, scope)
        d[key] = try evaluate(v, scope)
      }
      return .dict(d)
    case .attribute(let object, let name, _):
      return try attribute(of: try evaluate(object, scope), name)
    case .index(let object, let key, _):
      return try item(of: try evaluate(object, scope), try evaluate(key, scope))
    case .slice(let object, let start, let stop, let step, _):
      let value = try evaluate(object, scope)
      return try slice(
        value, try start.map { try evaluate($0, scope) }, try stop.map { try evaluate($0, scope) },
        try step.map { try evaluate($0, scope) })
    case .call(let callee, let arguments, _):
      let function = try evaluate(callee, scope)
      return try callValue(function, try evaluateArguments(arguments, scope))
    case .filter(let value, let name, let arguments, _):
      let v = try evaluate(value, scope)
      return try applyFilter(name, v, try evaluateArguments(arguments, scope))
    case .test(let value, let name, let arguments, let negated, _):
      let v = try evaluate(value, scope)
      let args = try evaluateArguments(arguments, scope).positional
      return .bool(try applyTest(name, v, args) != negated)
    case .unary(let op, let operand, _):
      let v = try evaluate(operand, scope)
      switch op {
      case "not": return .bool(!v.isTruthy)
      case "-":
        switch v {
        case .int(let i): return .int(-i)
        case .bool(let b): return .int(b ? -1 : 0)
        case .float(let d): return .float(-d)
        case .undefined(let m): throw JinjaError(.undefined, m)
        default: throw JinjaError(.type, "bad operand type for unary -: '\(v.pythonTypeName)'")
        }
      default:
        guard v.numeric != nil else {
          throw JinjaError(.type, "bad operand type for unary +: '\(v.pythonTypeName)'")
        }
        return v
      }
    case .binary(let op, let left, let right, _):
      return try JinjaOperators.binary(op, try evaluate(left, scope), try evaluate(right, scope))
    case .compare(let first, let rest, _):
      var left = try evaluate(first, scope)
      for (op, rightExpression) in rest {
        let right = try evaluate(rightExpression, scope)
        guard try JinjaOperators.compare(op, left, right) else { return .bool(false) }
        left = right
      }
      return .bool(true)
    case .and(let left, let right, _):
      let l = try evaluate(left, scope)
      return l.isTruthy ? try evaluate(right, scope) : l
    case .or(let left, let right, _):
      let l = try evaluate(left, scope)
      return l.isTruthy ? l : try evaluate(right, scope)
    case .conditional(let test, let then, let otherwise, let offset):
      if try evaluate(test, scope).isTruthy { return try evaluate(then, scope) }
      if let otherwise { return try evaluate(otherwise, scope) }
      return .undefined(
        "the inline if-expression on line \(source.position(offset).line) evaluated to false and no else"
          + " section was defined.")
    }
  }

  /// `obj.name`: jinja2's sandboxed getattr, which prefers Python attributes (methods), then items.
  func attribute(of object: JinjaValue, _ name: String) throws -> JinjaValue {
    if case .undefined(let message) = object { throw JinjaError(.undefined, message) }
    if let method = try JinjaMethods.method(object, name) { return method }
    switch object {
    case .dict(let d):
      if let v = d[name] { return v }
    case .namespace(let ns):
      if let v = ns.attributes[name] { return v }
    default: break
    }
    return .undefined("'\(object.objectTypeRepr)' has no attribute '\(name)'")
  }

  /// `obj[key]`: items first, then (for string keys) attributes, as jinja2's getitem does.
  func item(of markupOrObject: JinjaValue, _ key: JinjaValue) throws -> JinjaValue {
    let object = markupOrObject.plain
    if case .undefined(let message) = object { throw JinjaError(.undefined, message) }
    switch (object, key) {
    case (.dict(let d), _):
      if let v = d[key] { return v }
    case (.array(let a), _), (.tuple(let a), _), (.generator(let a), _):
      if let i = key.integer {
        let index = i < 0 ? a.count + i : i
        if index >= 0 && index < a.count { return a[index] }
      }
    case (.string(let s), _):
      if let i = key.integer {
        let scalars = Array(s.unicodeScalars)
        let index = i < 0 ? scalars.count + i : i
        if index >= 0 && index < scalars.count { return .string(String(scalars[index])) }
      }
    default: break
    }
    if case .string(let name) = key {
      if let method = try JinjaMethods.method(object, name) { return method }
      return .undefined("'\(object.objectTypeRepr)' has no attribute '\(name)'")
    }
    return .undefined("\(object.objectTypeRepr) has no element \(key.repr)")
  }

  /// Python slicing `x[start:stop:step]` on lists, tuples and strings.
  func slice(_ value: JinjaValue, _ start: JinjaValue?, _ stop: JinjaValue?, _ step: JinjaValue?) throws
    -> JinjaValue
  {
    func bound(_ v: JinjaValue?) throws -> Int? {
      guard let v, !v.isNone else { return nil }
      guard let i = v.integer else {
        throw JinjaError(.type, "slice indices must be integers or None or have an __index__ method")
      }
      return i
    }
    let stepValue = try bound(step) ?? 1
    guard stepValue != 0 else { throw JinjaError(.value, "slice step cannot be zero") }
    func pick<T>(_ items: [T]) throws -> [T] {
      let n = items.count
      func clamp(_ i: Int?, _ fallback: Int) -> Int {
        guard var i else { return fallback }
        if i < 0 { i += n }
        return stepValue > 0 ? min(max(i, 0), n) : min(max(i, -1), n - 1)
      }
      let from = clamp(try bound(start), stepValue > 0 ? 0 : n - 1)
      let to = clamp(try bound(stop), stepValue > 0 ? n : -1)
      var result: [T] = []
      var i = from
      while stepValue > 0 ? i < to : i > to {
        result.append(items[i])
        i += stepValue
      }
      return result
    }
    switch value.plain {
    case .array(let a), .generator(let a): return .array(try pick(a))
    case .tuple(let a): return .tuple(try pick(a))
    case .string(let s): return .string(String(String.UnicodeScalarView(try pick(Array(s.unicodeScalars)))))
    case .undefined(let m): throw JinjaError(.undefined, m)
    default: throw JinjaError(.type, "'\(value.pythonTypeName)' object is not subscriptable")
    }
  }
}
