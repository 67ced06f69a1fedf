import Foundation
import Hummingbird
import MuseKernels
import MuseModels
import MuseStore

/// `GET /v1/models`, `GET /v1/models/{id}` (with a model card) and
/// `GET /v1/models/{id}/weights` (open models only).
struct ModelController: Sendable {
  let service: MuseService

  func register(on v1: RouterGroup<MuseRequestContext>) {
    v1.get("/models") { request, context in try self.listModels(request, context: context) }
    v1.get("/models/{id}") { request, context in
      try self.modelCard(request, context: context, id: try context.parameters.require("id"))
    }
    v1.get("/models/{id}/weights") { request, context in
      try self.weights(request, context: context, id: try context.parameters.require("id"))
    }
  }

  // swiftlint:disable identifier_name
  struct ModelObject: Encodable {
    let id: String
    let object = "model"
    let created: Int
    let owned_by: String
    let visibility: String
  }

  struct ModelCard: Encodable {
    let id: String
    let object = "model"
    let created: Int
    let owned_by: String
    let display_name: String
    let description: String?
    let visibility: String
    let architecture: String
    let parameters: Int
    let active_parameters: Int
    let quantization: [String: Int]
    let context_length: Int
    let weights_sha256: String
    /// The root of the weights commitment (`muse commit`): a Merkle tree over the file's
    /// metadata and tensors, so one tensor can be proven to belong.
    let weights_root: String?
    let pricing: [String: Double]
    /// What a request that does not say gets (the operator's catalogue entry; a field left out:
    /// the API's own default, temperature 1, top_p 1, max_tokens up to the context).
    let default_sampling: DefaultSampling
    let download: String?
    /// The stages the operator's guardrails watch (`input`, `output`, `tool`): that a policy
    /// applies, not what it is.
    let guardrails: [String]
    /// The operator's attested claims (`GET /v1/models/{id}/claims` has their attestations).
    let claims: [ClaimSummary]
  }

  struct ClaimSummary: Encodable {
    let id: String
    let statement: String
  }

  struct DefaultSampling: Encodable {
    let temperature: Float?
    let top_p: Float?
    let max_tokens: Int?
  }
  // swiftlint:enable identifier_name

  private func visibleModels(for key: APIKey) -> [ModelEntry] {
    service.modelOrder.compactMap { service.models[$0]?.entry ?? service.embedders[$0]?.entry }.filter {
      key.allows(model: $0.id)
    }
  }

  func listModels(_ request: Request, context: MuseRequestContext) throws -> Response {
    let key = try context.requireKey(.inference)
    struct List: Encodable {
      let object = "list"
      let data: [ModelObject]
    }
    return try jsonResponse(
      List(
        data: visibleModels(for: key).map {
          ModelObject(id: $0.id, created: 0, owned_by: "muse", visibility: $0.visibility.rawValue)
        }))
  }

