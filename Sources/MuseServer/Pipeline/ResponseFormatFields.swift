import Foundation
import MuseJinja

/// What shape the reply's content must take, as the client asked for it.
enum OutputConstraintRequest {
  /// `response_format: {"type": "json_object"}`: any JSON object.
  case jsonObject
  /// `response_format: {"type": "json_schema", …}` (or llama-server's `json_object` with a
  /// `schema`): JSON that validates against `schema`.
  case jsonSchema(name: String, schema: JinjaValue)
  /// llama-server's `grammar`: GBNF text.
  case grammar(String)
}

/// Checks `response_format` and `grammar`.
enum ResponseFormatFields {
  /// The longest `grammar` accepted, in bytes.
  static let maxGrammarBytes = 256 * 1024

  static func check(responseFormat: JinjaValue?, grammar: JinjaValue?) throws -> OutputConstraintRequest? {
    let format = try checkFormat(responseFormat)
    switch grammar {
    case nil, .none?:
      return format
    case .string(let text)?:
      guard format == nil else {
        throw OpenAIError.invalid(
          "'grammar' and a JSON 'response_format' cannot be used together: send one of them.",
          param: "grammar", code: "invalid_value")
      }
      guard !text.isEmpty, text.utf8.count <= maxGrammarBytes else {
        throw OpenAIError.invalid(
          "Invalid value for 'grammar': a GBNF grammar of 1 to \(maxGrammarBytes) bytes.", param: "grammar",
          code: "invalid_value")
      }
      return .grammar(text)
    default:
      throw OpenAIError.invalid(
        "Invalid type for 'grammar': expected a string (GBNF).", param: "grammar", code: "invalid_type")
    }
  }

  private static func checkFormat(_ value: JinjaValue?) throws -> OutputConstraintRequest? {
    switch value {
    case nil, .none?:
      return nil
    case .dict(let format)?:
      switch format["type"] {
      case .string("text")?:
        return nil
      case .string("json_object")?:
        if let schema = format["schema"], !schema.isNone {
          guard case .dict = schema else {
            throw invalidType("response_format.schema", "a JSON Schema object")
          }
          return .jsonSchema(name: "response", schema: schema)
        }
        return .jsonObject
      case .string("json_schema")?:
        guard case .dict(let spec)? = format["json_schema"] else {
          throw invalidType("response_format.json_schema", "an object with 'name' and 'schema'")
        }
        guard case .string(let name)? = spec["name"], ToolFields.isValidName(name) else {
          throw OpenAIError.invalid(
            "Invalid value for 'response_format.json_schema.name': 1 to 64 letters, digits, underscores or dashes.",
            param: "response_format.json_schema.name", code: "invalid_value")
        }
        switch spec["strict"] {
        case nil, .none?, .bool?: break
        default: throw invalidType("response_format.json_schema.strict", "a boolean")
        }
        switch spec["schema"] {
        case nil, .none?:
          return .jsonObject
        case .dict?:
          return .jsonSchema(name: name, schema: spec["schema"]!)
        default:
          throw invalidType("response_format.json_schema.schema", "a JSON Schema object")
        }
      case nil:
        throw OpenAIError.invalid(
          "Missing required parameter: 'response_format.type'.", param: "response_format.type",
          code: "missing_required_parameter")
      default:
        throw OpenAIError.invalid(
          "Invalid value for 'response_format.type': supported values are 'text', 'json_object' and 'json_schema'.",
          param: "response_format.type", code: "invalid_value")
      }
    default:
      throw invalidType("response_format", "an object")
    }
  }

  private static func invalidType(_ param: String, _ expected: String) -> OpenAIError {
    OpenAIError.invalid(
      "Invalid type for '\(param)': expected \(expected).", param: param, code: "invalid_type")
  }
}
