import Crypto
import Foundation
import MuseStore

/// A value in a receipt's signed payload: integers and strings only, so its canonical bytes
/// have one spelling in every language.
public enum ReceiptValue: Sendable, Equatable, Codable {
  case int(Int)
  case string(String)

  public init(from decoder: Decoder) throws {
    let c = try decoder.singleValueContainer()
    if let n = try? c.decode(Int.self) {
      self = .int(n)
    } else {
      self = .string(try c.decode(String.self))
    }
  }

  public func encode(to encoder: Encoder) throws {
    var c = encoder.singleValueContainer()
    switch self {
    case .int(let n): try c.encode(n)
    case .string(let s): try c.encode(s)
    }
  }
}

/// A signed statement about one completion (docs/RECEIPTS.md says what each field covers):
/// the payload, and an Ed25519 signature over exactly its canonical bytes
/// (`CanonicalJSON.bytes(ofFields:)`) by the key the payload's `key_id` names.
public struct Receipt: Sendable, Equatable, Codable {
  /// The payload's layout; a verifier refuses versions it does not know.
  public static let version = 1
  /// The response header a non-streamed reply carries it in.
  public static let header = "Muse-Receipt"

  public var payload: [String: ReceiptValue]
  /// The 64-byte Ed25519 signature, base64.
  public var signature: String

  public init(payload: [String: ReceiptValue], signature: String) {
    self.payload = payload
    self.signature = signature
  }

  /// Signs `payload`, with the signing key's `key_id` added, by the identity's current key.
  public static func sign(_ payload: [String: ReceiptValue], by identity: ServerIdentity) throws -> Receipt {
    var fields = payload
    let (_, signature) = try identity.sign { keyID in
      fields["key_id"] = .string(keyID)
      return CanonicalJSON.bytes(ofFields: fields)
    }
    return Receipt(payload: fields, signature: signature.base64EncodedString())
  }

  /// The bytes the signature covers.
  public var signedBytes: Data { CanonicalJSON.bytes(ofFields: payload) }

  public func string(_ field: String) -> String? {
    if case .string(let s)? = payload[field] { return s }
    return nil
  }

  public func int(_ field: String) -> Int? {
    if case .int(let n)? = payload[field] { return n }
    return nil
  }

  /// The compact form for a response header: the canonical payload and the signature, each
  /// base64url without padding, joined by a dot (about 1 KB whatever the reply's length).
  public var compact: String {
    Self.base64url(signedBytes) + "." + Self.base64url(Data(base64Encoded: signature) ?? Data())
  }

  /// Reads the compact form back.
  public init(compact: String) throws {
    let parts = compact.split(separator: ".", omittingEmptySubsequences: false)
    guard parts.count == 2, let bytes = Self.unbase64url(parts[0]), let signature = Self.unbase64url(parts[1])
    else { throw ReceiptError.malformed("not two base64url parts joined by a dot") }
    do {
      payload = try JSONDecoder().decode([String: ReceiptValue].self, from: bytes)
    } catch {
      throw ReceiptError.malformed("the payload is not an object of integers and strings")
    }
    self.signature = signature.base64EncodedString()
    // The signature covers the bytes sent; a payload that is not canonical cannot verify.
    guard signedBytes == bytes else { throw ReceiptError.malformed("the payload is not in canonical form") }
  }

  /// Checks the signature with the published key the payload names, and that the key was
  /// valid when the receipt was made. Throws what failed.
  public func verifySignature(keys: [ServerIdentity.PublicKey]) throws {
    guard int("version") == Self.version else {
      throw ReceiptError.invalid(
        "receipt version \(payload["version"].map { "\($0)" } ?? "missing") is not 1")
    }
    guard let keyID = string("key_id") else { throw ReceiptError.invalid("the receipt names no key_id") }
    guard let key = keys.first(where: { $0.keyID == keyID }) else {
      throw ReceiptError.invalid("no published key has the id \(keyID)")
    }
    guard key.algorithm == ServerIdentity.algorithm, let raw = Data(base64Encoded: key.publicKey),
      let publicKey = try? Curve25519.Signing.PublicKey(rawRepresentation: raw)
    else { throw ReceiptError.invalid("the published key \(keyID) is not a 32-byte Ed25519 key") }
    guard let signature = Data(base64Encoded: signature),
      publicKey.isValidSignature(signature, for: signedBytes)
    else { throw ReceiptError.invalid("the signature does not verify with key \(keyID)") }
    guard let created = int("created"), key.covers(created) else {
      throw ReceiptError.invalid("key \(keyID) was not valid at the receipt's creation time")
    }
  }

  static func base64url(_ data: Data) -> String {
    data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(
      of: "/", with: "_"
    )
    .replacingOccurrences(of: "=", with: "")
  }

  static func unbase64url(_ text: Substring) -> Data? {
    var s = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
    s += String(repeating: "=", count: (4 - s.count % 4) % 4)
    return Data(base64Encoded: s)
  }
}

public enum ReceiptError: Error, CustomStringConvertible {
  case malformed(String)
  case invalid(String)

  public var description: String {
    switch self {
    case .malformed(let why): "malformed receipt: \(why)"
    case .invalid(let why): why
    }
  }
}
