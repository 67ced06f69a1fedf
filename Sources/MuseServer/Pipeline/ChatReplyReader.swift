import Foundation
import MuseModels
import MuseStore

/// Reads a chat reply as the model writes it: reasoning, content and tool calls apart, each
/// call given an id (the model's own when its format carries one). The API's chat route and
/// the chat app read replies through it, streamed or not, so both see the same calls. The
/// pieces are the parser's `AssistantDelta`s (every call start with its id), and the reply is
/// their fold, `ParsedAssistantMessage`.
struct ChatReplyReader: Sendable {
  private var parser: ToolCallParser?
  /// Everything read so far.
  private(set) var reply = ParsedAssistantMessage()

  /// A reader for plain text (no tools, no reasoning): everything is content.
  init() { parser = nil }

  init(parser: ToolCallParser) { self.parser = parser }

  mutating func read(_ text: String) -> [AssistantDelta] {
    guard parser != nil else { return record([.content(text)]) }
    return record(parser!.append(text))
  }

  /// The end of the reply: what the parser held back (an opener that never became a call is
  /// content after all).
  mutating func finish() -> [AssistantDelta] {
    guard parser != nil else { return [] }
    return record(parser!.finish())
  }

  /// The pieces that say something, each call start with an id, folded into `reply`.
  private mutating func record(_ deltas: [AssistantDelta]) -> [AssistantDelta] {
    let kept = deltas.compactMap { delta -> AssistantDelta? in
      switch delta {
      case .content(let text), .reasoning(let text), .toolCallArguments(_, let text):
        return text.isEmpty ? nil : delta
      case .toolCallStart(let index, nil, let name):
        return .toolCallStart(index: index, id: Self.newCallID(), name: name)
      case .toolCallStart, .invalidToolCall:
        return delta
      }
    }
    reply.apply(kept)
    return kept
  }

  /// OpenAI-style call ids: `call_` and 24 random letters and digits.
  static func newCallID() -> String { "call_" + RandomToken.base62(count: 24) }
}

extension ParsedAssistantMessage {
  /// The calls in OpenAI's shape (read through `ChatReplyReader`, every call has an id).
  var callViews: [ToolCallView] {
    toolCalls.map { ToolCallView(id: $0.id ?? "", name: $0.name, arguments: $0.arguments) }
  }
}
