import Foundation
import HummingbirdTesting
import MuseStore
import MuseTestSupport
import Testing

@testable import MuseServer

/// Every completion gets a signed receipt through the one pipeline: in a header, in a stream's
/// last chunk, and on `GET /v1/receipts/{id}` for its own key (or an admin); each verifies
/// against the published keys and the request and reply the client holds, and a changed reply,
/// model, request or token id does not.
struct ReceiptRouteTests {
  static let chat =
    #"{"model": "tiny", "messages": [{"role": "user", "content": "Say h\u00e9llo"}], "max_tokens": 8, "temperature": 0.7, "seed": 3, "ignore_eos": true}"#

  private func verify(
    _ receipt: Receipt, _ h: ServerHarness, request: String, response: String,
    tokens: ReceiptFile.Entry? = nil
  ) throws -> [ReceiptCheck] {
    ReceiptVerifier.check(
      ReceiptEvidence(
        receipt: receipt, keys: try h.identity.publishedKeys(), request: Data(request.utf8),
        response: Data(response.utf8), promptTokenIDs: tokens?.promptTokenIDs,
        completionTokenIDs: tokens?.completionTokenIDs))
  }

  private func failed(_ checks: [ReceiptCheck]) -> [String] {
    checks.filter { $0.problem != nil }.map(\.name)
  }

