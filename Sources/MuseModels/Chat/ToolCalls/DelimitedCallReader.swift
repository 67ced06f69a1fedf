import MuseJinja

/// Reads calls whose arguments are not JSON and whose end is a marker (Gemma 4's
/// `<|tool_call>call:NAME{key:<|"|>text<|"|>,n:3}<tool_call|>`, LFM2's
/// `<|tool_call_start|>[name(key='text', n=3)]<|tool_call_end|>`): the text up to the end marker
/// is converted whole, then its calls are told, each with its arguments in one fragment.
struct DelimitedCallReader {
  let syntax: DelimitedCallSyntax
  private let start: Int
  private var searchFrom: Int

  init(syntax: DelimitedCallSyntax, at offset: Int) {
    self.syntax = syntax
    self.start = offset
    self.searchFrom = offset
  }

  mutating func read(_ buffer: ParseBuffer, _ calls: inout CallEmitter, atEnd: Bool) -> ReadResult {
    let close = syntax.close.utf8Bytes
    guard let found = buffer.firstMatch(of: [close], from: searchFrom) else {
      if atEnd { return .malformed(at: buffer.end) }
      searchFrom = max(start, buffer.end - close.count + 1)
      return .needMore
    }
    let end = found.offset + close.count
    let body = buffer.text(start, found.offset)
    let converted: [(String, JinjaValue)]?
    switch syntax.notation {
    case .gemma: converted = GemmaNotation.call(body).map { [$0] }
    case .pythonicList: converted = PythonicCalls.parse(body)
    }
    guard let converted, !converted.isEmpty, converted.allSatisfy({ calls.accepts(name: $0.0) }) else {
      return .malformed(at: end)
    }
    for (name, arguments) in converted {
      guard calls.start(name: name, id: nil), let json = try? arguments.jsonString() else {
        return .malformed(at: end)
      }
      calls.arguments(json)
      calls.complete(at: end)
    }
    return .done(at: end)
  }
}

/// Gemma 4's argument notation: objects with bare or `<|"|>`-quoted keys, strings between
/// `<|"|>`, lists, numbers, `true`/`false`/`null` (and Python's `None`, `True`, `False`).
enum GemmaNotation {
  static let quote = Array(#"<|"|>"#.unicodeScalars)

  /// `call:NAME{…}` → the name and the arguments object.
  static func call(_ body: String) -> (String, JinjaValue)? {
    var s = Array(body.unicodeScalars)[...]
    PythonLiteral.skipSpace(&s)
    guard s.starts(with: "call:".unicodeScalars) else { return nil }
    s.removeFirst(5)
    var name = ""
    while let c = s.first, c != "{" { name.unicodeScalars.append(s.removeFirst()) }
    guard s.first == "{", case .dict(let arguments)? = value(&s) else { return nil }
    PythonLiteral.skipSpace(&s)
    guard s.isEmpty else { return nil }
    return (name.trimmingWhitespace, .dict(arguments))
  }

  static func value(_ s: inout ArraySlice<Unicode.Scalar>, depth: Int = 0) -> JinjaValue? {
    PythonLiteral.skipSpace(&s)
    guard depth < 64, let c = s.first else { return nil }
    if s.starts(with: quote) {
      s.removeFirst(quote.count)
      var text = ""
      while !s.isEmpty, !s.starts(with: quote) { text.unicodeScalars.append(s.removeFirst()) }
      guard !s.isEmpty else { return nil }
      s.removeFirst(quote.count)
      return .string(text)
    }
    switch c {
    case "{":
      s.removeFirst()
      var dict = JinjaDict()
      while true {
        PythonLiteral.skipSpace(&s)
        if s.first == "}" {
          s.removeFirst()
          return .dict(dict)
        }
        var key = ""
        if s.starts(with: quote) {
          guard case .string(let k)? = value(&s, depth: depth + 1) else { return nil }
          key = k
        } else {
          while let k = s.first, k != ":", k != "}", k != "," { key.unicodeScalars.append(s.removeFirst()) }
        }
        guard !key.isEmpty, s.popFirst() == ":", let v = value(&s, depth: depth + 1) else { return nil }
        dict[key] = v
        PythonLiteral.skipSpace(&s)
        if s.first == "," { s.removeFirst() } else if s.first != "}" { return nil }
      }
    case "[":
      s.removeFirst()
      var items: [JinjaValue] = []
      while true {
        PythonLiteral.skipSpace(&s)
        if s.first == "]" {
          s.removeFirst()
          return .array(items)
        }
        guard let v = value(&s, depth: depth + 1) else { return nil }
        items.append(v)
        PythonLiteral.skipSpace(&s)
        if s.first == "," { s.removeFirst() } else if s.first != "]" { return nil }
      }
    default:
      var word = ""
      while let d = s.first, d != ",", d != "}", d != "]", !(d == " " || d == "\n") {
        word.unicodeScalars.append(s.removeFirst())
      }
      switch word {
      case "true", "True": return .bool(true)
      case "false", "False": return .bool(false)
      case "null", "None": return JinjaValue.none
      default:
        if let i = Int(word) { return .int(i) }
        if let d = Double(word), d.isFinite { return .float(d) }
        return nil
      }
    }
  }
}

/// LFM2's Python-call list: `[name(key='text', n=3), other()]`.
enum PythonicCalls {
  static func parse(_ body: String) -> [(String, JinjaValue)]? {
    var s = Array(body.unicodeScalars)[...]
    PythonLiteral.skipSpace(&s)
    guard s.popFirst() == "[" else { return nil }
    var calls: [(String, JinjaValue)] = []
    while true {
      PythonLiteral.skipSpace(&s)
      if s.first == "]", calls.isEmpty {
        s.removeFirst()
        break
      }
      var name = ""
      while let c = s.first, c != "(", c != "]", c != "," { name.unicodeScalars.append(s.removeFirst()) }
      guard !name.isEmpty, s.popFirst() == "(" else { return nil }
      var arguments = JinjaDict()
      while true {
        PythonLiteral.skipSpace(&s)
        if s.first == ")" {
          s.removeFirst()
          break
        }
        var key = ""
        while let c = s.first, c != "=", c != ")" { key.unicodeScalars.append(s.removeFirst()) }
        key = key.trimmingWhitespace
        guard !key.isEmpty, s.popFirst() == "=", let v = PythonLiteral.value(&s) else { return nil }
        arguments[key] = v
        PythonLiteral.skipSpace(&s)
        if s.first == "," { s.removeFirst() } else if s.first != ")" { return nil }
      }
      calls.append((name.trimmingWhitespace, .dict(arguments)))
      PythonLiteral.skipSpace(&s)
      if s.first == "," {
        s.removeFirst()
        continue
      }
      guard s.popFirst() == "]" else { return nil }
      break
    }
    PythonLiteral.skipSpace(&s)
    return s.isEmpty ? calls : nil
  }
}

extension String {
  var trimmingWhitespace: String {
    var s = Substring(self)
    while s.first?.isWhitespace == true { s.removeFirst() }
    while s.last?.isWhitespace == true { s.removeLast() }
    return String(s)
  }
}
