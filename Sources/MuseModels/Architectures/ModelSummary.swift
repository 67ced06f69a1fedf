import MuseKernels

/// Sizes of a model as a person compares them: parameters in total and per token, and how
/// its bytes are split across quantization formats.
public struct ModelSummary: Sendable {
  public struct FormatShare: Sendable {
    public let type: GGMLType
    public let tensors: Int
    public let bytes: Int
  }

  public let config: TransformerConfig?
  public let configError: String?
  public let totalParameters: Int
  /// Parameters a token reads: everything but the experts it is not routed to.
  public let activeParameters: Int
  public let quantizationMix: [FormatShare]
  /// Bytes of weights read to decode one token (embedding row aside), for the roofline.
  public let activeBytes: Int

  public init(file: any WeightSource, options: ModelOptions = ModelOptions()) {
    var config: TransformerConfig?
    var configError: String?
    if let arch = file.architecture, let definition = Architectures.definition(for: arch) {
      do {
        config = try definition.config(from: file, architecture: arch, options: options)
      } catch {
        configError = "\(error)"
      }
    } else {
      configError = "architecture '\(file.architecture ?? "(none)")' is not supported"
    }
    self.config = config
    self.configError = configError
    var total = 0
    var inactive = 0
    var totalBytes = 0
    var inactiveBytes = 0
    var shares: [GGMLType: (Int, Int)] = [:]
    let unused =
      config.map { c in
        c.expertCount > 0 ? Double(c.expertCount - c.expertsPerToken) / Double(c.expertCount) : 0
      } ?? 0
    for name in file.tensorNames {
      guard let t = file.tensorInfo(name) else { continue }
      total += t.elementCount
      shares[t.type, default: (0, 0)].0 += 1
      shares[t.type, default: (0, 0)].1 += t.byteCount
      if name == "token_embd.weight" && file.hasTensor("output.weight") { continue }
      totalBytes += t.byteCount
      if name.hasSuffix("_exps.weight") {
        inactive += Int(Double(t.elementCount) * unused)
        inactiveBytes += Int(Double(t.byteCount) * unused)
      }
    }
    totalParameters = total
    activeParameters = total - inactive
    activeBytes = totalBytes - inactiveBytes
    quantizationMix = shares.map { FormatShare(type: $0.key, tensors: $0.value.0, bytes: $0.value.1) }
      .sorted { $0.bytes > $1.bytes }
  }
}
