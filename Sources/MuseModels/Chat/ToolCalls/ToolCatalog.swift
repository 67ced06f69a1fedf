import MuseJinja

/// What the parser may know of the request's tools: their names (a call to another name is not
/// taken as a call) and each parameter's JSON type (XML-parameter families write values as
/// bare text; the type says whether `3` is the number or the string).
public struct ToolCatalog: Sendable {
  public var parameterTypes: [String: [String: String]]

  public init(parameterTypes: [String: [String: String]]) { self.parameterTypes = parameterTypes }

  /// From OpenAI tool definitions (`{"type": "function", "function": {name, parameters}}`).
  /// A parameter whose schema has several types (`["string", "null"]`) keeps the first
  /// non-null one; one with none gets no type.
  public init(openAITools tools: [JinjaValue]) {
    var types: [String: [String: String]] = [:]
    for tool in tools {
      guard case .dict(let t) = tool else { continue }
      let function: JinjaDict
      if case .dict(let f)? = t["function"] { function = f } else { function = t }
      guard case .string(let name)? = function["name"] else { continue }
      var parameters: [String: String] = [:]
      if case .dict(let schema)? = function["parameters"], case .dict(let properties)? = schema["properties"]
      {
        for (key, value) in properties {
          guard case .dict(let p) = value else { continue }
          switch p["type"] {
          case .string(let type)?: parameters[key.stringValue] = type
          case .array(let list)?:
            if let type = list.map(\.stringValue).first(where: { $0 != "null" }) {
              parameters[key.stringValue] = type
            }
          default: break
          }
        }
      }
      types[name] = parameters
    }
    self.parameterTypes = types
  }

  public var names: Set<String> { Set(parameterTypes.keys) }
}

/// Where the parser's deltas are collected while readers work, and which call is open.
struct CallEmitter {
  var out: [AssistantDelta] = []
  private(set) var nextIndex = 0
  private(set) var open: Int?
  /// Where the raw text of the call being read begins (its opener, or the end of the last call
  /// in the same block): what becomes content if the call turns out malformed.
  var rawStart = 0
  let catalog: ToolCatalog?
  private(set) var openName = ""

  init(catalog: ToolCatalog?) { self.catalog = catalog }

  /// Whether a call to `name` may start: any non-empty name, or one of the tools when known.
  func accepts(name: String) -> Bool {
    if let catalog, !catalog.parameterTypes.isEmpty, catalog.parameterTypes[name] == nil { return false }
    return !name.isEmpty
  }

  /// Starts a call; false when the name is not accepted.
  mutating func start(name: String, id: String?) -> Bool {
    guard accepts(name: name) else { return false }
    out.append(.toolCallStart(index: nextIndex, id: id, name: name))
    open = nextIndex
    openName = name
    nextIndex += 1
    return true
  }

  mutating func arguments(_ fragment: String) {
    guard let open, !fragment.isEmpty else { return }
    out.append(.toolCallArguments(index: open, fragment: fragment))
  }

  /// The open call is whole; text after `offset` belongs to whatever follows.
  mutating func complete(at offset: Int) {
    open = nil
    rawStart = offset
  }

  func parameterType(_ parameter: String) -> String? { catalog?.parameterTypes[openName]?[parameter] }
}
