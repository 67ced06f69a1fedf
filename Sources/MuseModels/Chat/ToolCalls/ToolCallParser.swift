import MuseJinja

/// What a call reader did with the text it was given.
enum ReadResult {
  /// It needs more text to decide (never returned at the end of the reply).
  case needMore
  /// Its calls are read; plain text resumes at `offset` (a new segment header when `endedSegment`).
  case done(at: Int, endedSegment: Bool = false)
  /// The text stops being a call at `offset`: what the reader took since the last whole call
  /// becomes content, and plain text resumes there.
  case malformed(at: Int)
}

/// Splits a model's reply, as it streams, into content, reasoning and tool calls in the
/// syntax of one `ToolCallFormat`.
///
/// Text that could still become a marker (a call opener, `<think>`) is held back until it is
/// known not to be one, so no part of a marker reaches the client. Whitespace around markers is
/// layout: it is dropped at the start and end of each run of content or reasoning.
/// A call's argument fragments concatenate to a JSON object (`{}` for a call without
/// arguments); families that write JSON have it checked byte by byte as it streams, XML-style
/// families have each parameter converted when its value is whole.
///
/// Malformed calls: text after an opener that is not a call (no name, a name not among the
/// tools when they are known, bytes that are not JSON) is content from the opener on; a call
/// already started when that happens, or still unfinished when the reply ends, is withdrawn
/// with `.invalidToolCall` carrying its raw text as content. A whole call followed by a missing
/// closer (`</tool_call>`) at the end of the reply is still a call.
public struct ToolCallParser: Sendable {
  public let format: ToolCallFormat
  private var buffer = ParseBuffer()
  private var pos = 0
  private var mode: Mode
  private var calls: CallEmitter
  private var pendingWhitespace = ""
  private var atRunStart = true
  private var contentEmitted = false
  /// Where the opener of the call being read ends: text resumes no earlier, so an opener that
  /// starts no call is content and is not read again.
  private var openerEnd = 0

  private enum Kind { case content, reasoning }
  private enum Mode {
    case text(Kind)
    case header
    case json(JSONCallBlockReader)
    case named(NamedCallReader)
    case xml(XMLParameterReader)
    case delimited(DelimitedCallReader)
  }

  private enum MarkerAction {
    case reasoningOpen, reasoningClose, strayReasoningClose, dropped, segmentEnd, opener
  }

  /// - Parameters:
  ///   - startsInReasoning: the prompt opened reasoning (`format.promptOpensReasoning(prompt)`).
  ///   - tools: the request's tools, to refuse calls to unknown names and type XML-style values.
  public init(format: ToolCallFormat, startsInReasoning: Bool = false, tools: ToolCatalog? = nil) {
    self.format = format
    self.calls = CallEmitter(catalog: tools)
    if format.segments != nil {
      mode = .header
    } else if format.replyStartsAfterOpener, case .named(let syntax) = format.syntax {
      mode = .named(NamedCallReader(syntax: syntax, at: 0, inSection: false))
    } else {
      mode = .text(startsInReasoning ? .reasoning : .content)
    }
  }

  /// Adds generated text; returns what can be told now.
  public mutating func append(_ text: String) -> [AssistantDelta] {
    buffer.append(text)
    run(atEnd: false)
    return takeOutput()
  }

  /// The reply has ended: everything held back is decided.
  public mutating func finish() -> [AssistantDelta] {
    run(atEnd: true)
    return takeOutput()
  }

  /// A whole reply, parsed as the fold of the streaming parser, so the two cannot disagree.
  public static func parse(
    _ text: String, format: ToolCallFormat, startsInReasoning: Bool = false, tools: ToolCatalog? = nil
  ) -> ParsedAssistantMessage {
    var parser = ToolCallParser(format: format, startsInReasoning: startsInReasoning, tools: tools)
    var message = ParsedAssistantMessage()
    message.apply(parser.append(text))
    message.apply(parser.finish())
    return message
  }

  private mutating func takeOutput() -> [AssistantDelta] {
    let keep = min(pos, calls.rawStart)
    buffer.discard(before: keep)
    defer { calls.out.removeAll(keepingCapacity: true) }
    return calls.out
  }

