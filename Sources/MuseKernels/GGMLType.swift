/// Tensor element formats as numbered by ggml (the numbers are stored in GGUF tensor infos).
/// Block layouts follow ggml-common.h: a block holds `blockSize` consecutive values of a row.
public enum GGMLType: UInt32, Sendable, CaseIterable {
  case f32 = 0
  case f16 = 1
  case q4_0 = 2
  case q4_1 = 3
  case q5_0 = 6
  case q5_1 = 7
  case q8_0 = 8
  case q8_1 = 9
  case q2_K = 10
  case q3_K = 11
  case q4_K = 12
  case q5_K = 13
  case q6_K = 14
  case q8_K = 15
  case iq2_xxs = 16
  case iq2_xs = 17
  case iq3_xxs = 18
  case iq1_s = 19
  case iq4_nl = 20
  case iq3_s = 21
  case iq2_s = 22
  case iq4_xs = 23
  case i8 = 24
  case i16 = 25
  case i32 = 26
  case i64 = 27
  case f64 = 28
  case iq1_m = 29
  case bf16 = 30
  case tq1_0 = 34
  case tq2_0 = 35
  case mxfp4 = 39

  public var name: String {
    switch self {
    case .f32: "F32"
    case .f16: "F16"
    case .bf16: "BF16"
    case .f64: "F64"
    case .i8: "I8"
    case .i16: "I16"
    case .i32: "I32"
    case .i64: "I64"
    default: String(describing: self).uppercased()
    }
  }

  /// Values per block and bytes per block (ggml's `blck_size` and `type_size`).
  public var blockLayout: (values: Int, bytes: Int) {
    switch self {
    case .f32: (1, 4)
    case .f16, .bf16: (1, 2)
    case .f64, .i64: (1, 8)
    case .i8: (1, 1)
    case .i16: (1, 2)
    case .i32: (1, 4)
    case .q4_0: (32, 18)
    case .q4_1: (32, 20)
    case .q5_0: (32, 22)
    case .q5_1: (32, 24)
    case .q8_0: (32, 34)
    case .q8_1: (32, 36)
    case .q2_K: (256, 84)
    case .q3_K: (256, 110)
    case .q4_K: (256, 144)
    case .q5_K: (256, 176)
    case .q6_K: (256, 210)
    case .q8_K: (256, 292)
    case .iq2_xxs: (256, 66)
    case .iq2_xs: (256, 74)
    case .iq3_xxs: (256, 98)
    case .iq1_s: (256, 50)
    case .iq4_nl: (32, 18)
    case .iq3_s: (256, 110)
    case .iq2_s: (256, 82)
    case .iq4_xs: (256, 136)
    case .iq1_m: (256, 56)
    case .tq1_0: (256, 54)
    case .tq2_0: (256, 66)
    case .mxfp4: (32, 17)
    }
  }

  /// Whether Muse has kernels for this format (others can be read and inspected, not run).
  public var isSupported: Bool {
    switch self {
    case .f32, .f16, .bf16, .q8_0, .q4_0, .q4_1, .q4_K, .q6_K, .mxfp4: true
    default: false
    }
  }

  /// Bytes taken by `count` consecutive values; `count` must be a multiple of the block size.
  public func byteCount(values count: Int) -> Int {
    let layout = blockLayout
    return count / layout.values * layout.bytes
  }
}
