/// Reads `{architecture}.*` hyperparameters with the checks every architecture needs.
struct Hyperparameters {
  let file: any WeightSource
  let architecture: String

  func int(_ key: String) throws -> Int {
    let v = try file.int("\(architecture).\(key)")
    guard v >= 0 else {
      throw ModelError.invalidHyperparameter(
        file: file.path, key: "\(architecture).\(key)", reason: "is negative")
    }
    return v
  }

  func int(_ key: String, default value: Int) throws -> Int {
    file.metadata["\(architecture).\(key)"] == nil ? value : try int(key)
  }

  func double(_ key: String, default value: Double) throws -> Double {
    file.metadata["\(architecture).\(key)"] == nil ? value : try file.double("\(architecture).\(key)")
  }

  func bool(_ key: String, default value: Bool) -> Bool {
    file.metadata["\(architecture).\(key)"]?.bool ?? value
  }

  func positive(_ key: String) throws -> Int {
    let v = try int(key)
    guard v > 0 else {
      throw ModelError.invalidHyperparameter(
        file: file.path, key: "\(architecture).\(key)", reason: "must be positive")
    }
    return v
  }

  /// `rope.scaling.*`: none, linear or YaRN; any other type is refused rather than ignored,
  /// since running it unscaled would quietly give wrong outputs past the original context.
  func ropeScaling(yarnTruncates: Bool) throws -> RoPEScaling {
    let key = "\(architecture).rope.scaling.type"
    let type = file.metadata[key] == nil ? "none" : try file.string(key)
    switch type {
    case "none":
      return .none
    case "linear":
      return .linear(factor: try double("rope.scaling.factor", default: 1))
    case "yarn":
      let factor = try double("rope.scaling.factor", default: 1)
      guard factor > 0 else {
        throw ModelError.invalidHyperparameter(
          file: file.path, key: "\(architecture).rope.scaling.factor", reason: "must be positive")
      }
      return .yarn(
        factor: factor, originalContext: try positive("rope.scaling.original_context_length"),
        betaFast: try double("rope.scaling.yarn_beta_fast", default: 32),
        betaSlow: try double("rope.scaling.yarn_beta_slow", default: 1), truncate: yarnTruncates)
    default:
      throw ModelError.invalidHyperparameter(
        file: file.path, key: key, reason: "'\(type)' is not supported (supported: none, linear, yarn)")
    }
  }

  /// Which layers use sliding-window attention, from `attention.sliding_window_pattern`
  /// as llama.cpp reads it: an array of bools (true = sliding window), or a period n where
  /// layer i slides unless i % n == n - 1 (`llama_hparams::set_swa_pattern`; 0 = all slide).
  func slidingWindowLayers(layerCount: Int, defaultPeriod: Int?) throws -> [Bool] {
    let key = "\(architecture).attention.sliding_window_pattern"
    if case .array(.bools(let flags)) = file.metadata[key] {
      guard flags.count == layerCount else {
        throw ModelError.invalidHyperparameter(
          file: file.path, key: key, reason: "has \(flags.count) entries for \(layerCount) layers")
      }
      return flags
    }
    guard let period = file.metadata[key] == nil ? defaultPeriod : try int("attention.sliding_window_pattern")
    else { return [] }
    return (0..<layerCount).map { period == 0 || $0 % period < period - 1 }
  }

  /// The settings every decoder here shares; each architecture then adjusts its own.
  func baseConfig(ropeStyle: RoPEStyle, options: ModelOptions, yarnTruncates: Bool = true) throws
    -> TransformerConfig
  {
    let d = try positive("embedding_length")
    let heads = try positive("attention.head_count")
    let kvHeads = try int("attention.head_count_kv", default: heads)
    guard kvHeads > 0, heads % kvHeads == 0 else {
      throw ModelError.invalidHyperparameter(
        file: file.path, key: "\(architecture).attention.head_count_kv",
        reason: "(\(kvHeads)) must divide the head count \(heads)")
    }
    let headDim = try int("attention.key_length", default: d / heads)
    let vocabulary = try file.tensor("token_embd.weight").shape.last ?? 0
    let fileContext = try int("context_length", default: 2048)
    let base = TransformerConfig(
      architecture: architecture,
      layerCount: try positive("block_count"),
      embeddingLength: d,
      headCount: heads,
      kvHeadCount: kvHeads,
      headDim: headDim,
      valueHeadDim: try int("attention.value_length", default: headDim),
      vocabularySize: vocabulary,
      contextLength: options.contextLength ?? fileContext,
      rmsEpsilon: Float(try double("attention.layer_norm_rms_epsilon", default: 1e-5)),
      rope: RotaryEmbedding(
        style: ropeStyle, dimensions: try int("rope.dimension_count", default: headDim),
        base: try double("rope.freq_base", default: 10_000),
        scaling: try ropeScaling(yarnTruncates: yarnTruncates)),
      feedForwardLength: try int("feed_forward_length", default: 0))
    return base
  }

  /// Expert settings shared by the MoE architectures.
  func withExperts(
    _ config: TransformerConfig, expertLength: Int, normalizeTopK: Bool, options: ModelOptions
  ) throws -> TransformerConfig {
    var c = config
    c.expertCount = try int("expert_count", default: 0)
    guard c.expertCount > 0 else { return c }
    c.expertsPerToken = try options.expertsPerToken ?? positive("expert_used_count")
    guard (1...c.expertCount).contains(c.expertsPerToken) else {
      throw ModelError.invalidHyperparameter(
        file: file.path, key: "\(architecture).expert_used_count",
        reason: "(\(c.expertsPerToken)) must be between 1 and the expert count \(c.expertCount)")
    }
    c.expertFeedForwardLength = expertLength
    c.normalizeTopK = bool("expert_weights_norm", default: normalizeTopK)
    return c
  }
}