  private mutating func run(atEnd: Bool) {
    while true {
      switch mode {
      case .text(let kind): if !stepText(kind, atEnd: atEnd) { return }
      case .header: if !stepHeader(atEnd: atEnd) { return }
      case .json(var reader):
        let result = reader.read(buffer, &calls, atEnd: atEnd)
        mode = .json(reader)
        if !finishRead(result) { return }
      case .named(var reader):
        let result = reader.read(buffer, &calls, atEnd: atEnd)
        mode = .named(reader)
        if !finishRead(result) { return }
      case .xml(var reader):
        let result = reader.read(buffer, &calls, atEnd: atEnd)
        mode = .xml(reader)
        if !finishRead(result) { return }
      case .delimited(var reader):
        let result = reader.read(buffer, &calls, atEnd: atEnd)
        mode = .delimited(reader)
        if !finishRead(result) { return }
      }
    }
  }

  /// Back to text after a reader; false when it waits for more.
  private mutating func finishRead(_ result: ReadResult) -> Bool {
    switch result {
    case .needMore: return false
    case .done(var offset, let endedSegment):
      offset = max(offset, openerEnd)
      pos = offset
      calls.rawStart = offset
      mode = endedSegment ? .header : .text(.content)
    case .malformed(var offset):
      offset = max(offset, openerEnd)
      var raw = buffer.text(calls.rawStart, offset)
      if !raw.isEmpty {
        raw = pendingWhitespace + raw
        pendingWhitespace = ""
      }
      if let open = calls.open {
        calls.out.append(.invalidToolCall(index: open, text: raw))
        calls.complete(at: offset)
      } else if !raw.isEmpty {
        calls.out.append(.content(raw))
      }
      if !raw.isEmpty { contentEmitted = true }
      pos = offset
      calls.rawStart = offset
      mode = .text(.content)
    }
    atRunStart = true
    return true
  }

  // MARK: plain text

  private func markers(for kind: Kind) -> [(bytes: [UInt8], action: MarkerAction)] {
    var list: [(bytes: [UInt8], action: MarkerAction)] = []
    if let segments = format.segments { list += segments.ends.map { ($0.utf8Bytes, .segmentEnd) } }
    switch kind {
    case .reasoning:
      if let r = format.reasoning { list.append((r.close.utf8Bytes, .reasoningClose)) }
    case .content:
      if let r = format.reasoning { list.append((r.open.utf8Bytes, .reasoningOpen)) }
      // A reply whose prompt opened reasoning unseen (or whose template writes an empty
      // reasoning as a bare `</think>`) starts with the close: nothing to show.
      if let r = format.reasoning, !contentEmitted { list.append((r.close.utf8Bytes, .strayReasoningClose)) }
      list += format.droppedMarkers.map { ($0.utf8Bytes, .dropped) }
      var openers = format.triggers
      if case .headersOnly = format.syntax { openers = [] }
      if case .jsonBlock(let s) = format.syntax, s.onlyAtStart, contentEmitted { openers = [] }
      list += openers.map { ($0.utf8Bytes, .opener) }
    }
    return list
  }

  private mutating func stepText(_ kind: Kind, atEnd: Bool) -> Bool {
    let active = markers(for: kind)
    let bytes = active.map(\.bytes)
    if let match = buffer.firstMatch(of: bytes, from: pos) {
      // Only before any content: text before it in this run makes it plain text.
      if active[match.marker].action == .strayReasoningClose, buffer.skipWhitespace(from: pos) != match.offset
      {
        emit(kind, upTo: match.offset + bytes[match.marker].count, final: false)
        return true
      }
      if active[match.marker].action == .opener, case .jsonBlock(let s) = format.syntax, s.onlyAtStart,
        buffer.skipWhitespace(from: pos) != match.offset
      {
        // A start-only opener after other text: that text is content, and no call follows.
        emit(kind, upTo: match.offset + 1, final: false)
        return true
      }
      // Whitespace before a call is kept pending: if content follows the call, it separates them.
      let action = active[match.marker].action
      emit(kind, upTo: match.offset, final: action != .opener && action != .dropped)
      let after = match.offset + bytes[match.marker].count
      pos = after
      switch action {
      case .reasoningOpen: mode = .text(.reasoning)
      case .reasoningClose: mode = .text(.content)
      case .dropped, .strayReasoningClose: return true
      case .segmentEnd: mode = .header
      case .opener: startReader(opener: match.offset, after: after)
      }
      atRunStart = true
      return true
    }
    let hold = atEnd ? buffer.end : buffer.heldBackStart(for: bytes, from: pos)
    emit(kind, upTo: hold, final: atEnd)
    return false
  }

