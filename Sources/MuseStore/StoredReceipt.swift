import Foundation

/// A signed receipt as the store keeps it, with what a verifier needs beside it: the prompt's
/// and the completion's token ids. `receipt` is the receipt document (payload and signature)
/// as JSON; the token ids are JSON arrays. Keyed by the response id the client saw and the
/// choice's index (a completions request with several prompts has one receipt per prompt).
public struct StoredReceipt: Sendable, Equatable {
  public var responseID: String
  public var choiceIndex: Int
  /// The ledger row's id.
  public var requestID: String
  /// The API key that made the request: only it (or an admin key) may read the receipt.
  public var keyID: String
  public var receipt: String
  public var promptTokenIDs: String
  public var completionTokenIDs: String
  /// The engine's activation commitment in its byte form, when it made one.
  public var activations: Data?
  public var createdAt: Date

  public init(
    responseID: String, choiceIndex: Int, requestID: String, keyID: String, receipt: String,
    promptTokenIDs: String, completionTokenIDs: String, activations: Data? = nil, createdAt: Date = Date()
  ) {
    self.responseID = responseID
    self.choiceIndex = choiceIndex
    self.requestID = requestID
    self.keyID = keyID
    self.receipt = receipt
    self.promptTokenIDs = promptTokenIDs
    self.completionTokenIDs = completionTokenIDs
    self.activations = activations
    self.createdAt = createdAt
  }
}

public protocol ReceiptStore {
  func record(_ receipt: StoredReceipt) throws
  /// The receipts of one response, by choice index.
  func receipts(responseID: String) throws -> [StoredReceipt]
}