  func modelCard(_ request: Request, context: MuseRequestContext, id: String) throws -> Response {
    let key = try context.requireKey(.inference)
    if let embedder = service.embedders[id], key.allows(model: id) {
      struct EmbeddingCard: Encodable {
        let id: String
        let object = "model"
        let owned_by = "muse"
        let display_name: String
        let description: String?
        let visibility: String
        let architecture = "bert"
        let task = "embedding"
        let dimensions: Int
        let context_length: Int
        let weights_sha256: String
      }
      let e = embedder.entry
      return try jsonResponse(
        EmbeddingCard(
          id: e.id, display_name: e.displayName ?? e.id, description: e.description,
          visibility: e.visibility.rawValue,
          dimensions: embedder.model.dimensions, context_length: embedder.model.maxTokens,
          weights_sha256: embedder.weightsDigest))
    }
    let runner = try service.model(id, for: key)
    let file = runner.model.weights
    let summary = ModelSummary(file: file)
    var mix: [String: Int] = [:]
    for share in summary.quantizationMix { mix[share.type.name] = share.tensors }
    let entry = runner.entry
    return try jsonResponse(
      ModelCard(
        id: entry.id, created: 0, owned_by: "muse", display_name: entry.displayName ?? entry.id,
        description: entry.description, visibility: entry.visibility.rawValue,
        architecture: runner.model.architecture, parameters: summary.totalParameters,
        active_parameters: summary.activeParameters, quantization: mix,
        context_length: runner.model.contextLength, weights_sha256: runner.weightsDigest,
        weights_root: runner.weightsRoot,
        pricing: [
          "input_per_million": entry.inputPricePerMillion, "output_per_million": entry.outputPricePerMillion,
        ],
        default_sampling: DefaultSampling(
          temperature: entry.defaultTemperature, top_p: entry.defaultTopP, max_tokens: entry.defaultMaxTokens),
        download: entry.visibility == .open ? "/v1/models/\(entry.id)/weights" : nil,
        guardrails: (entry.guardPolicy?.stages ?? []).map(\.rawValue),
        claims: try service.store.claims(model: entry.id).map {
          ClaimSummary(id: $0.id, statement: $0.statement)
        }))
  }

  /// Streams an open model's GGUF file (with Range and an ETag of its SHA-256). For a closed
  /// model the route answers exactly as for a model that does not exist.
  func weights(_ request: Request, context: MuseRequestContext, id: String) throws -> Response {
    let key = try context.requireKey(.weights)
    guard let runner = service.models[id], runner.entry.visibility == .open, key.allows(model: id),
      let file = runner.model.gguf
    else {
      throw OpenAIError.modelNotFound(id)
    }
    let bytes = file.rawBytes
    let total = bytes.count
    let etag = "\"\(runner.weightsDigest)\""
    var headers: HTTPFields = [
      .contentType: "application/octet-stream", .eTag: etag, .acceptRanges: "bytes",
      .contentDisposition: "attachment; filename=\"\(id).gguf\"",
    ]
    if request.headers[.ifNoneMatch] == etag { return Response(status: .notModified, headers: headers) }
    var selected = 0..<total
    var status = HTTPResponse.Status.ok
    if let header = request.headers[.range] {
      guard let r = Self.parseRange(header, total: total) else {
        headers[.contentRange] = "bytes */\(total)"
        return Response(status: .rangeNotSatisfiable, headers: headers)
      }
      selected = r
      status = .partialContent
      headers[.contentRange] = "bytes \(r.lowerBound)-\(r.upperBound - 1)/\(total)"
    }
    let range = selected
    headers[.contentLength] = String(range.count)
    let body = ResponseBody(contentLength: range.count) { writer in
      var offset = range.lowerBound
      while offset < range.upperBound {
        let end = min(offset + (1 << 20), range.upperBound)
        let chunk = ByteBuffer(bytes: UnsafeRawBufferPointer(rebasing: file.rawBytes[offset..<end]))
        try await writer.write(chunk)
        offset = end
      }
      try await writer.finish(nil)
    }
    return Response(status: status, headers: headers, body: body)
  }

  /// One `bytes=a-b`, `bytes=a-` or `bytes=-n` range (RFC 9110 §14.1.2).
  static func parseRange(_ header: String, total: Int) -> Range<Int>? {
    guard header.hasPrefix("bytes="), !header.contains(",") else { return nil }
    let spec = header.dropFirst(6).split(separator: "-", omittingEmptySubsequences: false)
    guard spec.count == 2 else { return nil }
    if spec[0].isEmpty {
      guard let n = Int(spec[1]), n > 0 else { return nil }
      return max(0, total - n)..<total
    }
    guard let start = Int(spec[0]), start < total else { return nil }
    let end = spec[1].isEmpty ? total - 1 : min(Int(spec[1]) ?? -1, total - 1)
    guard end >= start else { return nil }
    return start..<(end + 1)
  }
}
