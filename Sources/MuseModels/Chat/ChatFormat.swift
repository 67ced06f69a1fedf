import Foundation

/// Turns a conversation into the prompt text a model was trained on.
///
/// Until the Jinja interpreter lands this recognises the two prompt formats most GGUF chat
/// models use from their template source, and refuses others rather than guessing.
public enum ChatFormat: Sendable, Equatable {
  /// `<|im_start|>role\ncontent<|im_end|>\n` (Qwen, SmolLM, OLMoE-Instruct, Hermes).
  /// `defaultSystem` is the system turn the template inserts when the conversation has none.
  case chatML(defaultSystem: String?)
  /// `<|start_header_id|>role<|end_header_id|>\n\ncontent<|eot_id|>` (Llama 3.x).
  case llama3

  public struct UnsupportedTemplate: Error, CustomStringConvertible {
    public let file: String
    public init(file: String) { self.file = file }
    public var description: String {
      "\(file): its chat template is not one Muse can apply yet (ChatML or Llama 3); use --raw to send the prompt as is"
    }
  }

  /// The format a `tokenizer.chat_template` source describes, or nil when unrecognised.
  public static func detect(template: String) -> ChatFormat? {
    if template.contains("<|im_start|>") {
      return .chatML(defaultSystem: defaultSystemTurn(in: template))
    }
    if template.contains("<|start_header_id|>") { return .llama3 }
    return nil
  }

  private static func defaultSystemTurn(in template: String) -> String? {
    // Templates that add a system turn when none is given spell it as a literal.
    guard template.contains("!= 'system'") || template.contains("!= \"system\""),
      let start = template.range(of: "<|im_start|>system\n"),
      let end = template.range(of: "<|im_end|>", range: start.upperBound..<template.endIndex)
    else { return nil }
    return String(template[start.upperBound..<end.lowerBound])
  }

  /// The prompt for `messages`, ending with the assistant's turn header when
  /// `addGenerationPrompt`.
  public func render(_ messages: [ChatMessage], addGenerationPrompt: Bool = true, bosToken: String = "")
    -> String
  {
    var out = ""
    switch self {
    case .chatML(let defaultSystem):
      if let defaultSystem, messages.first?.role != "system" {
        out += "<|im_start|>system\n\(defaultSystem)<|im_end|>\n"
      }
      for m in messages { out += "<|im_start|>\(m.role)\n\(m.content)<|im_end|>\n" }
      if addGenerationPrompt { out += "<|im_start|>assistant\n" }
    case .llama3:
      out += bosToken
      for m in messages {
        let content = m.content.trimmingCharacters(in: .whitespacesAndNewlines)
        out += "<|start_header_id|>\(m.role)<|end_header_id|>\n\n\(content)<|eot_id|>"
      }
      if addGenerationPrompt { out += "<|start_header_id|>assistant<|end_header_id|>\n\n" }
    }
    return out
  }
}
