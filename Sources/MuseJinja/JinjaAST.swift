/// The syntax tree of a template: statements that write output and expressions that compute
/// values. Every node keeps its byte offset so runtime errors can name the line and column.
indirect enum JinjaExpression: Sendable {
  case literal(JinjaValue, Int)
  case name(String, Int)
  case list([JinjaExpression], Int)
  case tuple([JinjaExpression], Int)
  case dict([(JinjaExpression, JinjaExpression)], Int)
  /// `a.b` (attribute first, then item) — jinja2's Getattr.
  case attribute(JinjaExpression, String, Int)
  /// `a[b]` (item first, then attribute) — jinja2's Getitem.
  case index(JinjaExpression, JinjaExpression, Int)
  case slice(JinjaExpression, start: JinjaExpression?, stop: JinjaExpression?, step: JinjaExpression?, Int)
  case call(JinjaExpression, [JinjaCallArgument], Int)
  case filter(JinjaExpression, String, [JinjaCallArgument], Int)
  case test(JinjaExpression, String, [JinjaCallArgument], negated: Bool, Int)
  case unary(String, JinjaExpression, Int)
  case binary(String, JinjaExpression, JinjaExpression, Int)
  /// Python's chained comparison: `a < b <= c`.
  case compare(JinjaExpression, [(String, JinjaExpression)], Int)
  case and(JinjaExpression, JinjaExpression, Int)
  case or(JinjaExpression, JinjaExpression, Int)
  case conditional(test: JinjaExpression, then: JinjaExpression, otherwise: JinjaExpression?, Int)

  var offset: Int {
    switch self {
    case .literal(_, let o), .name(_, let o), .list(_, let o), .tuple(_, let o), .dict(_, let o),
      .attribute(_, _, let o), .index(_, _, let o), .slice(_, _, _, _, let o), .call(_, _, let o),
      .filter(_, _, _, let o), .test(_, _, _, _, let o), .unary(_, _, let o), .binary(_, _, _, let o),
      .compare(_, _, let o), .and(_, _, let o), .or(_, _, let o), .conditional(_, _, _, let o):
      return o
    }
  }
}

/// One argument at a call site.
enum JinjaCallArgument: Sendable {
  case positional(JinjaExpression)
  case keyword(String, JinjaExpression)
  case splat(JinjaExpression)
  case keywordSplat(JinjaExpression)
}

/// Where `for` and `set` put values: a name, a tuple to unpack, or a namespace attribute.
indirect enum JinjaTarget: Sendable {
  case name(String)
  case tuple([JinjaTarget])
  case attribute(String, String)
}

/// A macro's parameter with its optional default.
struct JinjaParameter: Sendable {
  let name: String
  let defaultValue: JinjaExpression?
}

indirect enum JinjaStatement: Sendable {
  case text(String)
  case output(JinjaExpression)
  case ifChain([(JinjaExpression, [JinjaStatement])], otherwise: [JinjaStatement])
  case forLoop(
    target: JinjaTarget, iterable: JinjaExpression, filter: JinjaExpression?, body: [JinjaStatement],
    otherwise: [JinjaStatement], offset: Int)
  case set(JinjaTarget, JinjaExpression, offset: Int)
  /// `{% set x %}…{% endset %}`, optionally piped through filters.
  case setBlock(String, body: [JinjaStatement], filters: [(String, [JinjaCallArgument])], offset: Int)
  case macro(name: String, parameters: [JinjaParameter], body: [JinjaStatement])
  /// `{% call(args) m() %}body{% endcall %}`: calls `m` with `caller` bound to the body.
  case callBlock(call: JinjaExpression, parameters: [JinjaParameter], body: [JinjaStatement], offset: Int)
  case filterBlock(filters: [(String, [JinjaCallArgument])], body: [JinjaStatement], offset: Int)
  case breakLoop
  case continueLoop
}