  private mutating func startReader(opener: Int, after: Int) {
    calls.rawStart = opener
    openerEnd = after
    switch format.syntax {
    case .jsonBlock(let s):
      // Llama's `{"name"` is the JSON's own beginning; its `<|python_tag|>` is not.
      let inJSON = s.openerIsPartOfJSON && buffer[opener] == UInt8(ascii: "{")
      mode = .json(JSONCallBlockReader(syntax: s, at: inJSON ? opener : after))
    case .named(let s):
      let inSection = s.sectionOpen != nil && buffer.hasPrefix(s.sectionOpen!.utf8Bytes, at: opener)
      mode = .named(NamedCallReader(syntax: s, at: after, inSection: inSection))
    case .xmlParameters(let s): mode = .xml(XMLParameterReader(syntax: s, at: after))
    case .delimited(let s): mode = .delimited(DelimitedCallReader(syntax: s, at: after))
    case .headersOnly: mode = .text(.content)
    }
  }

  /// Hands out text up to `end` as one kind, dropping whitespace at the start of a run and
  /// holding trailing whitespace until more text shows it is inside the run (`final` drops it).
  private mutating func emit(_ kind: Kind, upTo end: Int, final: Bool) {
    var text = Substring(buffer.text(pos, end))
    pos = end
    if atRunStart { text = text.drop(while: \.isWhitespace) }
    let body = text.reversed().drop(while: \.isWhitespace).count
    let trailing = text.suffix(text.count - body)
    let piece = text.prefix(body)
    if !piece.isEmpty {
      let value = pendingWhitespace + piece
      calls.out.append(kind == .content ? .content(value) : .reasoning(value))
      pendingWhitespace = ""
      atRunStart = false
      if kind == .content { contentEmitted = true }
    }
    if final { pendingWhitespace = "" } else if !atRunStart { pendingWhitespace += trailing }
  }

  // MARK: headed segments (harmony, ATEM)

  private mutating func stepHeader(atEnd: Bool) -> Bool {
    guard let segments = format.segments else { return false }
    let headerEnd = segments.headerEnd.utf8Bytes
    let found = buffer.firstMatch(of: [headerEnd], from: pos)
    guard let found, found.offset - pos <= segments.maximumHeaderBytes else {
      if atEnd || buffer.end - pos > segments.maximumHeaderBytes + headerEnd.count {
        mode = .text(.content)  // not a header: plain content
        atRunStart = true
        return true
      }
      return false
    }
    let header = buffer.text(pos, found.offset)
    pos = found.offset + headerEnd.count
    atRunStart = true
    let recipient = Self.word(after: "to=", in: header)
    let channel = Self.word(after: "<|channel|>", in: header)
    if let prefix = segments.functionRecipientPrefix, let recipient, recipient.hasPrefix(prefix) {
      calls.rawStart = pos
      openerEnd = pos
      mode = .named(
        NamedCallReader(name: String(recipient.dropFirst(prefix.count)), at: pos, ends: segments.ends))
    } else if let channel, segments.reasoningChannels.contains(channel) {
      mode = .text(.reasoning)
    } else if let recipient, segments.reasoningRecipients.contains(recipient) {
      mode = .text(.reasoning)
    } else {
      mode = .text(.content)
    }
    return true
  }

  /// The word after `key` in a header, up to whitespace or the next `<|`.
  static func word(after key: String, in header: String) -> String? {
    guard let range = header.range(of: key) else { return nil }
    var word = ""
    for c in header[range.upperBound...] {
      if c.isWhitespace || c == "<" { break }
      word.append(c)
    }
    return word.isEmpty ? nil : word
  }
}
