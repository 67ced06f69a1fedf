import Foundation

/// Measures sustained read bandwidth: every thread streams its slice of a buffer much larger
/// than the last-level cache, summing SIMD lanes so the loads cannot be optimised away. This
/// is the ceiling for decoding, which must read every active weight once per token.
public enum MemoryBandwidth {
  /// Bytes per second, the best of `repetitions` passes over `bytes` bytes. The buffer is in
  /// huge pages, as the repacked weights are: with 4 KB pages the reading included TLB misses
  /// that decode does not pay, and so understated the ceiling.
  public static func measureRead(bytes: Int = 1 << 30, threads: Int, repetitions: Int = 3) -> Double {
    let count = bytes / MemoryLayout<SIMD16<Float>>.stride
    let mapping = HugePageMapping(bytes: count * MemoryLayout<SIMD16<Float>>.stride)
    let buffer = mapping.bound(to: SIMD16<Float>.self, count: count)
    buffer.initialize(repeating: SIMD16<Float>(repeating: 1), count: count)
    let pool = ThreadPool(threads: threads)
    // Many slices rather than one per thread: the pool hands them out on demand, so every
    // thread streams for the whole pass.
    let slices = 64 * threads
    let sums = UnsafeMutablePointer<Float>.allocate(capacity: slices)
    defer { sums.deallocate() }
    var best = 0.0
    for _ in 0..<repetitions {
      let start = DispatchTime.now().uptimeNanoseconds
      pool.parallelFor(slices) { t in
        let lo = count * t / slices
        let hi = count * (t + 1) / slices
        var a = SIMD16<Float>()
        var b = SIMD16<Float>()
        var i = lo
        while i + 1 < hi {
          a += buffer[i]
          b += buffer[i + 1]
          i += 2
        }
        sums[t] = (a + b).sum()
      }
      let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
      best = max(best, Double(count * MemoryLayout<SIMD16<Float>>.stride) / seconds)
    }
    var total: Float = 0
    for t in 0..<slices { total += sums[t] }
    withExtendedLifetime(total) {}
    withExtendedLifetime(mapping) {}
    return best
  }
}
