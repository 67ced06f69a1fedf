/// One lexical token of a template.
struct JinjaToken: Equatable {
  enum Kind: Equatable {
    case text(String)
    case variableBegin, variableEnd, blockBegin, blockEnd
    case name(String)
    case string(String)
    case int(Int)
    case float(Double)
    case op(String)
    case eof
  }

  let kind: Kind
  /// Byte offset into the normalised source, for error positions.
  let offset: Int
}

/// The template source with newlines normalised the way jinja2 does before lexing, and a way
/// to turn byte offsets back into line and column.
struct JinjaSource: Sendable {
  let bytes: [UInt8]
  private let lineStarts: [Int]

  init(_ text: String) {
    // jinja2 splits on \r\n, \r and \n, joins with \n, and drops one trailing newline
    // (keep_trailing_newline=False).
    var out: [UInt8] = []
    let raw = Array(text.utf8)
    out.reserveCapacity(raw.count)
    var i = 0
    while i < raw.count {
      if raw[i] == 0x0D {
        out.append(0x0A)
        if i + 1 < raw.count && raw[i + 1] == 0x0A { i += 1 }
      } else {
        out.append(raw[i])
      }
      i += 1
    }
    if out.last == 0x0A { out.removeLast() }
    bytes = out
    var starts = [0]
    for (i, b) in out.enumerated() where b == 0x0A { starts.append(i + 1) }
    lineStarts = starts
  }

  func position(_ offset: Int) -> JinjaPosition {
    var lo = 0
    var hi = lineStarts.count - 1
    while lo < hi {
      let mid = (lo + hi + 1) / 2
      if lineStarts[mid] <= offset { lo = mid } else { hi = mid - 1 }
    }
    let start = lineStarts[lo]
    let column = bytes[start..<min(offset, bytes.count)].reduce(1) { $0 + ($1 & 0xC0 == 0x80 ? 0 : 1) }
    return JinjaPosition(line: lo + 1, column: column)
  }
}

/// Splits a template into text and tag tokens, applying the HF chat-template whitespace rules:
/// trim_blocks (drop the newline after `%}`/`#}`), lstrip_blocks (drop spaces before `{%`/`{#`
/// on their own line) and the `-`/`+` markers. Follows jinja2/lexer.py's `tokeniter`.
struct JinjaLexer {
  let source: JinjaSource
  var trimBlocks = true
  var lstripBlocks = true
  private var bytes: [UInt8] { source.bytes }

  init(source: JinjaSource) { self.source = source }

  func tokenize() throws -> [JinjaToken] {
    var tokens: [JinjaToken] = []
    var pos = 0
    // Whether the previous match ended a line; lstrip_blocks applies at the very start too.
    var lineStarting = true
    let b = bytes
    while pos < b.count {
      guard let open = findTagOpen(from: pos) else {
        tokens.append(JinjaToken(kind: .text(String(decoding: b[pos...], as: UTF8.self)), offset: pos))
        break
      }
      let kind = b[open + 1]
      let sign: UInt8? =
        open + 2 < b.count && (b[open + 2] == 0x2D || b[open + 2] == 0x2B) ? b[open + 2] : nil
      var text = Array(b[pos..<open])
      if sign == UInt8(ascii: "-") {
        while let last = text.last, isSpace(last) { text.removeLast() }
      } else if sign != UInt8(ascii: "+") && lstripBlocks && kind != UInt8(ascii: "{") {
        let lineStart = (text.lastIndex(of: 0x0A).map { $0 + 1 }) ?? 0
        if (lineStart > 0 || lineStarting) && lineStart < text.count
          && text[lineStart...].allSatisfy({ $0 == 0x20 || $0 == 0x09 || isSpace($0) })
        {
          text.removeSubrange(lineStart...)
        }
      }
      if !text.isEmpty {
        tokens.append(JinjaToken(kind: .text(String(decoding: text, as: UTF8.self)), offset: pos))
      }
      var inner = open + 2 + (sign == nil ? 0 : 1)
      switch kind {
      case UInt8(ascii: "#"):
        guard let close = find("#}", from: inner) else {
          throw JinjaError(.syntax, "Missing end of comment tag", at: source.position(open))
        }
        pos = close + 2
        let marker = close > inner ? b[close - 1] : 0
        pos = afterTagEnd(pos, marker: marker)
      case UInt8(ascii: "%") where isRawBegin(&inner):
        pos = try lexRaw(from: inner, open: open, into: &tokens)
      default:
        let isBlock = kind == UInt8(ascii: "%")
        tokens.append(JinjaToken(kind: isBlock ? .blockBegin : .variableBegin, offset: open))
        pos = try lexTag(from: inner, block: isBlock, into: &tokens)
      }
      lineStarting = pos > 0 && b[pos - 1] == 0x0A
    }
    tokens.append(JinjaToken(kind: .eof, offset: b.count))
    return tokens
  }

