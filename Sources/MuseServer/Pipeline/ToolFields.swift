import Foundation
import MuseJinja
import MuseModels

/// What a request asks of tools: the list the template sees and how the model may use them.
struct ToolRequest {
  enum Choice: Equatable {
    /// The model decides: free text, or calls once it writes a call opener.
    case auto
    /// At least one call, and nothing else.
    case required
    /// Exactly this function (one call, or several of it with `parallel_tool_calls`).
    case named(String)
  }
  /// The tools as the client sent them (the template's `tools`), in order.
  var tools: [JinjaValue]
  var choice: Choice
  /// `parallel_tool_calls` (OpenAI's default true): false allows at most one call a turn.
  var parallel: Bool

  /// The function names, in order.
  var names: [String] { tools.compactMap(\.functionName) }

  /// Each function's `parameters` schema (an empty object schema when it has none).
  var parameters: [(name: String, schema: JinjaValue)] {
    tools.compactMap { tool in
      guard let name = tool.functionName else { return nil }
      if case .dict(let t) = tool, case .dict(let f)? = t["function"], let p = f["parameters"] {
        return (name, p)
      }
      return (name, .dict(JinjaDict()))
    }
  }
}

/// Checks `tools`, `tool_choice` and `parallel_tool_calls` as OpenAI does, before they reach the
/// model's template.
enum ToolFields {
  /// The tools and how to use them, nil when the model gets none (no tools, or
  /// `tool_choice: "none"`), or a 400 naming what is wrong.
  static func check(tools: JinjaValue?, choice: JinjaValue?, parallel: JinjaValue? = nil) throws
    -> ToolRequest?
  {
    var names: [String] = []
    var list: [JinjaValue] = []
    switch tools {
    case nil, .none?: break
    case .array(let items)?:
      guard items.count <= 128 else {
        throw invalid("tools", "at most 128 tools are allowed")
      }
      for (i, item) in items.enumerated() {
        guard case .dict(let tool) = item else {
          throw invalid("tools[\(i)]", "each tool must be an object", code: "invalid_type")
        }
        guard case .string("function")? = tool["type"] else {
          throw invalid("tools[\(i)].type", "'type' must be \"function\"")
        }
        guard case .dict(let function)? = tool["function"] else {
          throw invalid(
            "tools[\(i)].function", "'function' must be an object with a 'name'", code: "invalid_type")
        }
        guard case .string(let name)? = function["name"], Self.isValidName(name) else {
          throw invalid(
            "tools[\(i)].function.name",
            "a function name must be 1 to 64 letters, digits, underscores or dashes")
        }
        guard !names.contains(name) else {
          throw invalid("tools[\(i)].function.name", "'\(name)' is the name of an earlier tool")
        }
        if let parameters = function["parameters"], !parameters.isDictionary {
          throw invalid(
            "tools[\(i)].function.parameters", "'parameters' must be a JSON Schema object",
            code: "invalid_type")
        }
        names.append(name)
      }
      list = items
    default:
      throw invalid("tools", "'tools' must be an array of tools", code: "invalid_type")
    }
    let parallelCalls: Bool
    switch parallel {
    case nil, .none?: parallelCalls = true
    case .bool(let b)?: parallelCalls = b
    default:
      throw invalid("parallel_tool_calls", "'parallel_tool_calls' must be a boolean", code: "invalid_type")
    }
    let resolved: ToolRequest.Choice
    switch choice {
    case nil, .none?, .string("auto")?:
      resolved = .auto
    case .string("none")?:
      return nil
    case .string("required")?:
      guard !list.isEmpty else {
        throw invalid("tool_choice", "\"required\" needs at least one tool in 'tools'")
      }
      resolved = .required
    case .dict(let named)?:
      guard case .dict(let function)? = named["function"], case .string(let name)? = function["name"] else {
        throw invalid(
          "tool_choice", "a named tool choice is {\"type\": \"function\", \"function\": {\"name\": …}}")
      }
      guard names.contains(name) else {
        throw invalid("tool_choice", "'\(name)' is not one of the request's tools")
      }
      resolved = .named(name)
    default:
      throw invalid(
        "tool_choice", "'tool_choice' must be \"none\", \"auto\", \"required\" or a named function")
    }
    guard !list.isEmpty else { return nil }
    return ToolRequest(tools: list, choice: resolved, parallel: parallelCalls)
  }

  /// OpenAI's rule for function and schema names.
  static func isValidName(_ name: String) -> Bool {
    !name.isEmpty && name.count <= 64
      && name.unicodeScalars.allSatisfy {
        $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "_" || $0 == "-")
      }
  }

  private static func invalid(_ param: String, _ message: String, code: String = "invalid_value")
    -> OpenAIError
  {
    OpenAIError.invalid("Invalid value for '\(param)': \(message).", param: param, code: code)
  }
}

extension JinjaValue {
  fileprivate var isDictionary: Bool {
    if case .dict = self { return true }
    return false
  }

  /// A tool's `function.name`.
  fileprivate var functionName: String? {
    guard case .dict(let t) = self, case .dict(let f)? = t["function"], case .string(let n)? = f["name"]
    else {
      return nil
    }
    return n
  }
}
