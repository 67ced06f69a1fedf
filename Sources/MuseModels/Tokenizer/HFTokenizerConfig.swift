import Foundation

/// `tokenizer_config.json`: the chat template (a string, or a list of named templates), the
/// BOS/EOS token texts (strings or `{"content": …}` objects) and whether BOS/EOS are added.
public struct HuggingFaceTokenizerConfig: Sendable {
  /// The template named "default" (or the only one), when the file has any.
  public let chatTemplate: String?
  /// All named templates ("default", "tool_use", …); a single string is named "default".
  public let chatTemplates: [String: String]
  public let bosToken: String?
  public let eosToken: String?
  public let addBOS: Bool?
  public let addEOS: Bool?

  public init(path: String) throws {
    guard let data = FileManager.default.contents(atPath: path),
      let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
    else {
      throw TokenizerError.unsupportedComponent(
        file: path, component: "tokenizer_config.json", reason: "not a JSON object")
    }
    var templates: [String: String] = [:]
    if let s = json["chat_template"] as? String {
      templates["default"] = s
    } else if let list = json["chat_template"] as? [[String: Any]] {
      for t in list {
        if let name = t["name"] as? String, let template = t["template"] as? String {
          templates[name] = template
        }
      }
    }
    chatTemplates = templates
    chatTemplate = templates["default"] ?? (templates.count == 1 ? templates.values.first : nil)
    func token(_ key: String) -> String? {
      if let s = json[key] as? String { return s }
      return (json[key] as? [String: Any])?["content"] as? String
    }
    bosToken = token("bos_token")
    eosToken = token("eos_token")
    addBOS = json["add_bos_token"] as? Bool
    addEOS = json["add_eos_token"] as? Bool
  }
}
