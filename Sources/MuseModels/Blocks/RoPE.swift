import Foundation

/// Rotary position embedding (Su et al., 2021). GGUF files use two layouts:
/// `adjacentPairs` rotates (x[2i], x[2i+1]) — ggml's "normal" mode, used for arch `llama`
/// because the converter permutes Q/K rows — and `halves` rotates (x[i], x[i + d/2]), the
/// GPT-NeoX layout used by Qwen and OLMoE.
public enum RoPEStyle: String, Sendable {
  case adjacentPairs
  case halves
}

/// Context-extension scaling of the rotary frequencies (GGUF `rope.scaling.*`).
public enum RoPEScaling: Sendable, Equatable {
  case none
  /// Position interpolation: every frequency divided by `factor`.
  case linear(factor: Double)
  /// YaRN (Peng et al., 2023, arXiv:2309.00071) as transformers' `_compute_yarn_parameters`:
  /// dimensions rotating fewer than `betaSlow` times over `originalContext` are interpolated
  /// (frequency / factor), those rotating more than `betaFast` times kept, a linear ramp between;
  /// cos and sin are scaled by 0.1 ln(factor) + 1. `truncate` floors/ceils the ramp's ends
  /// (transformers' default and llama.cpp's `ggml_rope_yarn_corr_dims`); gpt-oss's published
  /// config sets `truncate: false`.
  case yarn(factor: Double, originalContext: Int, betaFast: Double, betaSlow: Double, truncate: Bool)
}

public struct RotaryEmbedding: Sendable {
  public let style: RoPEStyle
  /// Number of leading dimensions of each head that rotate (the rest pass through).
  public let dimensions: Int
  public let base: Double
  public let scaling: RoPEScaling
  private let inverseFrequencies: [Double]
  /// Multiplies cos and sin (YaRN's attention temperature); 1 otherwise.
  private let attentionFactor: Double

  public init(style: RoPEStyle, dimensions: Int, base: Double, scaling: RoPEScaling = .none) {
    self.style = style
    self.dimensions = dimensions
    self.base = base
    self.scaling = scaling
    let plain = (0..<dimensions / 2).map { pow(base, -Double(2 * $0) / Double(dimensions)) }
    switch scaling {
    case .none:
      inverseFrequencies = plain
      attentionFactor = 1
    case .linear(let factor):
      inverseFrequencies = plain.map { $0 / factor }
      attentionFactor = 1
    case .yarn(let factor, let originalContext, let betaFast, let betaSlow, let truncate):
      // The dimension index at which a frequency completes `rotations` turns over the
      // original context: d * ln(context / (rotations * 2π)) / (2 ln base).
      func correction(_ rotations: Double) -> Double {
        Double(dimensions) * log(Double(originalContext) / (rotations * 2 * Double.pi)) / (2 * log(base))
      }
      var low = correction(betaFast)
      var high = correction(betaSlow)
      if truncate {
        low = low.rounded(.down)
        high = high.rounded(.up)
      }
      low = max(low, 0)
      high = min(high, Double(dimensions - 1))
      if low == high { high += 0.001 }
      inverseFrequencies = plain.enumerated().map { i, frequency in
        let ramp = min(max((Double(i) - low) / (high - low), 0), 1)
        let extrapolation = 1 - ramp
        return frequency / factor * (1 - extrapolation) + frequency * extrapolation
      }
      attentionFactor = factor <= 1 ? 1 : 0.1 * log(factor) + 1
    }
  }

  /// cos/sin for one position, computed in double so long positions keep their precision.
  public func table(position: Int) -> (cos: [Float], sin: [Float]) {
    var c = [Float](repeating: 0, count: dimensions / 2)
    var s = c
    for i in 0..<dimensions / 2 {
      let angle = Double(position) * inverseFrequencies[i]
      c[i] = Float(cos(angle) * attentionFactor)
      s[i] = Float(sin(angle) * attentionFactor)
    }
    return (c, s)
  }

  /// Rotates `heads` consecutive heads of `headDim` values in place.
  public func apply(
    _ x: UnsafeMutablePointer<Float>, heads: Int, headDim: Int, cos c: [Float], sin s: [Float]
  ) {
    let half = dimensions / 2
    c.withUnsafeBufferPointer { c in
      s.withUnsafeBufferPointer { s in
        for h in 0..<heads {
          let v = x + h * headDim
          for i in 0..<half {
            let (a, b) = style == .adjacentPairs ? (2 * i, 2 * i + 1) : (i, i + half)
            let x0 = v[a]
            let x1 = v[b]
            v[a] = x0 * c[i] - x1 * s[i]
            v[b] = x0 * s[i] + x1 * c[i]
          }
        }
      }
    }
  }
}