  private func isSpace(_ c: UInt8) -> Bool { c == 0x20 || (c >= 0x09 && c <= 0x0D) }

  private func findTagOpen(from start: Int) -> Int? {
    let b = bytes
    var i = start
    while i + 1 < b.count {
      if b[i] == UInt8(ascii: "{") {
        let n = b[i + 1]
        if n == UInt8(ascii: "{") || n == UInt8(ascii: "%") || n == UInt8(ascii: "#") { return i }
      }
      i += 1
    }
    return nil
  }

  private func find(_ needle: String, from start: Int) -> Int? {
    let n = Array(needle.utf8)
    let b = bytes
    var i = start
    while i + n.count <= b.count {
      if b[i] == n[0] && Array(b[i..<i + n.count]) == n { return i }
      i += 1
    }
    return nil
  }

  /// Where lexing resumes after a `%}` or `#}` ending at `pos`: `-` eats all whitespace,
  /// `+` nothing, and otherwise trim_blocks eats one newline.
  private func afterTagEnd(_ pos: Int, marker: UInt8) -> Int {
    var p = pos
    if marker == UInt8(ascii: "-") {
      while p < bytes.count && isSpace(bytes[p]) { p += 1 }
    } else if marker != UInt8(ascii: "+") && trimBlocks && p < bytes.count && bytes[p] == 0x0A {
      p += 1
    }
    return p
  }

  /// `{% raw %}`: checks for the keyword and, if present, moves `inner` past the tag.
  private func isRawBegin(_ inner: inout Int) -> Bool {
    var p = inner
    while p < bytes.count && isSpace(bytes[p]) { p += 1 }
    guard find("raw", from: p) == p else { return false }
    p += 3
    while p < bytes.count && isSpace(bytes[p]) { p += 1 }
    if find("-%}", from: p) == p {
      p += 3
      while p < bytes.count && isSpace(bytes[p]) { p += 1 }
    } else if find("%}", from: p) == p {
      p += 2  // jinja2's raw_begin rule has no trim_blocks suffix
    } else {
      return false
    }
    inner = p
    return true
  }

  private func lexRaw(from start: Int, open: Int, into tokens: inout [JinjaToken]) throws -> Int {
    var search = start
    while let tag = find("{%", from: search) {
      var p = tag + 2
      let sign: UInt8? = p < bytes.count && (bytes[p] == 0x2D || bytes[p] == 0x2B) ? bytes[p] : nil
      if sign != nil { p += 1 }
      while p < bytes.count && isSpace(bytes[p]) { p += 1 }
      guard find("endraw", from: p) == p else {
        search = tag + 2
        continue
      }
      p += 6
      while p < bytes.count && isSpace(bytes[p]) { p += 1 }
      var marker: UInt8 = 0
      if p < bytes.count && (bytes[p] == 0x2D || bytes[p] == 0x2B) {
        marker = bytes[p]
        p += 1
      }
      guard find("%}", from: p) == p else { break }
      var text = Array(bytes[start..<tag])
      if sign == UInt8(ascii: "-") {
        while let last = text.last, isSpace(last) { text.removeLast() }
      } else if sign != UInt8(ascii: "+") && lstripBlocks {
        let lineStart = (text.lastIndex(of: 0x0A).map { $0 + 1 }) ?? 0
        if lineStart > 0 && lineStart < text.count && text[lineStart...].allSatisfy(isSpace) {
          text.removeSubrange(lineStart...)
        }
      }
      if !text.isEmpty {
        tokens.append(JinjaToken(kind: .text(String(decoding: text, as: UTF8.self)), offset: start))
      }
      return afterTagEnd(p + 2, marker: marker)
    }
    throw JinjaError(.syntax, "Missing end of raw directive", at: source.position(open))
  }

