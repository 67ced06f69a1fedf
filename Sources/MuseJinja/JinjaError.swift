/// Where in a template something happened: 1-based line and column (in characters).
public struct JinjaPosition: Sendable, Equatable, CustomStringConvertible {
  public let line: Int
  public let column: Int

  public init(line: Int, column: Int) {
    self.line = line
    self.column = column
  }

  public var description: String { "line \(line), column \(column)" }
}

/// An error from parsing or rendering a template. `message` is the text jinja2 would give
/// (for `raise_exception("…")`, the template's own words), so callers can show it as is.
public struct JinjaError: Error, Sendable, Equatable, CustomStringConvertible {
  public enum Kind: String, Sendable {
    /// The template is not valid Jinja.
    case syntax
    /// The template called `raise_exception` (jinja2's TemplateError).
    case raised
    /// An undefined value was used where a real one is needed (jinja2's UndefinedError).
    case undefined
    /// An operation on the wrong type of value (Python's TypeError).
    case type
    /// A bad value, e.g. an index out of range or unparsable number (Python's ValueError).
    case value
    /// The sandbox refused an operation, e.g. `list.append` (jinja2's SecurityError).
    case security
  }

  public let kind: Kind
  public let message: String
  /// Where in the template; nil until the interpreter attaches the node it was evaluating.
  public var position: JinjaPosition?

  public init(_ kind: Kind, _ message: String, at position: JinjaPosition? = nil) {
    self.kind = kind
    self.message = message
    self.position = position
  }

  public var description: String {
    guard let position else { return message }
    return "\(message) (template \(position))"
  }
}
