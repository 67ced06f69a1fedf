import Foundation
import MuseStore

/// What a verifier holds beside a receipt: the published keys, and as much as it has of the
/// request it sent, the reply it got (a JSON body, or a stream's `data:` lines) and the token
/// ids `GET /v1/receipts/{id}` gave.
public struct ReceiptEvidence: Sendable {
  public var receipt: Receipt
  public var keys: [ServerIdentity.PublicKey]
  public var request: Data?
  public var response: Data?
  public var promptTokenIDs: [Int]?
  public var completionTokenIDs: [Int]?

  public init(
    receipt: Receipt, keys: [ServerIdentity.PublicKey], request: Data? = nil, response: Data? = nil,
    promptTokenIDs: [Int]? = nil, completionTokenIDs: [Int]? = nil
  ) {
    self.receipt = receipt
    self.keys = keys
    self.request = request
    self.response = response
    self.promptTokenIDs = promptTokenIDs
    self.completionTokenIDs = completionTokenIDs
  }
}

/// One check `muse verify` reports: what was compared, and what was wrong (nil: it held).
public struct ReceiptCheck: Sendable, Equatable {
  public let name: String
  public let problem: String?

  public init(name: String, problem: String?) {
    self.name = name
    self.problem = problem
  }
}

/// Recomputes from the evidence everything a receipt states and compares (docs/RECEIPTS.md).
/// Re-running the prompt on an auditor's copy of the weights is a further check that takes
/// the same evidence and the token ids.
public enum ReceiptVerifier {
  public static func check(_ e: ReceiptEvidence) -> [ReceiptCheck] {
    var checks: [ReceiptCheck] = []
    func expect(_ name: String, _ field: String, _ actual: ReceiptValue?) {
      let stated = e.receipt.payload[field]
      let problem: String? =
        switch (stated, actual) {
        case (nil, _): "the receipt has no \(field)"
        case (_, nil): "the evidence has no \(field)"
        case (let s?, let a?) where s != a:
          "the receipt says \(describe(s)), the evidence gives \(describe(a))"
        default: nil
        }
      checks.append(ReceiptCheck(name: name, problem: problem))
    }
    do {
      try e.receipt.verifySignature(keys: e.keys)
      checks.append(ReceiptCheck(name: "signature", problem: nil))
    } catch {
      checks.append(ReceiptCheck(name: "signature", problem: "\(error)"))
    }
    if let request = e.request {
      expect(
        "request", "request_sha256",
        CanonicalJSON.bytes(ofDocument: request).map { .string(CanonicalJSON.sha256($0)) })
    }
    if let ids = e.promptTokenIDs {
      expect(
        "prompt token ids", "prompt_tokens_sha256",
        .string(CanonicalJSON.sha256(CanonicalJSON.bytes(ofTokens: ids))))
      expect("prompt token count", "prompt_tokens", .int(ids.count))
    }
    if let ids = e.completionTokenIDs {
      expect(
        "completion token ids", "completion_tokens_sha256",
        .string(CanonicalJSON.sha256(CanonicalJSON.bytes(ofTokens: ids))))
      expect("completion token count", "completion_tokens", .int(ids.count))
    }
    guard let response = e.response else { return checks }
    guard let reply = ReplyReading(response, choice: e.receipt.int("choice_index") ?? 0, request: e.request)
    else {
      checks.append(ReceiptCheck(name: "response", problem: "not a chat or text completion (JSON or stream)"))
      return checks
    }
    expect("response id", "response_id", reply.id.map(ReceiptValue.string))
    expect("model", "model", reply.model.map(ReceiptValue.string))
    expect("content", "content_sha256", .string(CanonicalJSON.sha256(reply.content)))
    if reply.isChat {
      expect("reasoning", "reasoning_sha256", .string(CanonicalJSON.sha256(reply.reasoning)))
      let calls = reply.calls.map {
        String(
          decoding: CanonicalJSON.bytes(ofFields: [
            "name": .string($0.name), "arguments": .string($0.arguments),
          ]), as: UTF8.self)
      }
      expect(
        "tool calls", "tool_calls_sha256",
        .string(CanonicalJSON.sha256("[" + calls.joined(separator: ",") + "]")))
    }
    expect("finish reason", "finish_reason", reply.finishReason.map(ReceiptValue.string))
    if let usage = reply.usage {
      expect("usage prompt tokens", "prompt_tokens", .int(usage.prompt))
      expect("usage completion tokens", "completion_tokens", .int(usage.completion))
    }
    return checks
  }