  /// Expression tokens up to the closing `%}` or `}}`; the closer only counts outside brackets.
  private func lexTag(from start: Int, block: Bool, into tokens: inout [JinjaToken]) throws -> Int {
    let b = bytes
    var p = start
    var brackets: [UInt8] = []
    while true {
      while p < b.count && isSpace(b[p]) { p += 1 }
      guard p < b.count else {
        throw JinjaError(
          .syntax, "unexpected end of template, expected '\(block ? "%}" : "}}")'", at: source.position(p))
      }
      if brackets.isEmpty {
        let close = block ? "%}" : "}}"
        for marker in ["-", block ? "+" : "", ""] {
          guard find(marker + close, from: p) == p else { continue }
          tokens.append(JinjaToken(kind: block ? .blockEnd : .variableEnd, offset: p))
          let end = p + marker.utf8.count + 2
          if marker == "-" { return afterTagEnd(end, marker: UInt8(ascii: "-")) }
          if marker == "+" || !block { return end }
          return afterTagEnd(end, marker: 0)
        }
      }
      let c = b[p]
      if c == UInt8(ascii: "'") || c == UInt8(ascii: "\"") {
        let (value, end) = try lexString(from: p)
        tokens.append(JinjaToken(kind: .string(value), offset: p))
        p = end
      } else if c >= 0x30 && c <= 0x39 {
        let (kind, end) = try lexNumber(from: p)
        tokens.append(JinjaToken(kind: kind, offset: p))
        p = end
      } else if c == UInt8(ascii: "_") || (c | 0x20 >= 0x61 && c | 0x20 <= 0x7A) {
        var end = p + 1
        while end < b.count
          && (b[end] == UInt8(ascii: "_") || (b[end] | 0x20 >= 0x61 && b[end] | 0x20 <= 0x7A)
            || (b[end] >= 0x30 && b[end] <= 0x39))
        {
          end += 1
        }
        tokens.append(JinjaToken(kind: .name(String(decoding: b[p..<end], as: UTF8.self)), offset: p))
        p = end
      } else {
        let two = p + 1 < b.count ? String(decoding: b[p...p + 1], as: UTF8.self) : ""
        let op: String
        if ["//", "**", "==", "!=", ">=", "<="].contains(two) {
          op = two
        } else if "+-*/%~<>=.:|,;()[]{}".utf8.contains(c) {
          op = String(UnicodeScalar(c))
        } else {
          throw JinjaError(.syntax, "unexpected char '\(UnicodeScalar(c))'", at: source.position(p))
        }
        switch op {
        case "(": brackets.append(UInt8(ascii: ")"))
        case "[": brackets.append(UInt8(ascii: "]"))
        case "{": brackets.append(UInt8(ascii: "}"))
        case ")", "]", "}":
          guard let expected = brackets.popLast() else {
            throw JinjaError(.syntax, "unexpected '\(op)'", at: source.position(p))
          }
          guard expected == c else {
            throw JinjaError(
              .syntax, "unexpected '\(op)', expected '\(UnicodeScalar(expected))'", at: source.position(p))
          }
        default: break
        }
        tokens.append(JinjaToken(kind: .op(op), offset: p))
        p += op.utf8.count
      }
    }
  }

  private func lexString(from start: Int) throws -> (String, Int) {
    let b = bytes
    let quote = b[start]
    var p = start + 1
    var out: [UInt8] = []
    while p < b.count && b[p] != quote {
      if b[p] == UInt8(ascii: "\\") && p + 1 < b.count {
        p += 1
        switch b[p] {
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "0"): out.append(0x00)
        case UInt8(ascii: "\n"): break
        case UInt8(ascii: "x"), UInt8(ascii: "u"), UInt8(ascii: "U"):
          let width = b[p] == UInt8(ascii: "x") ? 2 : b[p] == UInt8(ascii: "u") ? 4 : 8
          guard p + width < b.count,
            let code = UInt32(String(decoding: b[p + 1...p + width], as: UTF8.self), radix: 16),
            let scalar = Unicode.Scalar(code)
          else { throw JinjaError(.syntax, "bad escape in string", at: source.position(p)) }
          out.append(contentsOf: Array(String(Character(scalar)).utf8))
          p += width
        case UInt8(ascii: "\\"), UInt8(ascii: "'"), UInt8(ascii: "\""): out.append(b[p])
        default: out.append(contentsOf: [UInt8(ascii: "\\"), b[p]])  // Python keeps unknown escapes
        }
      } else {
        out.append(b[p])
      }
      p += 1
    }
    guard p < b.count else {
      throw JinjaError(.syntax, "unexpected end of string", at: source.position(start))
    }
    return (String(decoding: out, as: UTF8.self), p + 1)
  }

  private func lexNumber(from start: Int) throws -> (JinjaToken.Kind, Int) {
    let b = bytes
    func digits(_ p: Int) -> Int {
      var e = p
      while e < b.count && ((b[e] >= 0x30 && b[e] <= 0x39) || b[e] == UInt8(ascii: "_")) { e += 1 }
      return e
    }
    var end = digits(start)
    var isFloat = false
    if end + 1 < b.count && b[end] == UInt8(ascii: ".") && b[end + 1] >= 0x30 && b[end + 1] <= 0x39 {
      isFloat = true
      end = digits(end + 1)
    }
    if end < b.count && (b[end] == UInt8(ascii: "e") || b[end] == UInt8(ascii: "E")) {
      var e = end + 1
      if e < b.count && (b[e] == UInt8(ascii: "+") || b[e] == UInt8(ascii: "-")) { e += 1 }
      if e < b.count && b[e] >= 0x30 && b[e] <= 0x39 {
        isFloat = true
        end = digits(e)
      }
    }
    let text = String(decoding: b[start..<end], as: UTF8.self).replacingOccurrences(of: "_", with: "")
    if isFloat, let d = Double(text) { return (.float(d), end) }
    if let i = Int(text) { return (.int(i), end) }
    throw JinjaError(.syntax, "bad number '\(text)'", at: source.position(start))
  }
}
