import Foundation
import MuseModels
import MuseStore

/// Reads a chat reply as the model writes it: reasoning, content and tool calls apart, each
/// call given an id (the model's own when its format carries one). The API's chat route and
/// the chat app read replies through it, streamed or not, so both see the same calls.
struct ChatReplyReader: Sendable {
  enum Piece: Equatable {
    case content(String)
    case reasoning(String)
    case callStart(index: Int, id: String, name: String)
    case callArguments(index: Int, fragment: String)
    /// Call `index` turned out malformed (the reply ended inside it): `text`, what the model
    /// wrote for it, is content after all. A stream has sent the call's first pieces already.
    case invalidCall(index: Int, text: String)
  }

  /// Everything read so far.
  struct Reply: Equatable {
    var content = ""
    var reasoning = ""
    /// Calls by the parser's index; a call found malformed after it began is dropped.
    private var slots: [Int: ToolCallView] = [:]
    var calls: [ToolCallView] { slots.keys.sorted().compactMap { slots[$0] } }

    /// Adds a piece; false for one that adds nothing (empty text, a call's second start).
    mutating func apply(_ piece: Piece) -> Bool {
      switch piece {
      case .content(let text):
        guard !text.isEmpty else { return false }
        content += text
      case .reasoning(let text):
        guard !text.isEmpty else { return false }
        reasoning += text
      case .callStart(let index, let id, let name):
        guard slots[index] == nil else { return false }
        slots[index] = ToolCallView(id: id, name: name, arguments: "")
      case .callArguments(let index, let fragment):
        guard slots[index] != nil, !fragment.isEmpty else { return false }
        slots[index]!.function.arguments += fragment
      case .invalidCall(let index, let text):
        slots[index] = nil
        content += text
      }
      return true
    }
  }

  private var parser: ToolCallParser?
  private(set) var reply = Reply()

  /// A reader for plain text (no tools, no reasoning): everything is content.
  init() { parser = nil }

  init(parser: ToolCallParser) { self.parser = parser }

  mutating func read(_ text: String) -> [Piece] {
    guard parser != nil else { return record([.content(text)]) }
    return record(parser!.append(text).map(piece))
  }

  /// The end of the reply: what the parser held back (an opener that never became a call is
  /// content after all).
  mutating func finish() -> [Piece] {
    guard parser != nil else { return [] }
    return record(parser!.finish().map(piece))
  }

  private func piece(_ delta: AssistantDelta) -> Piece {
    switch delta {
    case .content(let text): return .content(text)
    case .reasoning(let text): return .reasoning(text)
    case .toolCallStart(let index, let id, let name):
      return .callStart(index: index, id: id ?? Self.newCallID(), name: name)
    case .toolCallArguments(let index, let fragment): return .callArguments(index: index, fragment: fragment)
    case .invalidToolCall(let index, let text): return .invalidCall(index: index, text: text)
    }
  }

  private mutating func record(_ pieces: [Piece]) -> [Piece] {
    pieces.filter { reply.apply($0) }
  }

  /// OpenAI-style call ids: `call_` and 24 random letters and digits.
  static func newCallID() -> String { "call_" + RandomToken.base62(count: 24) }
}
