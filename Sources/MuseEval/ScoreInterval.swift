import Foundation

/// A metric's mean over the items with its 95 % intervals.
///
/// - `stderr` is lm-eval's: the sample standard deviation (n − 1 in the denominator) over √n,
///   and `normal` is mean ± 1.959964 · stderr (the normal approximation lm-eval's stderr
///   implies; scipy's `stats.sem` and `norm.ppf(0.975)` give the same).
/// - `wilson` is the Wilson score interval for a proportion (statsmodels'
///   `proportion_confint(method="wilson")`), given only for 0/1 metrics: it stays inside
///   [0, 1] and is honest near 0 and 1 and for small n, where the normal one is not.
public struct ScoreInterval: Sendable, Equatable, Codable {
  public let mean: Double
  public let stderr: Double
  public let count: Int
  public let normal: [Double]
  public let wilson: [Double]?

  /// z for a two-sided 95 % interval: Φ⁻¹(0.975).
  public static let z95 = 1.959963984540054

  public init(values: [Double]) {
    count = values.count
    let n = Double(values.count)
    let mean = values.isEmpty ? 0 : values.reduce(0, +) / n
    var stderr = 0.0
    if values.count > 1 {
      let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1)
      stderr = (variance / n).squareRoot()
    }
    self.mean = mean
    self.stderr = stderr
    normal = [mean - Self.z95 * stderr, mean + Self.z95 * stderr]
    let binary = values.allSatisfy { $0 == 0 || $0 == 1 }
    wilson = binary && !values.isEmpty ? Self.wilson(successes: values.reduce(0, +), count: n) : nil
  }

  /// (p̂ + z²/2n ± z·√(p̂(1−p̂)/n + z²/4n²)) / (1 + z²/n).
  public static func wilson(successes: Double, count n: Double, z: Double = z95) -> [Double] {
    let p = successes / n
    let z2 = z * z
    let centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    let half = z * (p * (1 - p) / n + z2 / (4 * n * n)).squareRoot() / (1 + z2 / n)
    return [centre - half, centre + half]
  }
}
