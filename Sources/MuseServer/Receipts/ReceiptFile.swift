import Foundation
import MuseStore

/// Reads receipts and key lists in the forms a client keeps them: a receipt document, what
/// `GET /v1/receipts/{id}` returned (one entry or the list), a saved stream (its receipt
/// chunk), or the `Muse-Receipt` header's compact value.
public enum ReceiptFile {
  public struct Entry: Sendable {
    public var receipt: Receipt
    public var promptTokenIDs: [Int]?
    public var completionTokenIDs: [Int]?
    /// The engine's activation commitment (`GET /v1/receipts/{id}` gives it, base64).
    public var activations: Data?
  }

  public static func entries(from data: Data, name: String) throws -> [Entry] {
    let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    if !text.hasPrefix("{") && !text.contains("data:") {
      do {
        return [Entry(receipt: try Receipt(compact: text))]
      } catch {
        throw ReceiptError.malformed("\(name): \(error)")
      }
    }
    var objects: [[String: Any]] = []
    if text.hasPrefix("{") {
      guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
        throw ReceiptError.malformed("\(name): not JSON")
      }
      objects = (object["data"] as? [[String: Any]]) ?? [object]
    } else {
      for line in text.split(whereSeparator: \.isNewline) where line.hasPrefix("data:") {
        let body = line.dropFirst(5).trimmingCharacters(in: .whitespaces)
        if let object = (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any],
          object["receipt"] != nil
        {
          objects.append(object)
        }
      }
    }
    let found = try objects.map { object -> Entry in
      let document = object["receipt"] ?? object
      guard let bytes = try? JSONSerialization.data(withJSONObject: document),
        let receipt = try? JSONDecoder().decode(Receipt.self, from: bytes)
      else { throw ReceiptError.malformed("\(name): no receipt ({\"payload\", \"signature\"}) in it") }
      return Entry(
        receipt: receipt, promptTokenIDs: object["prompt_token_ids"] as? [Int],
        completionTokenIDs: object["completion_token_ids"] as? [Int],
        activations: (object["activations"] as? String).flatMap { Data(base64Encoded: $0) })
    }
    guard !found.isEmpty else { throw ReceiptError.malformed("\(name): no receipt in it") }
    return found
  }

  public static func keys(from data: Data, name: String) throws -> [ServerIdentity.PublicKey] {
    do {
      return try JSONDecoder().decode(ServerIdentity.KeySet.self, from: data).keys
    } catch {
      throw ReceiptError.malformed("\(name): not a key list ({\"keys\": [...]}): \(error)")
    }
  }
}
