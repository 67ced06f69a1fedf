import Foundation
import MuseKernelsC

/// Which implementation of the kernels runs: chosen once from the CPU at start-up, so one
/// binary runs on any x86-64 (and arm64) and uses what the machine has. `MUSE_KERNEL_LEVEL`
/// (or `select(_:)`, `muse bench --kernel-level`) asks for a lower level, so every level can be
/// measured on a machine that has a higher one.
public enum KernelDispatch {
  public enum Level: Int, Comparable, CaseIterable, Sendable {
    /// Swift loops compiled for the baseline target (SSE2 on x86-64), any CPU.
    case portable = 0
    /// AVX2 + FMA + F16C (Sources/MuseKernelsC).
    case avx2 = 1
    /// AVX2 plus AVX-VNNI: the VEX-encoded 256-bit vpdpbusd (Intel Alder Lake and later client
    /// chips, Sapphire Rapids, AMD Zen 5). Only the interleaved kernels differ from `avx2`.
    case avxvnni = 2
    /// AVX2 plus AVX-512 VL/BW/VNNI's vpdpbusd.
    case avx512vnni = 3
    #if arch(arm64)
      /// arm64 NEON with the dot product extension (sdot): the 16-row interleaved kernels and
      /// the activation splitter (interleaved_dot_neon.c); every other kernel is Swift. Last
      /// only so that `best` picks it; code tests for it by equality, never by order.
      case neon = 4
    #endif

    public static func < (a: Level, b: Level) -> Bool { a.rawValue < b.rawValue }

    /// The level's name on the command line and in `MUSE_KERNEL_LEVEL`.
    public var name: String {
      switch self {
      case .portable: "portable"
      case .avx2: "avx2"
      case .avxvnni: "vnni"
      case .avx512vnni: "avx512"
      #if arch(arm64)
        case .neon: "neon"
      #endif
      }
    }

    /// What the level needs of the CPU, for messages.
    public var requirement: String {
      switch self {
      case .portable: "nothing beyond the baseline"
      case .avx2: "AVX2, FMA and F16C"
      case .avxvnni: "AVX2, FMA, F16C and AVX-VNNI (avx_vnni)"
      case .avx512vnni: "AVX2, FMA, F16C and AVX-512 VL/BW/VNNI"
      #if arch(arm64)
        case .neon: "NEON with the dot product extension (FEAT_DotProd, asimddp)"
      #endif
      }
    }

    public init?(name: String) {
      guard let level = Level.allCases.first(where: { $0.name == name.lowercased() }) else { return nil }
      self = level
    }
  }

  /// The MUSE_CPU_* bits of Sources/MuseKernelsC (what the CPU and operating system offer).
  static let features = Int(muse_cpu_features())

  /// Whether this CPU can run `level`'s kernels.
  public static func supports(_ level: Level) -> Bool {
    switch level {
    case .portable: true
    case .avx2: features & Int(MUSE_CPU_AVX2) != 0
    case .avxvnni: features & Int(MUSE_CPU_AVXVNNI) != 0
    case .avx512vnni: features & Int(MUSE_CPU_AVX512VNNI) != 0
    #if arch(arm64)
      case .neon: features & Int(MUSE_CPU_NEON_DOTPROD) != 0
    #endif
    }
  }

  /// The best level this CPU supports.
  public static let best = Level.allCases.last(where: supports) ?? .portable

