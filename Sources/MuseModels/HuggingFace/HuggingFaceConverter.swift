import Foundation
import MuseKernels

/// Hugging Face checkpoint folder → GGUF v3 file that llama.cpp-style tools read: llama.cpp
/// tensor names and metadata keys (from `HuggingFaceCheckpoint`, with Llama Q/K rows permuted as
/// `convert_hf_to_gguf.py` does), `tokenizer.ggml.*` from `tokenizer.json`, and weights
/// quantized by `RowQuantizer`.
public struct HuggingFaceConverter {
  /// The formats `muse convert --type` offers, with their `general.file_type` (llama.cpp
  /// `llama_ftype`).
  public enum Target: String, CaseIterable, Sendable {
    case q8_0, q4_0, q4_k, f16

    public var type: GGMLType {
      switch self {
      case .q8_0: .q8_0
      case .q4_0: .q4_0
      case .q4_k: .q4_K
      case .f16: .f16
      }
    }
    var fileType: UInt32 {
      switch self {
      case .q8_0: 7
      case .q4_0: 2
      case .q4_k: 15
      case .f16: 1
      }
    }
  }

  /// One tensor as it will be written, and why its type differs from the target if it does.
  public struct PlannedTensor: Sendable {
    public let name: String
    public let shape: [Int]
    public let type: GGMLType
    public let note: String?
  }

  public let checkpoint: HuggingFaceCheckpoint
  public let tokenizer: HuggingFaceTokenizerFile?
  public let target: Target

  public init(folder: String, target: Target) throws {
    checkpoint = try HuggingFaceCheckpoint(folder: folder)
    let tokenizerPath = folder + "/tokenizer.json"
    tokenizer =
      FileManager.default.fileExists(atPath: tokenizerPath)
      ? try HuggingFaceTokenizerFile(path: tokenizerPath) : nil
    self.target = target
  }

  /// The type each tensor gets: 1-D tensors and MoE routers stay F32 (as `convert_hf_to_gguf.py`
  /// keeps them); a row that is not a whole number of the target's blocks falls back, as
  /// llama.cpp's quantizer does, to Q8_0 (rows of 32) or F16.
  public var plan: [PlannedTensor] {
    checkpoint.tensorNames.map { name in
      let info = checkpoint.tensorInfo(name)!
      let columns = info.shape[0]
      if info.shape.count == 1 || name.hasSuffix("ffn_gate_inp.weight") {
        return PlannedTensor(name: name, shape: info.shape, type: .f32, note: nil)
      }
      if RowQuantizer.canWrite(target.type, columns: columns) {
        return PlannedTensor(name: name, shape: info.shape, type: target.type, note: nil)
      }
      let fallback: GGMLType = RowQuantizer.canWrite(.q8_0, columns: columns) ? .q8_0 : .f16
      return PlannedTensor(
        name: name, shape: info.shape, type: fallback,
        note: "rows of \(columns) are not whole \(target.type.name) blocks; written as \(fallback.name)")
    }
  }

  /// GGUF metadata: the checkpoint's hyperparameters, the file type and the tokenizer.
  public var metadata: [(String, GGUFValue)] {
    var m: [(String, GGUFValue)] = checkpoint.metadataKeys.map { ($0, checkpoint.metadata[$0]!) }
    m.append(("general.file_type", .uint32(target.fileType)))
    m.append(("general.quantization_version", .uint32(2)))
    if let tokenizer { m += Self.tokenizerMetadata(tokenizer) }
    return m
  }

