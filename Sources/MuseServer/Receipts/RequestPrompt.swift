import Foundation
import MuseEngine
import MuseJinja

/// The prompt a request renders to, as the chat and completion routes build it before the
/// input rails: what a verifier (`muse verify --model`) compares with a receipt's prompt token
/// ids, so an added system prompt (or a redaction by the rails) shows.
public enum RequestPrompt {
  /// A message whose content is a list of text parts (typed `text` or untyped, as the spec
  /// allows) reaches the template as one string, as llama-server hands it to text-only
  /// templates; `ChatCompletionRequest` has already refused any other kind of part.
  public static func flattenTextParts(_ message: JinjaValue) -> JinjaValue {
    guard case .dict(var fields) = message else { return message }
    // A null content (allowed by the spec) is an empty one to templates that concatenate it,
    // unless the message carries tool calls, whose templates test for None.
    if case .none? = fields["content"], fields["tool_calls"] == nil {
      fields["content"] = .string("")
      return .dict(fields)
    }
    guard case .array(let parts)? = fields["content"] else { return message }
    var text = ""
    for part in parts {
      guard case .dict(let p) = part, case .string(let piece)? = p["text"] else { continue }
      text += piece
    }
    fields["content"] = .string(text)
    return .dict(fields)
  }

  /// The prompt tokens of a chat request (messages without tools) or a completion request (a
  /// string prompt) under `model`'s template and tokenizer; nil with the reason when the
  /// request is of a kind this does not rebuild (tools, token-id or several prompts).
  public static func tokens(request data: Data, model: LanguageModel) -> (tokens: [Int]?, reason: String) {
    guard case .dict(let fields)? = try? JinjaValue(json: data) else {
      return (nil, "the request is not a JSON object")
    }
    if case .array(let messages)? = fields["messages"] {
      if fields["tools"] != nil, fields["tools"] != JinjaValue.none { return (nil, "a request with tools") }
      guard let rendered = try? model.renderChat(messages: messages.map(flattenTextParts)) else {
        return (nil, "the model's template refuses these messages")
      }
      return (rendered.tokens, "the chat messages under the model's template")
    }
    if case .string(let prompt)? = fields["prompt"] {
      return (model.tokenizer.encode(prompt, addSpecial: true, parseSpecial: false), "the completion prompt")
    }
    return (nil, "neither chat messages nor one text prompt")
  }
}