  private static func describe(_ v: ReceiptValue) -> String {
    switch v {
    case .int(let n): String(n)
    case .string(let s): "'\(s)'"
    }
  }
}

/// A reply as the client holds it, one choice of it: a JSON body, or a stream whose deltas are
/// concatenated.
struct ReplyReading {
  var id: String?
  var model: String?
  var isChat = false
  var content = ""
  var reasoning = ""
  var calls: [(name: String, arguments: String)] = []
  var finishReason: String?
  /// The reply's usage, when it has one for this choice alone.
  var usage: (prompt: Int, completion: Int)?

  init?(_ data: Data, choice: Int, request: Data?) {
    let text = String(decoding: data, as: UTF8.self)
    var objects: [[String: Any]] = []
    let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
    if trimmed.hasPrefix("{") {
      guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { return nil }
      objects = [object]
    } else {
      for line in text.split(whereSeparator: \.isNewline) where line.hasPrefix("data:") {
        let body = line.dropFirst(5).trimmingCharacters(in: .whitespaces)
        guard body != "[DONE]" else { continue }
        guard let object = (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] else {
          return nil
        }
        objects.append(object)
      }
    }
    guard !objects.isEmpty else { return nil }
    var callsByIndex: [Int: (name: String, arguments: String)] = [:]
    var choiceCount = 0
    for object in objects {
      id = id ?? object["id"] as? String
      model = model ?? object["model"] as? String
      let kind = object["object"] as? String ?? ""
      isChat = isChat || kind.hasPrefix("chat.completion")
      let choices = object["choices"] as? [[String: Any]] ?? []
      choiceCount = max(choiceCount, choices.count)
      if let u = object["usage"] as? [String: Any], let p = u["prompt_tokens"] as? Int,
        let c = u["completion_tokens"] as? Int
      {
        usage = (p, c)
      }
      for c in choices where (c["index"] as? Int ?? 0) == choice {
        if let reason = c["finish_reason"] as? String { finishReason = reason }
        if let t = c["text"] as? String { content += t }
        let message = (c["message"] ?? c["delta"]) as? [String: Any] ?? [:]
        content += message["content"] as? String ?? ""
        reasoning += message["reasoning_content"] as? String ?? ""
        for (position, call) in (message["tool_calls"] as? [[String: Any]] ?? []).enumerated() {
          let index = call["index"] as? Int ?? position
          let function = call["function"] as? [String: Any] ?? [:]
          var entry = callsByIndex[index] ?? ("", "")
          entry.name += function["name"] as? String ?? ""
          entry.arguments += function["arguments"] as? String ?? ""
          callsByIndex[index] = entry
        }
      }
    }
    calls = callsByIndex.keys.sorted().map { callsByIndex[$0]! }
    // Usage summed over several prompts' choices says nothing about one of them.
    if choiceCount > 1 { usage = nil }
    // An echoed prompt is the client's own text in front of the completion, not covered.
    if !isChat, let request, let asked = (try? JSONSerialization.jsonObject(with: request)) as? [String: Any],
      asked["echo"] as? Bool == true, let prompt = asked["prompt"] as? String,
      content.unicodeScalars.starts(with: prompt.unicodeScalars)
    {
      content = String(
        String.UnicodeScalarView(content.unicodeScalars.dropFirst(prompt.unicodeScalars.count)))
    }
  }
}
