import Foundation

/// Reads calls written as a name and then a JSON object of arguments between markers
/// (DeepSeek, Kimi K2, Mistral's `[ARGS]`, Functionary, and harmony's call bodies, whose name
/// came in the header). The arguments are streamed as they are scanned.
struct NamedCallReader {
  let syntax: NamedCallSyntax
  private var pos: Int
  private var phase: Phase
  private var name = ""
  private var id: String?
  private var typeSkipped = false
  private var scanner = JSONPrefixScanner(keyDepthLimit: 0)
  private var events: [JSONPrefixScanner.Event] = []
  private var streamedTo = 0
  /// Harmony: the segment's end markers, which end the call.
  private var segmentEnds: [[UInt8]] = []

  /// The longest name or id believed; a longer one is not a call.
  private static let maximumNameBytes = 256

  private enum Phase { case section, name, id, beforeArguments, arguments, afterArguments }

  init(syntax: NamedCallSyntax, at offset: Int, inSection: Bool) {
    self.syntax = syntax
    self.pos = offset
    self.phase = inSection ? .section : .name
  }

  /// A harmony call body: the name is known, the arguments follow, a segment end closes it.
  init(name: String, at offset: Int, ends: [String]) {
    self.syntax = NamedCallSyntax(callOpen: "", nameEnds: [])
    self.pos = offset
    self.phase = .beforeArguments
    self.name = name
    self.segmentEnds = ends.map(\.utf8Bytes)
  }

  mutating func read(_ buffer: ParseBuffer, _ calls: inout CallEmitter, atEnd: Bool) -> ReadResult {
    while true {
      switch phase {
      case .section:
        pos = buffer.skipWhitespace(from: pos)
        if pos == buffer.end { return atEnd ? .done(at: pos) : .needMore }
        if let close = syntax.sectionClose?.utf8Bytes {
          if buffer.hasPrefix(close, at: pos) { return .done(at: pos + close.count) }
          if buffer.isPartial(close, at: pos) { return atEnd ? .done(at: pos) : .needMore }
        }
        let open = syntax.callOpen.utf8Bytes
        if buffer.hasPrefix(open, at: pos) {
          pos += open.count
          calls.rawStart = pos - open.count
          phase = .name
          typeSkipped = false
          id = nil
          continue
        }
        if buffer.isPartial(open, at: pos) { return atEnd ? .done(at: pos) : .needMore }
        return .done(at: pos)
      case .name, .id:
        let ends = (phase == .id ? ["[ARGS]"] : syntax.nameEnds).map(\.utf8Bytes)
        guard let found = buffer.firstMatch(of: ends, from: pos), found.offset - pos <= Self.maximumNameBytes
        else {
          return atEnd || buffer.end - pos > Self.maximumNameBytes + 16 ? .malformed(at: pos) : .needMore
        }
        let word = buffer.text(pos, found.offset).trimmingCharacters(in: .whitespaces)
        pos = found.offset + ends[found.marker].count
        if phase == .id {
          id = word
          phase = .beforeArguments
          continue
        }
        if let type = syntax.typePrefix, word == type, !typeSkipped, found.marker == 0 {
          typeSkipped = true
          continue
        }
        if let recipient = syntax.contentRecipient, word == recipient { return .done(at: pos) }
        name = word
        if syntax.namespacedIds {
          id = word
          var bare = Substring(word)
          if bare.hasPrefix("functions.") { bare = bare.dropFirst("functions.".count) }
          if let colon = bare.lastIndex(of: ":"), bare[bare.index(after: colon)...].allSatisfy(\.isNumber) {
            bare = bare[..<colon]
          }
          name = String(bare)
        }
        phase = syntax.idMarker.map { syntax.nameEnds[found.marker] == $0 } == true ? .id : .beforeArguments
      case .beforeArguments:
        pos = buffer.skipWhitespace(from: pos)
        if syntax.fenced {
          guard let p = skip(["```json", "```"], buffer, atEnd: atEnd) else { return .needMore }
          pos = buffer.skipWhitespace(from: p)
        }
        guard pos < buffer.end else { return atEnd ? .malformed(at: pos) : .needMore }
        guard buffer[pos] == UInt8(ascii: "{"), calls.start(name: name, id: id) else {
          return .malformed(at: pos)
        }
        streamedTo = pos
        scanner = JSONPrefixScanner(keyDepthLimit: 0)
        phase = .arguments
      case .arguments:
        var complete = false
        while pos < buffer.end, !complete {
          events.removeAll(keepingCapacity: true)
          switch scanner.feed(buffer[pos], events: &events) {
          case .invalid: return .malformed(at: pos)
          case .complete: complete = true
          case .incomplete: break
          }
          pos += 1
        }
        calls.arguments(buffer.text(streamedTo, pos))
        streamedTo = pos
        guard complete else { return atEnd ? .malformed(at: pos) : .needMore }
        calls.complete(at: pos)
        phase = .afterArguments
      case .afterArguments:
        var p = buffer.skipWhitespace(from: pos)
        if syntax.fenced {
          guard let q = skip(["```"], buffer, from: p, atEnd: atEnd) else { return .needMore }
          p = buffer.skipWhitespace(from: q)
        }
        let closers = segmentEnds.isEmpty ? syntax.callClose.map { [$0.utf8Bytes] } ?? [] : segmentEnds
        if closers.isEmpty {
          // The arguments' end ends the call.
          guard syntax.sectionOpen != nil else { return .done(at: pos) }
          pos = p
          phase = .section
          continue
        }
        if let close = closers.first(where: { buffer.hasPrefix($0, at: p) }) {
          pos = p + close.count
          calls.rawStart = pos
          if !segmentEnds.isEmpty { return .done(at: pos, endedSegment: true) }
          guard syntax.sectionOpen != nil else { return .done(at: pos) }
          phase = .section
          continue
        }
        if !atEnd, p == buffer.end || closers.contains(where: { buffer.isPartial($0, at: p) }) {
          return .needMore
        }
        // No closer where one was due: the call stands, what follows is plain text.
        return .done(at: pos)
      }
    }
  }

  private func skip(_ fences: [String], _ buffer: ParseBuffer, from: Int? = nil, atEnd: Bool) -> Int? {
    let at = from ?? pos
    for fence in fences.map(\.utf8Bytes) {
      if buffer.hasPrefix(fence, at: at) { return at + fence.count }
      if buffer.isPartial(fence, at: at), !atEnd { return nil }
    }
    return at
  }
}
