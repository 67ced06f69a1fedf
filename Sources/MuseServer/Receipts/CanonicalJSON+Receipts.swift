import Crypto
import Foundation
import MuseJinja
import MuseModels

/// The canonical bytes receipts sign and hash (`CanonicalJSON`, MuseModels: Python's
/// `json.dumps(x, sort_keys=True, separators=(",", ":"))`, `ensure_ascii`, as UTF-8) for the
/// values a receipt covers: a request body as sent, token ids, the payload's fields.
extension CanonicalJSON {
  /// A JSON document (bytes as a client sent them) in canonical form, or nil when it is not JSON.
  static func bytes(ofDocument data: Data) -> Data? {
    guard let value = try? JinjaValue(json: data),
      let text = try? value.jsonString(separators: (",", ":"), sortKeys: true)
    else { return nil }
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

  /// An object of integers and strings.
  static func bytes(ofFields fields: [String: ReceiptValue]) -> Data {
    let encoded = fields.map { key, value -> (String, String) in
      switch value {
      case .int(let n): (key, String(n))
      case .string(let s): (key, string(s))
      }
    }
    return Data(object(encoded).utf8)
  }

  /// Python's ensure_ascii applied to JSON text that may hold other characters (MuseJinja writes
  /// them as they are): they can only be inside strings, so escaping each in place is the same
  /// as escaping while writing. Python escapes everything past `~`, DEL included.
  static func asciiEscaped(_ text: String) -> String {
    guard text.utf8.contains(where: { $0 > 0x7E }) else { return text }
    var out = ""
    out.reserveCapacity(text.utf8.count + 16)
    for scalar in text.unicodeScalars {
      if scalar.value > 0x7E {
        for unit in UTF16.encode(scalar)! { out += "\\u" + String(format: "%04x", unit) }
      } else {
        out.unicodeScalars.append(scalar)
      }
    }
    return out
  }

  /// Lower-case hex SHA-256.
  static func sha256(_ data: Data) -> String { Array(SHA256.hash(data: data)).hexString }
  static func sha256(_ text: String) -> String { sha256(Data(text.utf8)) }
}
