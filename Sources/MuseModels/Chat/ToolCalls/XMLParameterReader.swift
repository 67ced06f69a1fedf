import Foundation
import MuseJinja

/// Reads calls whose parameters are written as XML-like elements (Qwen3-Coder's
/// `<parameter=K>V</parameter>`, GLM's `<arg_key>`/`<arg_value>`, MiniMax's, DeepSeek DSML's and
/// ATEM's `<parameter name="K">V</parameter>`) and streams them as a JSON object: `{` when the
/// call's name is read, `"K": V` as each value is whole, `}` at the call's end.
///
/// A value becomes a JSON string when its tool's schema says `string` (or DSML says
/// `string="true"`); otherwise, when it parses as JSON it is that JSON (`3`, `true`, `[1, 2]`,
/// `{"a": 1}`), and else a string. `True`/`False` are booleans where the schema says boolean
/// (templates that print Python values write them so).
struct XMLParameterReader {
  let syntax: XMLParameterSyntax
  private var pos: Int
  private var phase: Phase
  private var parameterCount = 0
  private var key = ""
  private var valueIsString: Bool?
  private var valueStart = 0
  private var searchFrom = 0

  private static let maximumNameBytes = 256

  private enum Phase { case block, name, parameters, parameterName, attributes, valueOpen, value }

  init(syntax: XMLParameterSyntax, at offset: Int) {
    self.syntax = syntax
    self.pos = offset
    self.phase = syntax.invokeOpen == nil ? .name : .block
  }

  mutating func read(_ buffer: ParseBuffer, _ calls: inout CallEmitter, atEnd: Bool) -> ReadResult {
    while true {
      switch phase {
      case .block:
        pos = buffer.skipWhitespace(from: pos)
        switch expect([syntax.blockClose, syntax.invokeOpen ?? ""], buffer, atEnd: atEnd) {
        case .wait: return .needMore
        case .none: return .malformed(at: pos)
        case .found(0, let after): return .done(at: after)
        case .found(_, let after):
          pos = after
          phase = .name
        }
      case .name:
        var ends = [syntax.nameEnd]
        if syntax.invokeOpen == nil { ends += [syntax.parameterOpen, syntax.blockClose] }
        guard let (word, end, which) = until(ends, buffer, atEnd: atEnd) else {
          return atEnd || buffer.end - pos > Self.maximumNameBytes + 16 ? .malformed(at: pos) : .needMore
        }
        pos = which == 0 ? end : end - ends[which].utf8.count
        guard calls.start(name: word.trimmingCharacters(in: .whitespacesAndNewlines), id: nil) else {
          return .malformed(at: pos)
        }
        calls.arguments("{")
        parameterCount = 0
        phase = .parameters
      case .parameters:
        pos = buffer.skipWhitespace(from: pos)
        let close = syntax.invokeClose ?? syntax.blockClose
        switch expect([syntax.parameterOpen, close], buffer, atEnd: atEnd) {
        case .wait: return .needMore
        case .none: return .malformed(at: pos)
        case .found(0, let after):
          pos = after
          phase = .parameterName
        case .found(_, let after):
          calls.arguments("}")
          calls.complete(at: after)
          pos = after
          if syntax.invokeClose == nil { return .done(at: after) }
          phase = .block
        }
      case .parameterName:
        guard let (word, end, _) = until([syntax.parameterNameEnd], buffer, atEnd: atEnd) else {
          return atEnd || buffer.end - pos > Self.maximumNameBytes + 16 ? .malformed(at: pos) : .needMore
        }
        key = word
        valueIsString = nil
        pos = end
        phase = syntax.attributesEnd != nil ? .attributes : syntax.valueOpen != nil ? .valueOpen : .value
        (valueStart, searchFrom) = (pos, pos)
      case .attributes:
        guard let (attributes, end, _) = until([syntax.attributesEnd ?? ">"], buffer, atEnd: atEnd) else {
          return atEnd || buffer.end - pos > Self.maximumNameBytes + 16 ? .malformed(at: pos) : .needMore
        }
        if attributes.contains("string=\"true\"") { valueIsString = true }
        if attributes.contains("string=\"false\"") { valueIsString = false }
        pos = end
        phase = syntax.valueOpen != nil ? .valueOpen : .value
        (valueStart, searchFrom) = (pos, pos)
      case .valueOpen:
        pos = buffer.skipWhitespace(from: pos)
        switch expect([syntax.valueOpen ?? ""], buffer, atEnd: atEnd) {
        case .wait: return .needMore
        case .none: return .malformed(at: pos)
        case .found(_, let after):
          pos = after
          phase = .value
          (valueStart, searchFrom) = (pos, pos)
        }
      case .value:
        let close = syntax.parameterClose.utf8Bytes
        guard let found = buffer.firstMatch(of: [close], from: searchFrom) else {
          if atEnd { return .malformed(at: buffer.end) }
          searchFrom = max(valueStart, buffer.end - close.count + 1)
          return .needMore
        }
        var raw = buffer.text(valueStart, found.offset)
        if syntax.trimNewlines {
          if raw.hasPrefix("\n") { raw.removeFirst() }
          if raw.hasSuffix("\n") { raw.removeLast() }
        }
        let type = calls.parameterType(key)
        let value = Self.json(raw, type: type, isString: valueIsString)
        let quotedKey = (try? JinjaValue.string(key).jsonString()) ?? "\"\""
        calls.arguments((parameterCount == 0 ? "" : ", ") + quotedKey + ": " + value)
        parameterCount += 1
        pos = found.offset + close.count
        phase = .parameters
      }
    }
  }

  private enum Expectation {
    case wait, none
    case found(Int, after: Int)
  }

  /// Which of `markers` the text at `pos` starts with (empty markers never match).
  private func expect(_ markers: [String], _ buffer: ParseBuffer, atEnd: Bool) -> Expectation {
    var partial = pos == buffer.end
    for (i, m) in markers.enumerated() where !m.isEmpty {
      let bytes = m.utf8Bytes
      if buffer.hasPrefix(bytes, at: pos) { return .found(i, after: pos + bytes.count) }
      if buffer.isPartial(bytes, at: pos) { partial = true }
    }
    return partial && !atEnd ? .wait : .none
  }

  /// The text up to the first of `ends` (within the name limit), the offset after that end and
  /// which end it was; nil if none is there yet.
  private func until(_ ends: [String], _ buffer: ParseBuffer, atEnd: Bool) -> (String, Int, Int)? {
    let bytes = ends.map(\.utf8Bytes)
    guard let found = buffer.firstMatch(of: bytes, from: pos), found.offset - pos <= Self.maximumNameBytes
    else {
      return nil
    }
    return (buffer.text(pos, found.offset), found.offset + bytes[found.marker].count, found.marker)
  }

  /// A parameter's written value as JSON text (see the type's comment for the rules).
  static func json(_ raw: String, type: String?, isString: Bool?) -> String {
    let quoted = (try? JinjaValue.string(raw).jsonString()) ?? "\"\""
    if isString == true || type == "string" { return quoted }
    let trimmed = raw.trimmingCharacters(in: .whitespacesAndNewlines)
    if type == "boolean" {
      if trimmed == "True" { return "true" }
      if trimmed == "False" { return "false" }
    }
    if let value = try? JinjaValue(json: trimmed), let text = try? value.jsonString() { return text }
    // Templates that print values with `{{ v }}` write Python literals (`{'a': True}`).
    if type != "string", trimmed.first == "{" || trimmed.first == "[",
      let value = PythonLiteral.parse(trimmed), let text = try? value.jsonString()
    {
      return text
    }
    return quoted
  }
}
