import Crypto
import Foundation
import MuseJinja

/// The one byte form of JSON that receipts sign and hash: Python's
/// `json.dumps(x, sort_keys=True, separators=(",", ":"))` (so `ensure_ascii`: every character
/// outside ASCII written as `\uXXXX`, lower-case hex, UTF-16 surrogate pairs above U+FFFF),
/// encoded as UTF-8. Anyone can reproduce it with the Python standard library.
enum CanonicalJSON {
  /// A JSON document (bytes as a client sent them) in canonical form, or nil when it is not JSON.
  static func bytes(ofDocument data: Data) -> Data? {
    guard let value = try? JinjaValue(json: data) else { return nil }
    return bytes(of: value)
  }

  static func bytes(of value: JinjaValue) -> Data? {
    guard let text = try? value.jsonString(separators: (",", ":"), sortKeys: true) else { return nil }
    return Data(asciiEscaped(text).utf8)
  }

  /// An array of token ids, `[1,2,3]`.
  static func bytes(ofTokens tokens: [Int]) -> Data {
    var out = "["
    out.reserveCapacity(tokens.count * 6 + 2)
    for (i, t) in tokens.enumerated() {
      if i > 0 { out += "," }
      out += String(t)
    }
    return Data((out + "]").utf8)
  }

  /// An object of integers and strings, keys in code-point order.
  static func bytes(ofFields fields: [String: ReceiptValue]) -> Data {
    var out = "{"
    let keys = fields.keys.sorted { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) }
    for (i, key) in keys.enumerated() {
      if i > 0 { out += "," }
      out += quoted(key) + ":"
      switch fields[key]! {
      case .int(let n): out += String(n)
      case .string(let s): out += quoted(s)
      }
    }
    return Data((out + "}").utf8)
  }

  /// A string as Python's json.dumps writes it with `ensure_ascii`.
  static func quoted(_ s: String) -> String {
    var out = "\""
    for scalar in s.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      case "\u{08}": out += "\\b"
      case "\u{0C}": out += "\\f"
      default:
        // Python escapes everything outside space…tilde, DEL included.
        if scalar.value < 0x20 || scalar.value > 0x7E {
          out += escapes(scalar)
        } else {
          out.unicodeScalars.append(scalar)
        }
      }
    }
    return out + "\""
  }

  /// Python's ensure_ascii applied to JSON text that may hold other characters: they can only
  /// be inside strings, so escaping every one in place is the same as escaping while writing.
  static func asciiEscaped(_ text: String) -> String {
    guard text.utf8.contains(where: { $0 > 0x7E }) else { return text }
    var out = ""
    out.reserveCapacity(text.utf8.count + 16)
    for scalar in text.unicodeScalars {
      if scalar.value > 0x7E { out += escapes(scalar) } else { out.unicodeScalars.append(scalar) }
    }
    return out
  }

  private static func escapes(_ scalar: Unicode.Scalar) -> String {
    UTF16.encode(scalar)!.map { "\\u" + String(format: "%04x", $0) }.joined()
  }

  /// Lower-case hex SHA-256.
  static func sha256(_ data: Data) -> String { SHA256.hash(data: data).hexString }
  static func sha256(_ text: String) -> String { sha256(Data(text.utf8)) }
}

extension Sequence where Element == UInt8 {
  var hexString: String { map { String(format: "%02x", $0) }.joined() }
}
