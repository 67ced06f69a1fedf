import Foundation

/// A parsed Jinja template, rendered with the options Hugging Face chat templates assume
/// (trim_blocks, lstrip_blocks, loop controls, the sandbox's immutable lists and dicts).
public struct JinjaTemplate: Sendable {
  private let source: JinjaSource
  private let body: [JinjaStatement]

  /// Parses `source`; a syntax error names the line and column.
  public init(_ source: String) throws {
    self.source = JinjaSource(source)
    self.body = try JinjaParser.parse(self.source)
  }

  /// Renders with the given variables. `now` is what `strftime_now` reports (default: the
  /// clock), so tests and goldens can fix the date.
  public func render(_ variables: [String: JinjaValue], now: Date? = nil) throws -> String {
    let interpreter = JinjaInterpreter(source: source)
    if let now { interpreter.now = { now } }
    return try interpreter.render(body, variables: variables)
  }
}