  @Test func aJSONReplyCarriesItsReceiptInAHeaderAndOnTheRoute() async throws {
    let h = try ServerHarness()
    try await h.test { c in
      let r = try await c.call("/v1/chat/completions", method: .post, key: h.user, json: Self.chat)
      #expect(r.status == .ok, "\(r.text)")
      let header = try #require(r.headers[.museReceipt])
      #expect(header.utf8.count < 2048)
      let receipt = try Receipt(compact: header)
      let checks = try verify(receipt, h, request: Self.chat, response: r.text)
      #expect(checks.count >= 9 && failed(checks).isEmpty, "\(checks)")
      let id = try #require(r.json["id"] as? String)
      #expect(receipt.string("response_id") == id && receipt.string("model") == "tiny")
      #expect(receipt.string("weights_sha256") == h.service.models["tiny"]?.weightsDigest)

      // The route gives the same receipt with the token ids, to the key that asked.
      let got = try await c.call("/v1/receipts/\(id)", key: h.user)
      #expect(got.status == .ok, "\(got.text)")
      let entries = try ReceiptFile.entries(from: Data(got.text.utf8), name: "route")
      #expect(entries.count == 1 && entries[0].receipt == receipt)
      #expect(entries[0].completionTokenIDs?.count == 8)
      let all = try verify(receipt, h, request: Self.chat, response: r.text, tokens: entries[0])
      #expect(all.count == checks.count + 4 && failed(all).isEmpty, "\(all)")
      let tokens = try #require(entries[0].completionTokenIDs)

      // Tampering with what the client holds, one thing at a time.
      let edited = Self.edited(r.json) { reply in
        var choices = reply["choices"] as! [[String: Any]]
        var message = choices[0]["message"] as! [String: Any]
        message["content"] = (message["content"] as! String) + "!"
        choices[0]["message"] = message
        reply["choices"] = choices
      }
      #expect(failed(try verify(receipt, h, request: Self.chat, response: edited)) == ["content"])
      let otherModel = Self.edited(r.json) { $0["model"] = "smol" }
      #expect(failed(try verify(receipt, h, request: Self.chat, response: otherModel)) == ["model"])
      let otherRequest = Self.chat.replacingOccurrences(of: "\"seed\": 3", with: "\"seed\": 4")
      #expect(failed(try verify(receipt, h, request: otherRequest, response: r.text)) == ["request"])
      var swapped = entries[0]
      swapped.completionTokenIDs = [tokens[1], tokens[0]] + tokens.dropFirst(2)
      #expect(
        failed(try verify(receipt, h, request: Self.chat, response: r.text, tokens: swapped)) == [
          "completion token ids"
        ])
      // The same request spelled differently (spacing, key order) is the same request.
      let respelled =
        #"{"seed":3,"temperature":0.70,"ignore_eos":true,"max_tokens":8,"messages":[{"content":"Say h\u00e9llo","role":"user"}],"model":"tiny"}"#
      #expect(failed(try verify(receipt, h, request: respelled, response: r.text)).isEmpty)
    }
  }

  @Test func onlyItsOwnKeyOrAnAdminReadsAReceipt() async throws {
    let h = try ServerHarness()
    try await h.test { c in
      let r = try await c.call("/v1/chat/completions", method: .post, key: h.user, json: Self.chat)
      let id = try #require(r.json["id"] as? String)
      #expect(try await c.call("/v1/receipts/\(id)", key: h.admin).status == .ok)
      let other = try await c.call("/v1/receipts/\(id)", key: h.weightsOnly)
      #expect(other.status == .notFound && other.error["code"] as? String == "receipt_not_found")
      #expect(try await c.call("/v1/receipts/\(id)", key: nil).status == .unauthorized)
      #expect(try await c.call("/v1/receipts/chatcmpl-nope", key: h.user).status == .notFound)
      // The public keys are open to all.
      let keys = try await c.call("/.well-known/muse-keys", key: nil)
      #expect(keys.status == .ok)
      let published = try ReceiptFile.keys(from: Data(keys.text.utf8), name: "route")
      #expect(published == (try h.identity.publishedKeys()))
    }
  }

  @Test func aStreamCarriesItsReceiptBeforeDone() async throws {
    let h = try ServerHarness()
    try await h.test { c in
      let request = Self.chat.replacingOccurrences(of: "\"seed\": 3", with: "\"seed\": 3, \"stream\": true")
      let r = try await c.call("/v1/chat/completions", method: .post, key: h.user, json: request)
      let lines = r.text.split(separator: "\n").filter { $0.hasPrefix("data:") }
      #expect(lines.last == "data: [DONE]")
      #expect(lines.dropLast().last?.contains(#""receipt""#) == true)
      let entries = try ReceiptFile.entries(from: Data(r.text.utf8), name: "stream")
      let checks = try verify(entries[0].receipt, h, request: request, response: r.text)
      #expect(failed(checks).isEmpty, "\(checks)")
      #expect(!checks.contains { $0.name == "content" && $0.problem != nil })
    }
  }

  @Test func eachPromptOfACompletionHasItsReceipt() async throws {
    let h = try ServerHarness()
    try await h.test { c in
      let request =
        #"{"model": "tiny", "prompt": ["one", "two"], "max_tokens": 4, "temperature": 0, "ignore_eos": true}"#
      let r = try await c.call("/v1/completions", method: .post, key: h.user, json: request)
      #expect(r.status == .ok && r.headers[.museReceipt] == nil)
      let id = try #require(r.json["id"] as? String)
      let got = try await c.call("/v1/receipts/\(id)", key: h.user)
      let entries = try ReceiptFile.entries(from: Data(got.text.utf8), name: "route")
      #expect(entries.map { $0.receipt.int("choice_index") } == [0, 1])
      for entry in entries {
        let checks = try verify(entry.receipt, h, request: request, response: r.text, tokens: entry)
        #expect(failed(checks).isEmpty, "\(checks)")
      }
      // One prompt with echo: the echoed prompt is not part of what the receipt covers.
      let echo = #"{"model": "tiny", "prompt": "three", "max_tokens": 4, "echo": true, "temperature": 0}"#
      let e = try await c.call("/v1/completions", method: .post, key: h.user, json: echo)
      let receipt = try Receipt(compact: try #require(e.headers[.museReceipt]))
      #expect(failed(try verify(receipt, h, request: echo, response: e.text)).isEmpty)
    }
  }

  @Test func toolCallsAndContentAreCoveredAsTheClientReadsThem() async throws {
    let h = try ServerHarness(toolsModel: true)
    try await h.test { c in
      let request =
        #"{"model": "tools", "messages": [{"role": "user", "content": "Weather?"}], "tools": \#(ToolCallRouteTests.tools), "temperature": 0, "max_tokens": 120}"#
      for stream in [false, true] {
        let body =
          stream
          ? request.replacingOccurrences(of: "\"max_tokens\"", with: "\"stream\": true, \"max_tokens\"")
          : request
        let r = try await c.call("/v1/chat/completions", method: .post, key: h.user, json: body)
        #expect(r.text.contains("get_weather"))
        let receipt =
          stream
          ? try ReceiptFile.entries(from: Data(r.text.utf8), name: "stream")[0].receipt
          : try Receipt(compact: try #require(r.headers[.museReceipt]))
        #expect(receipt.string("finish_reason") == "tool_calls")
        let checks = try verify(receipt, h, request: body, response: r.text)
        #expect(failed(checks).isEmpty, "\(checks)")
        // One more argument fragment for the first call.
        let changed =
          stream
          ? r.text.replacingOccurrences(
            of: "data: [DONE]",
            with:
              #"data: {"object":"chat.completion.chunk","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":" "}}]}}]}"#
              + "\n\ndata: [DONE]")
          : Self.edited(r.json) { reply in
            var choices = reply["choices"] as! [[String: Any]]
            var message = choices[0]["message"] as! [String: Any]
            var calls = message["tool_calls"] as! [[String: Any]]
            var function = calls[0]["function"] as! [String: Any]
            function["arguments"] = (function["arguments"] as! String) + " "
            calls[0]["function"] = function
            message["tool_calls"] = calls
            choices[0]["message"] = message
            reply["choices"] = choices
          }
        #expect(failed(try verify(receipt, h, request: body, response: changed)) == ["tool calls"])
      }
    }
  }

  /// A reply's JSON with one thing changed.
  static func edited(_ reply: [String: Any], _ change: (inout [String: Any]) -> Void) -> String {
    var copy = reply
    change(&copy)
    return String(decoding: try! JSONSerialization.data(withJSONObject: copy), as: UTF8.self)
  }
}
