/// One piece of an assistant's reply as the tool-call parser streams it. Concatenating the
/// pieces of one kind gives the whole of that kind: all `.content` texts give the reply's
/// content, all `.toolCallArguments` fragments of one index give that call's arguments, a JSON
/// object.
public enum AssistantDelta: Equatable, Sendable {
  /// Text for the user (OpenAI's `content`).
  case content(String)
  /// The model's thinking (`reasoning_content`): `<think>…</think>`, harmony's analysis channel.
  case reasoning(String)
  /// A call begins; `id` is the one the model wrote (Kimi's `functions.NAME:0`, Mistral's
  /// `[CALL_ID]`), nil where the format has none and the server makes one.
  case toolCallStart(index: Int, id: String?, name: String)
  /// The next piece of call `index`'s arguments.
  case toolCallArguments(index: Int, fragment: String)
  /// Call `index` turned out malformed after it was started (its arguments stopped being JSON,
  /// or the reply ended inside them). `text` is the call's raw text, which counts as content:
  /// a non-streamed reply drops the call and keeps the text; a stream has already sent the
  /// call's first pieces and can only send the text as content (the server should then end
  /// with `finish_reason: "stop"`).
  case invalidToolCall(index: Int, text: String)
}

/// A tool call read from a reply: the model's id if it wrote one, the function's name and its
/// arguments as a JSON object's text.
public struct ParsedToolCall: Equatable, Sendable {
  public var id: String?
  public var name: String
  public var arguments: String

  public init(id: String?, name: String, arguments: String) {
    self.id = id
    self.name = name
    self.arguments = arguments
  }
}

/// A whole reply, split: what the user reads, what the model thought, and the calls it made.
public struct ParsedAssistantMessage: Equatable, Sendable {
  public var content: String = ""
  public var reasoning: String = ""
  public var toolCalls: [ParsedToolCall] = []
  private var indices: [Int] = []

  public init(content: String = "", reasoning: String = "", toolCalls: [ParsedToolCall] = []) {
    self.content = content
    self.reasoning = reasoning
    self.toolCalls = toolCalls
    self.indices = Array(toolCalls.indices)
  }

  /// Folds deltas in order; this is the only way a parsed message is built, so a reply
  /// parsed whole and the same reply streamed cannot disagree.
  public mutating func apply(_ delta: AssistantDelta) {
    switch delta {
    case .content(let text): content += text
    case .reasoning(let text): reasoning += text
    case .toolCallStart(let index, let id, let name):
      toolCalls.append(ParsedToolCall(id: id, name: name, arguments: ""))
      indices.append(index)
    case .toolCallArguments(let index, let fragment):
      if let at = indices.lastIndex(of: index) { toolCalls[at].arguments += fragment }
    case .invalidToolCall(let index, let text):
      if let at = indices.lastIndex(of: index) {
        toolCalls.remove(at: at)
        indices.remove(at: at)
      }
      content += text
    }
  }

  public mutating func apply(_ deltas: [AssistantDelta]) { for d in deltas { apply(d) } }

  public static func == (a: ParsedAssistantMessage, b: ParsedAssistantMessage) -> Bool {
    a.content == b.content && a.reasoning == b.reasoning && a.toolCalls == b.toolCalls
  }
}
