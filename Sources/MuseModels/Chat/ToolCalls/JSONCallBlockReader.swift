import MuseJinja

/// Reads calls written as JSON objects (`{"name": …, "arguments": {…}}`), alone, several in a
/// row, or in a list, after an opener and up to an optional closer. The arguments object is
/// streamed as it is scanned when the name came before it (the usual order); otherwise the call
/// is told when its object is whole. Arguments given as a JSON string holding an object are
/// decoded; missing or `null` arguments are `{}`.
struct JSONCallBlockReader {
  let syntax: JSONBlockSyntax
  private var pos: Int
  private var phase: Phase = .start
  private var scanner = JSONPrefixScanner()
  private var events: [JSONPrefixScanner.Event] = []
  /// The depth of a call object's members: 1 for a bare object, 2 in a list, 3 in the generic
  /// `{"tool_calls": [...]}`.
  private var memberDepth = 1
  private var call = CallState()

  private enum Phase { case start, beforeValue, value, afterValue }

  private struct CallState {
    var inObject = false
    var key: String?
    var valueStart = 0
    var name: String?
    var id: String?
    var arguments: String?
    var streamingFrom: Int?
    var argumentsDone = false
    /// The generic format's `{"response": "…"}`: an answer, not a call.
    var answered = false
  }

  init(syntax: JSONBlockSyntax, at offset: Int) {
    self.syntax = syntax
    self.pos = offset
    if !syntax.fenced { phase = .beforeValue }
  }

  mutating func read(_ buffer: ParseBuffer, _ calls: inout CallEmitter, atEnd: Bool) -> ReadResult {
    while true {
      switch phase {
      case .start:
        pos = buffer.skipWhitespace(from: pos)
        switch skipFence(buffer, ["```json", "```"], atEnd: atEnd) {
        case nil: return .needMore
        case let p?: pos = p
        }
        phase = .beforeValue
      case .beforeValue:
        pos = buffer.skipWhitespace(from: pos)
        guard pos < buffer.end else { return atEnd ? .malformed(at: pos) : .needMore }
        let b = buffer[pos]
        guard b == UInt8(ascii: "{") || b == UInt8(ascii: "[") else { return .malformed(at: pos) }
        scanner = JSONPrefixScanner()
        memberDepth = b == UInt8(ascii: "[") ? 2 : 1
        phase = .value
      case .value:
        while pos < buffer.end {
          events.removeAll(keepingCapacity: true)
          let status = scanner.feed(buffer[pos], events: &events)
          if status == .invalid { return .malformed(at: pos) }
          for event in events {
            if case .malformed = handle(event, at: pos, buffer, &calls) { return .malformed(at: pos) }
          }
          pos += 1
          if status == .complete {
            phase = .afterValue
            break
          }
        }
        if let from = call.streamingFrom, !call.argumentsDone {
          calls.arguments(buffer.text(from, pos))
          call.streamingFrom = pos
        }
        if phase == .value { return atEnd ? .malformed(at: pos) : .needMore }
      case .afterValue:
        while pos < buffer.end,
          isWhitespace(buffer[pos]) || buffer[pos] == UInt8(ascii: ",") || buffer[pos] == UInt8(ascii: ";")
        {
          pos += 1
        }
        if syntax.fenced {
          switch skipFence(buffer, ["```"], atEnd: atEnd) {
          case nil: return .needMore
          case let p?: pos = buffer.skipWhitespace(from: p)
          }
        }
        guard pos < buffer.end else { return atEnd ? .done(at: pos) : .needMore }
        if let closer = syntax.closer?.utf8Bytes {
          if buffer.hasPrefix(closer, at: pos) { return .done(at: pos + closer.count) }
          if buffer.isPartial(closer, at: pos) { return atEnd ? .done(at: pos) : .needMore }
        }
        let b = buffer[pos]
        if b == UInt8(ascii: "{") || b == UInt8(ascii: "[") {
          phase = .beforeValue
          continue
        }
        return .done(at: pos)
      }
    }
  }

  /// Skips one of the fences if the text starts with it; nil while it cannot yet tell.
  private func skipFence(_ buffer: ParseBuffer, _ fences: [String], atEnd: Bool) -> Int? {
    for fence in fences.map(\.utf8Bytes) {
      if buffer.hasPrefix(fence, at: pos) { return pos + fence.count }
      if buffer.isPartial(fence, at: pos), !atEnd { return nil }
    }
    return pos
  }

  private mutating func handle(
    _ event: JSONPrefixScanner.Event, at offset: Int, _ buffer: ParseBuffer, _ calls: inout CallEmitter
  ) -> ReadResult? {
    switch event {
    case .key(let key, let depth):
      if depth == 1, memberDepth == 1, key == syntax.callListKey { memberDepth = 3 }
      if depth == memberDepth { call.key = key }
    case .valueStart(let depth):
      if depth == memberDepth - 1 {
        guard buffer[offset] == UInt8(ascii: "{") else { return .malformed(at: offset) }
        call = CallState()
        call.inObject = true
      } else if depth == memberDepth, call.inObject {
        call.valueStart = offset
        if let key = call.key, syntax.argumentKeys.contains(key), let name = call.name,
          buffer[offset] == UInt8(ascii: "{")
        {
          guard calls.start(name: name, id: call.id) else { return .malformed(at: offset) }
          call.streamingFrom = offset
        }
      }
    case .valueEnd(let depth, let before):
      let end = before ? offset : offset + 1
      if depth == memberDepth, call.inObject, let key = call.key {
        let text = buffer.text(call.valueStart, end)
        if key == syntax.responseKey, memberDepth == 1 {
          guard case .string(let response)? = try? JinjaValue(json: text) else {
            return .malformed(at: offset)
          }
          calls.out.append(.content(response))
          call.answered = true
        } else if syntax.nameKeys.contains(key), call.name == nil {
          guard case .string(let name)? = try? JinjaValue(json: text) else { return .malformed(at: offset) }
          call.name = name
        } else if syntax.idKeys.contains(key) {
          if let value = try? JinjaValue(json: text), !value.isNone { call.id = value.stringValue }
        } else if syntax.argumentKeys.contains(key), call.arguments == nil {
          if let from = call.streamingFrom {
            calls.arguments(buffer.text(from, end))
            call.argumentsDone = true
          }
          call.arguments = text
        }
      } else if depth == memberDepth - 1, call.inObject {
        call.inObject = false
        if call.answered, call.name == nil {
          calls.complete(at: end)
          return nil
        }
        if call.streamingFrom == nil {
          guard let name = call.name, let arguments = Self.argumentsObject(call.arguments),
            calls.start(name: name, id: call.id)
          else { return .malformed(at: offset) }
          calls.arguments(arguments)
        }
        calls.complete(at: end)
      }
    }
    return nil
  }

  /// The arguments as a JSON object's text: an object as written, a string holding one
  /// decoded, none or `null` as `{}`; nil for anything else.
  static func argumentsObject(_ text: String?) -> String? {
    guard let text else { return "{}" }
    switch try? JinjaValue(json: text) {
    case .dict?: return text
    case .none?: return "{}"
    case .string(let inner)?:
      if case .dict? = try? JinjaValue(json: inner) { return inner }
      return nil
    default: return nil
    }
  }
}
