/// Reads JSON one byte at a time and says, after each byte, whether the text so far is a
/// prefix of a valid JSON document, a whole one, or neither (RFC 8259). What it has accepted
/// can be streamed to a client: if it later completes, the concatenation is valid JSON.
/// The top-level value must be an object or an array (numbers could not end unambiguously).
struct JSONPrefixScanner {
  enum Status: Equatable { case incomplete, complete, invalid }

  /// What a byte did, for readers that need the structure (a call's `name`, its `arguments`).
  /// `depth` is the number of containers around the value (the top-level value has depth 0).
  enum Event: Equatable {
    case key(String, depth: Int)
    case valueStart(depth: Int)
    /// `beforeThisByte`: a number ends at the byte after it, which is not part of the value.
    case valueEnd(depth: Int, beforeThisByte: Bool)
  }

  private enum Container { case object, array }
  private enum State {
    case value, keyOrClose, key, colon, commaOrClose, string, escape
    case unicode(Int)
    case literal, number, done
    case invalid
  }

  private var stack: [Container] = []
  private var state: State = .value
  private var stringIsKey = false
  private var keyBytes: [UInt8] = []
  private var token: [UInt8] = []
  private var literal: [UInt8] = []
  /// Keys are collected (as `.key` events) only this deep, to keep long argument objects cheap.
  let keyDepthLimit: Int

  init(keyDepthLimit: Int = 3) { self.keyDepthLimit = keyDepthLimit }

  var depth: Int { stack.count }

  mutating func feed(_ b: UInt8, events: inout [Event]) -> Status {
    switch state {
    case .done, .invalid: return fail()
    case .string: return string(b, events: &events)
    case .escape:
      switch b {
      case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
        UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
        state = .string
        if stringIsKey { keyBytes.append(b) }
      case UInt8(ascii: "u"):
        state = .unicode(4)
        if stringIsKey { keyBytes.append(b) }
      default: return fail()
      }
      return .incomplete
    case .unicode(let left):
      guard isHexDigit(b) else { return fail() }
      if stringIsKey { keyBytes.append(b) }
      state = left == 1 ? .string : .unicode(left - 1)
      return .incomplete
    case .literal:
      token.append(b)
      guard token.count <= literal.count, token[token.count - 1] == literal[token.count - 1] else {
        return fail()
      }
      if token.count == literal.count { return endValue(events: &events, beforeThisByte: false) }
      return .incomplete
    case .number:
      if isNumberByte(b) {
        token.append(b)
        return .incomplete
      }
      guard isValidNumber(token) else { return fail() }
      let status = endValue(events: &events, beforeThisByte: true)
      return status == .invalid ? status : feed(b, events: &events)
    default: break
    }
    if isWhitespace(b) { return .incomplete }
    switch state {
    case .value: return startValue(b, events: &events)
    case .keyOrClose, .key:
      if b == UInt8(ascii: "}"), case .keyOrClose = state { return close(.object, events: &events) }
      guard b == UInt8(ascii: "\"") else { return fail() }
      stringIsKey = true
      keyBytes.removeAll(keepingCapacity: true)
      state = .string
      return .incomplete
    case .colon:
      guard b == UInt8(ascii: ":") else { return fail() }
      state = .value
      return .incomplete
    case .commaOrClose:
      switch (b, stack.last) {
      case (UInt8(ascii: ","), .object?): state = .key
      case (UInt8(ascii: ","), .array?): state = .value
      case (UInt8(ascii: "}"), .object?): return close(.object, events: &events)
      case (UInt8(ascii: "]"), .array?): return close(.array, events: &events)
      default: return fail()
      }
      return .incomplete
    default: return fail()
    }
  }

  private mutating func startValue(_ b: UInt8, events: inout [Event]) -> Status {
    if stack.isEmpty, b != UInt8(ascii: "{"), b != UInt8(ascii: "[") { return fail() }
    // An array's `]` may come where a value was expected, right after its `[`.
    if b == UInt8(ascii: "]"), stack.last == .array, arrayJustOpened { return close(.array, events: &events) }
    events.append(.valueStart(depth: stack.count))
    arrayJustOpened = false
    switch b {
    case UInt8(ascii: "{"):
      stack.append(.object)
      state = .keyOrClose
    case UInt8(ascii: "["):
      stack.append(.array)
      state = .value
      arrayJustOpened = true
    case UInt8(ascii: "\""):
      stringIsKey = false
      state = .string
    case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
      literal =
        b == UInt8(ascii: "t")
        ? Array("true".utf8) : b == UInt8(ascii: "f") ? Array("false".utf8) : Array("null".utf8)
      token = [b]
      state = .literal
    case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
      token = [b]
      state = .number
    default: return fail()
    }
    return .incomplete
  }

  private var arrayJustOpened = false

  private mutating func string(_ b: UInt8, events: inout [Event]) -> Status {
    switch b {
    case UInt8(ascii: "\""):
      if stringIsKey {
        if stack.count <= keyDepthLimit {
          events.append(.key(String(decoding: keyBytes, as: UTF8.self), depth: stack.count))
        }
        state = .colon
        return .incomplete
      }
      return endValue(events: &events, beforeThisByte: false)
    case UInt8(ascii: "\\"): state = .escape
    case 0..<0x20: return fail()
    default: break
    }
    if stringIsKey { keyBytes.append(b) }
    return .incomplete
  }

  private mutating func close(_ container: Container, events: inout [Event]) -> Status {
    guard stack.last == container else { return fail() }
    stack.removeLast()
    arrayJustOpened = false
    return endValue(events: &events, beforeThisByte: false)
  }

  private mutating func endValue(events: inout [Event], beforeThisByte: Bool) -> Status {
    events.append(.valueEnd(depth: stack.count, beforeThisByte: beforeThisByte))
    if stack.isEmpty {
      state = .done
      return .complete
    }
    state = .commaOrClose
    return .incomplete
  }

  private mutating func fail() -> Status {
    state = .invalid
    return .invalid
  }
}

private func isHexDigit(_ b: UInt8) -> Bool {
  (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(b)
    || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(b)
}

private func isNumberByte(_ b: UInt8) -> Bool {
  (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b) || b == UInt8(ascii: "-") || b == UInt8(ascii: "+")
    || b == UInt8(ascii: ".") || b == UInt8(ascii: "e") || b == UInt8(ascii: "E")
}

/// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
private func isValidNumber(_ t: [UInt8]) -> Bool {
  var i = 0
  func digits() -> Int {
    let start = i
    while i < t.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(t[i]) { i += 1 }
    return i - start
  }
  if i < t.count, t[i] == UInt8(ascii: "-") { i += 1 }
  guard i < t.count else { return false }
  if t[i] == UInt8(ascii: "0") {
    i += 1
  } else if digits() == 0 {
    return false
  }
  if i < t.count, t[i] == UInt8(ascii: ".") {
    i += 1
    guard digits() > 0 else { return false }
  }
  if i < t.count, t[i] == UInt8(ascii: "e") || t[i] == UInt8(ascii: "E") {
    i += 1
    if i < t.count, t[i] == UInt8(ascii: "+") || t[i] == UInt8(ascii: "-") { i += 1 }
    guard digits() > 0 else { return false }
  }
  return i == t.count
}
