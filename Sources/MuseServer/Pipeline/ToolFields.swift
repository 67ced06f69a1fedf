import Foundation
import MuseJinja
import MuseModels

/// Checks `tools` and `tool_choice` as OpenAI does, before they reach the model's template.
enum ToolFields {
  /// The tools to give the template (none for `tool_choice: "none"`), or a 400 naming what is
  /// wrong. Muse does not yet parse tool calls, so it refuses what it cannot honour
  /// (`required` or a named function) rather than ignoring it.
  static func check(tools: JinjaValue?, choice: JinjaValue?) throws -> [JinjaValue]? {
    var names: [String] = []
    var list: [JinjaValue]?
    switch tools {
    case nil, .none?: break
    case .array(let items)?:
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
    switch choice {
    case nil, .none?, .string("auto")?:
      return list
    case .string("none")?:
      return nil
    case .string("required")?:
      throw OpenAIError.invalid(
        "'tool_choice': \"required\" is not supported yet: this server does not parse tool calls.",
        param: "tool_choice", code: "unsupported_value")
    case .dict(let named)?:
      guard case .dict(let function)? = named["function"], case .string(let name)? = function["name"] else {
        throw invalid(
          "tool_choice", "a named tool choice is {\"type\": \"function\", \"function\": {\"name\": …}}")
      }
      guard names.contains(name) else {
        throw invalid("tool_choice", "'\(name)' is not one of the request's tools")
      }
      throw OpenAIError.invalid(
        "A named 'tool_choice' is not supported yet: this server does not parse tool calls.",
        param: "tool_choice", code: "unsupported_value")
    default:
      throw invalid(
        "tool_choice", "'tool_choice' must be \"none\", \"auto\", \"required\" or a named function")
    }
  }

  private static func isValidName(_ name: String) -> Bool {
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
}