  /// `tokenizer.ggml.*` (llama.cpp `LLM_KV_TOKENIZER_*`): the family (`gpt2` byte-level BPE,
  /// `llama` SentencePiece-style BPE, `bert` WordPiece), tokens and types, merges, special ids,
  /// and the chat template. A `llama` vocabulary gets scores −rank of the merge that makes each
  /// token (SentencePiece merges by highest score, so this reproduces BPE's merge order).
  static func tokenizerMetadata(_ t: HuggingFaceTokenizerFile) -> [(String, GGUFValue)] {
    let v = t.vocabulary
    var m: [(String, GGUFValue)] = [("tokenizer.ggml.model", .string(v.model))]
    if v.model == "gpt2" { m.append(("tokenizer.ggml.pre", .string(v.pre ?? "default"))) }
    m.append(
      (
        "tokenizer.ggml.tokens",
        .array(.strings(v.tokens.enumerated().map { $1.isEmpty ? "[PAD\($0)]" : $1 }))
      ))
    if v.model == "llama" {
      var scores = [Double](repeating: 0, count: v.tokens.count)
      for (rank, (a, b)) in v.merges.enumerated() {
        if let id = t.tokenIDs[a + b], scores[id] == 0 { scores[id] = -Double(rank + 1) }
      }
      m.append(("tokenizer.ggml.scores", .array(.floats(scores))))
    }
    m.append(("tokenizer.ggml.token_type", .array(.integers(v.tokenTypes.map { $0.rawValue }))))
    if v.model == "gpt2" {
      m.append(("tokenizer.ggml.merges", .array(.strings(v.merges.map { "\($0.0) \($0.1)" }))))
    }
    func id(_ key: String, _ value: Int?) {
      if let value { m.append(("tokenizer.ggml.\(key)", .uint32(UInt32(value)))) }
    }
    id("bos_token_id", v.model == "bert" ? v.clsToken : v.bosToken)
    id("eos_token_id", v.model == "bert" ? v.separatorToken : v.eosToken)
    id("unknown_token_id", v.unknownToken)
    id("seperator_token_id", v.separatorToken)
    id("cls_token_id", v.clsToken)
    if let b = v.addBOS { m.append(("tokenizer.ggml.add_bos_token", .bool(b))) }
    if let e = v.addEOS { m.append(("tokenizer.ggml.add_eos_token", .bool(e))) }
    if v.model == "llama" { m.append(("tokenizer.ggml.add_space_prefix", .bool(t.pipeline.addsSpacePrefix))) }
    if let template = t.config?.chatTemplate { m.append(("tokenizer.chat_template", .string(template))) }
    return m
  }

  /// Writes the GGUF file; `progress` hears the fraction of tensors written.
  @discardableResult
  public func write(to path: String, progress: (Double) -> Void = { _ in }) throws -> [PlannedTensor] {
    var writer = GGUFWriter()
    for (k, v) in metadata { writer.add(k, v) }
    let plan = self.plan
    let source = checkpoint
    for p in plan {
      writer.addTensor(name: p.name, shape: p.shape, type: p.type) { out in
        let view = try source.tensor(p.name)
        let columns = view.columns
        let rows = view.rows
        let row = UnsafeMutablePointer<Float>.allocate(capacity: columns)
        defer { row.deallocate() }
        let rowBytes = p.type.byteCount(values: columns)
        for r in 0..<rows {
          dequantizeRow(view.type, view.row(r), row, count: columns)
          RowQuantizer.quantize(row, to: out.baseAddress! + r * rowBytes, count: columns, type: p.type)
        }
      }
    }
    try writer.write(to: path) { done, total in progress(Double(done) / Double(total)) }
    return plan
  }
}

extension HFTokenizationPipeline {
  /// Whether a Metaspace pre-tokenizer (or a Prepend normalizer) puts "▁" in front of the text,
  /// llama.cpp's `add_space_prefix`.
  var addsSpacePrefix: Bool {
    if let m = preTokenizer as? MetaspacePreTokenizer { return m.prependScheme != "never" }
    if let s = preTokenizer as? PreTokenizerSequence {
      return s.steps.contains { ($0 as? MetaspacePreTokenizer).map { $0.prependScheme != "never" } ?? false }
    }
    if normalizer is PrependNormalizer { return true }
    if let s = normalizer as? NormalizerSequence { return s.steps.contains { $0 is PrependNormalizer } }
    return false
  }
}