  /// The CPU's brand string and the instruction sets the kernels look for, for `muse bench`.
  public static var cpuDescription: String {
    var brand = [CChar](repeating: 0, count: 49)
    muse_cpu_brand(&brand)
    let name = String(decoding: brand.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
      .trimmingCharacters(in: .whitespaces)
    #if arch(x86_64)
      let flags: [(String, Int32)] = [
        ("avx2+fma+f16c", MUSE_CPU_AVX2), ("avx512vnni", MUSE_CPU_AVX512VNNI), ("avx_vnni", MUSE_CPU_AVXVNNI),
      ]
      let seen = flags.map { features & Int($0.1) != 0 ? $0.0 : "no \($0.0)" }.joined(separator: ", ")
    #elseif arch(arm64)
      let seen = features & Int(MUSE_CPU_NEON_DOTPROD) != 0 ? "neon+dotprod" : "no dotprod"
    #else
      let seen = "no x86 vector extensions"
    #endif
    return "\(name.isEmpty ? "unknown CPU" : name) (\(seen))"
  }

  /// A level from `MUSE_KERNEL_LEVEL`, or why it cannot be used.
  static let environmentLevel: Result<Level, LevelError>? = ProcessInfo.processInfo.environment[
    "MUSE_KERNEL_LEVEL"
  ].map { checked(name: $0, source: "MUSE_KERNEL_LEVEL") }

  /// Why MUSE_KERNEL_LEVEL cannot be honoured, if it is set and cannot; programs should refuse
  /// to start on it (muse does) rather than run at a level the user did not ask for.
  public static var environmentProblem: String? {
    if case .failure(let e) = environmentLevel { return e.description }
    return nil
  }

  /// A level a person asked for, refused with a reason when the name is unknown or the CPU
  /// lacks the instructions.
  public struct LevelError: Error, CustomStringConvertible {
    public let description: String
  }

  static func checked(name: String, source: String) -> Result<Level, LevelError> {
    let names = Level.allCases.map(\.name).joined(separator: ", ")
    guard let level = Level(name: name) else {
      return .failure(LevelError(description: "\(source) '\(name)' is not a kernel level (\(names))"))
    }
    guard supports(level) else {
      let usable = Level.allCases.filter(supports).map(\.name).joined(separator: ", ")
      return .failure(
        LevelError(
          description:
            "\(source) '\(name)' needs \(level.requirement), which this CPU lacks: \(cpuDescription); "
            + "levels it can run: \(usable)"))
    }
    return .success(level)
  }

  /// The process's level: `best`, or the one MUSE_KERNEL_LEVEL or `select(_:)` asked for.
  /// Set before the model loads (weights are repacked for it); threads read it afterwards.
  nonisolated(unsafe) public private(set) static var selected: Level = {
    if case .success(let level) = environmentLevel { return level }
    return best
  }()

  /// Makes `name` the process's level (for `muse bench --kernel-level`), or throws why not. Call
  /// it before loading a model: the weights' layout follows the level in force at load.
  public static func select(name: String, option: String = "--kernel-level") throws {
    selected = try checked(name: name, source: option).get()
  }

  /// The calling thread's forced level (raw value + 1; 0 = none).
  private static let forcedKey: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key, nil)
    return key
  }()

  /// The level kernels called from this thread use: `selected` unless this thread forced one.
  /// Loops that hand work to a pool read it once on the calling thread and pass it on.
  static var current: Level {
    let raw = Int(bitPattern: pthread_getspecific(forcedKey))
    return raw == 0 ? selected : Level(rawValue: raw - 1) ?? selected
  }

  /// Whether quantised matmuls quantise activations to int8 (opt-in; see `matmul`).
  static let integerActivations = ProcessInfo.processInfo.environment["MUSE_INT8_ACTIVATIONS"] == "1"

  /// Makes the kernels this thread calls (and the pool loops it starts) use `level` (one the
  /// CPU supports) until `force(nil)`; for tests and benchmarks. Per thread, so a test comparing
  /// levels does not change the arithmetic of others running beside it in the process (a
  /// process-wide switch once made a concurrently running server test see two attention
  /// levels in two requests that must match).
  static func force(_ level: Level?) {
    precondition(level.map(supports) ?? true, "this CPU cannot run \(level!)")
    pthread_setspecific(forcedKey, UnsafeRawPointer(bitPattern: level.map { $0.rawValue + 1 } ?? 0))
  }

  /// Levels this machine can run, for tests that compare them.
  public static var available: [Level] { Level.allCases.filter(supports) }

  /// How a matmul with weights of `type` runs at `level` (layout, activations, instructions),
  /// for `muse bench`.
  public static func kernelPath(for type: GGMLType, level: Level = selected) -> String {
    #if arch(x86_64)
      let c = level == .avx512vnni ? "C AVX-512" : "C AVX2"
    #else
      let c = "Swift"  // only the interleaved kernels have C off x86-64
    #endif
    if InterleavedWeights.repacks(type, level: level) {
      let bits = 8 * SplitActivations.digits(for: type)
      let instructions =
        switch level {
        case .avx512vnni: "AVX-512 vpdpbusd"
        case .avxvnni: "AVX-VNNI vpdpbusd (256-bit)"
        #if arch(arm64)
          case .neon: "NEON sdot"
        #endif
        default: "AVX2 vpmaddubsw/vpmaddwd"
        }
      return "16-row interleaved, \(bits)-bit activations, \(instructions)"
    }
    if integerActivations && hasIntegerKernel(type) {
      return "rows, int8 activations (MUSE_INT8_ACTIVATIONS=1), \(level == .portable ? "Swift" : c)"
    }
    if hasFloatKernel(type, level: level) { return "rows, float activations, \(c)" }
    if type == .f32 { return "rows, tiled F32 GEMM, \(level == .portable ? "Swift" : c)" }
    return "rows, float activations, Swift"
  }

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
