import Foundation
import MuseKernels

/// A Hugging Face checkpoint folder (`config.json` + `model.safetensors` or shards listed in
/// `model.safetensors.index.json`) seen as a `WeightSource`: tensors under llama.cpp names in
/// ggml shape order, `config.json` as `{arch}.*` GGUF metadata. A safetensors Linear weight is
/// [out, in] row-major, which is ggml's [in, out] with `out` rows: the same bytes, so most
/// tensors are views into the mapped files (F32, F16, BF16 run directly on the kernels).
///
/// Two kinds of tensor are rebuilt, once, into memory this object owns, in the checkpoint's own
/// element type:
/// - Llama-family Q/K rows are permuted per head, as `convert_hf_to_gguf.py` does, so that the
///   `llama` architecture's adjacent-pair RoPE applies. That costs a copy of the Q and K
///   projections only (a small share of a model); choosing the halves RoPE layout for HF-loaded
///   Llama instead would make the same weights need two configurations, and `muse convert`
///   needs the permuted rows anyway.
/// - Per-expert matrices (`experts.E.gate_proj`) are stacked into the merged [in, out, experts]
///   tensors the MoE block reads. That copy is the size of the experts; the mapped pages it read
///   are clean and the kernel can drop them.
public final class HuggingFaceCheckpoint: WeightSource, @unchecked Sendable {
  public let path: String
  public let config: HuggingFaceConfig
  /// `architectures[0]` of config.json.
  public let className: String
  public let checkpoint: SafeTensorsCheckpoint
  public let metadata: [String: GGUFValue]
  /// GGUF metadata keys in the order they were made.
  public let metadataKeys: [String]
  public let tensorNames: [String]
  private let sources: [String: CheckpointTensor]
  private let infos: [String: WeightInfo]
  private var owned: [String: TensorView] = [:]
  private var buffers: [UnsafeMutableRawPointer] = []
  private let lock = NSLock()

  public init(folder: String) throws {
    path = folder
    let config = try HuggingFaceConfig.load(path: folder + "/config.json")
    self.config = config
    guard let className = config.architectures?.first else {
      throw SafeTensorsError.badConfig(file: folder + "/config.json", reason: "no \"architectures\" list")
    }
    self.className = className
    guard let arch = HuggingFaceArchitectures.definition(for: className) else {
      throw SafeTensorsError.unsupportedArchitecture(
        folder: folder, architecture: className, supported: HuggingFaceArchitectures.supportedNames)
    }
    let checkpoint = try SafeTensorsCheckpoint(folder: folder)
    self.checkpoint = checkpoint
    let name = (folder as NSString).lastPathComponent
    let meta =
      HuggingFaceMetadata.common(config, architecture: arch.ggufArchitecture, name: name)
      + arch.extraMetadata(config)
    var dict: [String: GGUFValue] = [:]
    var keys: [String] = []
    for (k, v) in meta where dict.updateValue(v, forKey: k) == nil { keys.append(k) }
    metadata = dict
    metadataKeys = keys

    let map = HuggingFaceMetadata.tensorMap(
      names: checkpoint.tensorNames, config: config, architecture: arch)
    var sources: [String: CheckpointTensor] = [:]
    var infos: [String: WeightInfo] = [:]
    var names: [String] = []
    for (gguf, source) in map {
      let parts = try source.sources.map { n -> SafeTensorInfo in
        guard let info = checkpoint.info(n) else { throw GGUFError.missingTensor(file: folder, tensor: n) }
        return info
      }
      var shape = parts[0].ggmlShape
      switch source {
      case .stackedExperts:
        guard parts.allSatisfy({ $0.shape == parts[0].shape && $0.type == parts[0].type }) else {
          throw GGUFError.corrupt(
            file: folder, offset: 0, reason: "experts of '\(gguf)' differ in shape or type")
        }
        shape.append(parts.count)
      case .flattened: shape = [shape.reduce(1, *)]
      case .permutedRows(_, let heads):
        let rows = shape.count > 1 ? shape[1] : shape[0]
        guard heads > 0, rows % (2 * heads) == 0 else {
          throw GGUFError.wrongTensorShape(
            file: folder, tensor: source.sources[0], expected: [rows], found: shape)
        }
      case .direct: break
      }
      sources[gguf] = source
      infos[gguf] = WeightInfo(name: gguf, shape: shape, type: parts[0].type)
      names.append(gguf)
    }
    self.sources = sources
    self.infos = infos
    tensorNames = names
  }

  deinit { for b in buffers { b.deallocate() } }

  public func tensorInfo(_ name: String) -> WeightInfo? { infos[name] }

  public func tensor(_ name: String) throws -> TensorView {
    guard let source = sources[name], let info = infos[name] else {
      throw GGUFError.missingTensor(file: path, tensor: name)
    }
    switch source {
    case .direct(let n), .flattened(let n):
      let view = checkpoint.tensor(n)!
      return TensorView(type: view.type, data: view.data, shape: info.shape)
    case .permutedRows, .stackedExperts:
      lock.lock()
      defer { lock.unlock() }
      if let view = owned[name] { return view }
      let bytes = info.byteCount
      let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(bytes, 1), alignment: 64)
      buffers.append(buffer)
      if case .permutedRows(let n, let heads) = source {
        let view = checkpoint.tensor(n)!
        // A bias is one value per row.
        let (rows, rowBytes) =
          info.shape.count == 1 ? (info.shape[0], info.type.byteCount(values: 1)) : (view.rows, view.rowBytes)
        Self.permuteRows(from: view.data, to: buffer, rows: rows, rowBytes: rowBytes, heads: heads)
      } else {
        var offset = 0
        for n in source.sources {
          let view = checkpoint.tensor(n)!
          buffer.advanced(by: offset).copyMemory(from: view.data, byteCount: view.byteCount)
          offset += view.byteCount
        }
      }
      let view = TensorView(type: info.type, data: UnsafeRawPointer(buffer), shape: info.shape)
      owned[name] = view
      return view
    }
  }

  /// `convert_hf_to_gguf.py` `LlamaModel.permute`: within each head of `d` rows, row
  /// `h·d + 2j + i` of the result is row `h·d + i·d/2 + j` of the checkpoint (i ∈ {0, 1}), turning
  /// rotate-half pairs (j, j + d/2) into adjacent pairs (2j, 2j + 1). A bias (one value per row)
  /// is permuted the same way with `rowBytes` = one value.
  static func permuteRows(
    from src: UnsafeRawPointer, to dst: UnsafeMutableRawPointer, rows: Int, rowBytes: Int, heads: Int
  ) {
    let d = rows / heads
    let half = d / 2
    for h in 0..<heads {
      for j in 0..<half {
        for i in 0..<2 {
          let to = h * d + 2 * j + i
          let from = h * d + i * half + j
          (dst + to * rowBytes).copyMemory(from: src + from * rowBytes, byteCount: rowBytes)
        }
      }
    }
  }

  public func pageIn(progress: (Double) -> Void) {
    checkpoint.pageIn(progress: progress)
  }
}
