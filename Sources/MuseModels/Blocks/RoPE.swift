import Foundation

/// Rotary position embedding (Su et al., 2021). GGUF files use two layouts:
/// `adjacentPairs` rotates (x[2i], x[2i+1]) — ggml's "normal" mode, used for arch `llama`
/// because the converter permutes Q/K rows — and `halves` rotates (x[i], x[i + d/2]), the
/// GPT-NeoX layout used by Qwen and OLMoE.
public enum RoPEStyle: String, Sendable {
  case adjacentPairs
  case halves
}

public struct RotaryEmbedding: Sendable {
  public let style: RoPEStyle
  /// Number of leading dimensions of each head that rotate (the rest pass through).
  public let dimensions: Int
  public let base: Double
  private let inverseFrequencies: [Double]

  public init(style: RoPEStyle, dimensions: Int, base: Double) {
    self.style = style
    self.dimensions = dimensions
    self.base = base
    inverseFrequencies = (0..<dimensions / 2).map { pow(base, -Double(2 * $0) / Double(dimensions)) }
  }

  /// cos/sin for one position, computed in double so long positions keep their precision.
  public func table(position: Int) -> (cos: [Float], sin: [Float]) {
    var c = [Float](repeating: 0, count: dimensions / 2)
    var s = c
    for i in 0..<dimensions / 2 {
      let angle = Double(position) * inverseFrequencies[i]
      c[i] = Float(cos(angle))
      s[i] = Float(sin(angle))
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
