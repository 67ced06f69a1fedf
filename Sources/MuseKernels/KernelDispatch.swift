import Foundation
import MuseKernelsC

/// Which implementation of the integer dot products runs: chosen once from the CPU at start-up,
/// so one binary runs on any x86-64 (and arm64) and uses what the machine has.
enum KernelDispatch {
  enum Level: Int, Comparable, CaseIterable, Sendable {
    /// Swift loops compiled for the baseline target (SSE2 on x86-64), any CPU.
    case portable = 0
    /// AVX2 + FMA + F16C (Sources/MuseKernelsC).
    case avx2 = 1
    /// AVX2 plus AVX-512 VL/BW/VNNI's vpdpbusd.
    case avx512vnni = 2

    static func < (a: Level, b: Level) -> Bool { a.rawValue < b.rawValue }
  }

  /// The best level this CPU supports.
  static let detected = Level(rawValue: Int(muse_cpu_level())) ?? .portable

  /// The calling thread's forced level (raw value + 1; 0 = none).
  private static let forcedKey: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key, nil)
    return key
  }()

  /// The level kernels called from this thread use: `detected` unless this thread forced one.
  /// Loops that hand work to a pool read it once on the calling thread and pass it on.
  static var current: Level {
    let raw = Int(bitPattern: pthread_getspecific(forcedKey))
    return raw == 0 ? detected : Level(rawValue: raw - 1) ?? detected
  }

  /// Whether quantised matmuls quantise activations to int8 (opt-in; see `matmul`).
  static let integerActivations = ProcessInfo.processInfo.environment["MUSE_INT8_ACTIVATIONS"] == "1"

  /// Makes the kernels this thread calls (and the pool loops it starts) use `level` (at most
  /// `detected`) until `force(nil)`; for tests and benchmarks. Per thread, so a test comparing
  /// levels does not change the arithmetic of others running beside it in the process (a
  /// process-wide switch once made a concurrently running server test see two attention
  /// levels in two requests that must match).
  static func force(_ level: Level?) {
    precondition(level.map { $0 <= detected } ?? true, "this CPU cannot run \(level!)")
    pthread_setspecific(forcedKey, UnsafeRawPointer(bitPattern: level.map { $0.rawValue + 1 } ?? 0))
  }

  /// Levels this machine can run, for tests that compare them.
  static var available: [Level] { Level.allCases.filter { $0 <= detected } }

  /// Whether `type` has integer kernels (weights quantised in blocks of 32 or 256).
  static func hasIntegerKernel(_ type: GGMLType) -> Bool {
    switch type {
    case .q8_0, .q4_0, .q4_1, .q4_K, .q6_K: true
    default: false
    }
  }

  /// Whether `type` has float-activation kernels at `level` (the default matmul path).
  static func hasFloatKernel(_ type: GGMLType, level: Level) -> Bool {
    #if arch(x86_64)
      return level != .portable && hasIntegerKernel(type)
    #else
      return false
    #endif
  }

  /// Dots one weight row of `type` (`columns` values) with float tokens `count` (1...4) rows
  /// of `x` starting `xStride` floats apart, writing token t's result to y[t * yStride]. Only
  /// where `hasFloatKernel(type, level:)`.
  @inline(__always)
  static func floatDot(
    _ type: GGMLType, level: Level, row: UnsafeRawPointer, columns: Int, x: UnsafePointer<Float>,
    xStride: Int, count: Int, y: UnsafeMutablePointer<Float>, yStride: Int
  ) {
    #if arch(x86_64)
      let b = Int32(columns / type.blockLayout.values)
      let n = Int32(count)
      let vnni = level == .avx512vnni
      switch type {
      case .q8_0:
        vnni
          ? muse_fdot_q8_0_vnni(row, b, x, xStride, n, y, yStride)
          : muse_fdot_q8_0_avx2(row, b, x, xStride, n, y, yStride)
      case .q4_0:
        vnni
          ? muse_fdot_q4_0_vnni(row, b, x, xStride, n, y, yStride)
          : muse_fdot_q4_0_avx2(row, b, x, xStride, n, y, yStride)
      case .q4_1:
        vnni
          ? muse_fdot_q4_1_vnni(row, b, x, xStride, n, y, yStride)
          : muse_fdot_q4_1_avx2(row, b, x, xStride, n, y, yStride)
      case .q4_K:
        vnni
          ? muse_fdot_q4_K_vnni(row, b, x, xStride, n, y, yStride)
          : muse_fdot_q4_K_avx2(row, b, x, xStride, n, y, yStride)
      case .q6_K:
        vnni
          ? muse_fdot_q6_K_vnni(row, b, x, xStride, n, y, yStride)
          : muse_fdot_q6_K_avx2(row, b, x, xStride, n, y, yStride)
      default: preconditionFailure("no float kernel for \(type.name)")
      }
    #else
      preconditionFailure("no float kernel on this architecture")
    #endif
  }

  /// Dots one weight row of `type` (`columns` values) with tokens `first ..< first + count`
  /// of `x` (count 1...4), writing token t's result to y[(t - first) * yStride].
  @inline(__always)
  static func dot(
    _ type: GGMLType, level: Level, row: UnsafeRawPointer, columns: Int, x: QuantizedActivations,
    first: Int, count: Int, y: UnsafeMutablePointer<Float>, yStride: Int
  ) {
    let blocks = columns / type.blockLayout.values
    #if arch(x86_64)
      if level != .portable {
        let xs = x.codes(first)
        let n = Int32(count)
        let b = Int32(blocks)
        let vnni = level == .avx512vnni
        switch type {
        case .q8_0:
          vnni
            ? muse_dot_q8_0_vnni(row, b, xs, x.tokenStride, n, y, yStride)
            : muse_dot_q8_0_avx2(row, b, xs, x.tokenStride, n, y, yStride)
        case .q4_0:
          vnni
            ? muse_dot_q4_0_vnni(row, b, xs, x.tokenStride, n, y, yStride)
            : muse_dot_q4_0_avx2(row, b, xs, x.tokenStride, n, y, yStride)
        case .q4_1:
          vnni
            ? muse_dot_q4_1_vnni(row, b, xs, x.tokenStride, n, y, yStride)
            : muse_dot_q4_1_avx2(row, b, xs, x.tokenStride, n, y, yStride)
        case .q4_K:
          vnni
            ? muse_dot_q4_K_vnni(row, b, xs, x.tokenStride, n, y, yStride)
            : muse_dot_q4_K_avx2(row, b, xs, x.tokenStride, n, y, yStride)
        case .q6_K:
          vnni
            ? muse_dot_q6_K_vnni(row, b, xs, x.tokenStride, n, y, yStride)
            : muse_dot_q6_K_avx2(row, b, xs, x.tokenStride, n, y, yStride)
        default: preconditionFailure("no integer kernel for \(type.name)")
        }
        return
      }
    #endif
    for i in 0..<count {
      let t = first + i
      let (codes, scales, sums) = (x.codes(t), x.scales(t), x.sums(t))
      y[i * yStride] =
        switch type {
        case .q8_0: dotQ8_0Int8(row, codes, scales, blocks: blocks)
        case .q4_0: dotQ4_0Int8(row, codes, scales, sums, blocks: blocks)
        case .q4_1: dotQ4_1Int8(row, codes, scales, sums, blocks: blocks)
        case .q4_K: dotQ4_KInt8(row, codes, scales, sums, blocks: blocks)
        case .q6_K: dotQ6_KInt8(row, codes, scales, blocks: blocks)
        default: preconditionFailure("no integer kernel for \(type.name)")
        }
    }
  }
}
