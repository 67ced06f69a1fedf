import MuseKernels

/// Float rows → ggml block formats for writing GGUF files (ggml `ggml-quants.c` reference
/// quantizers). Q8_0 is the kernels' own; Q4_0 follows `quantize_row_q4_0_ref` bit for bit;
/// Q4_K uses a plain min/max fit per 32-value sub-block rather than llama.cpp's iterative
/// search, so its codes differ from llama-quantize's while the layout is the same.
public enum RowQuantizer {
  /// Whether `type` can be written from float rows of `columns` values.
  public static func canWrite(_ type: GGMLType, columns: Int) -> Bool {
    switch type {
    case .f32, .f16, .bf16: true
    case .q8_0, .q4_0: columns % 32 == 0
    case .q4_K: columns % 256 == 0
    default: false
    }
  }

  /// Encodes `count` floats of one row into `dst` (`type.byteCount(values: count)` bytes).
  public static func quantize(
    _ src: UnsafePointer<Float>, to dst: UnsafeMutableRawPointer, count: Int, type: GGMLType
  ) {
    switch type {
    case .f32: dst.copyMemory(from: src, byteCount: count * 4)
    case .f16:
      for i in 0..<count { dst.storeBytes(of: floatToHalf(src[i]), toByteOffset: 2 * i, as: UInt16.self) }
    case .bf16:
      for i in 0..<count { dst.storeBytes(of: floatToBF16(src[i]), toByteOffset: 2 * i, as: UInt16.self) }
    case .q8_0: quantizeRowQ8_0(src, dst, count: count)
    case .q4_0: quantizeQ4_0(src, dst, count: count)
    case .q4_K: quantizeQ4_K(src, dst, count: count)
    default: preconditionFailure("RowQuantizer cannot write \(type.name)")
    }
  }

  /// Round to nearest even, NaN kept quiet (what torch and ggml do).
  static func floatToBF16(_ f: Float) -> UInt16 {
    let bits = f.bitPattern
    if f.isNaN { return UInt16(bits >> 16) | 0x40 }
    return UInt16((bits &+ 0x7FFF &+ ((bits >> 16) & 1)) >> 16)
  }

  /// `quantize_row_q4_0_ref`: d = (the value of largest magnitude) / -8, q = x/d + 8 truncated,
  /// capped at 15; values j and j+16 of a block share a byte (low, high nibble).
  static func quantizeQ4_0(_ x: UnsafePointer<Float>, _ dst: UnsafeMutableRawPointer, count: Int) {
    for b in 0..<count / 32 {
      let xs = x + b * 32
      var amax: Float = 0
      var maxValue: Float = 0
      for j in 0..<32 where amax < abs(xs[j]) {
        amax = abs(xs[j])
        maxValue = xs[j]
      }
      let d = maxValue / -8
      let id: Float = d != 0 ? 1 / d : 0
      let block = dst + b * 18
      block.storeBytes(of: floatToHalf(d), as: UInt16.self)
      for j in 0..<16 {
        let q0 = min(15, Int8(truncatingIfNeeded: Int(xs[j] * id + 8.5)))
        let q1 = min(15, Int8(truncatingIfNeeded: Int(xs[j + 16] * id + 8.5)))
        block.storeBytes(of: UInt8(q0) | UInt8(q1) << 4, toByteOffset: 2 + j, as: UInt8.self)
      }
    }
  }

  /// Q4_K (`block_q4_K`, 144 bytes per 256 values): f16 d and dmin, twelve bytes of 6-bit
  /// sub-block scales and mins, 128 bytes of nibbles; value = d·sc·q − dmin·m.
  static func quantizeQ4_K(_ x: UnsafePointer<Float>, _ dst: UnsafeMutableRawPointer, count: Int) {
    for b in 0..<count / 256 {
      let xs = x + b * 256
      var scales = [Float](repeating: 0, count: 8)
      var mins = [Float](repeating: 0, count: 8)
      for j in 0..<8 {
        var lo = Float.infinity
        var hi = -Float.infinity
        for i in 0..<32 {
          lo = min(lo, xs[32 * j + i])
          hi = max(hi, xs[32 * j + i])
        }
        lo = min(lo, 0)
        scales[j] = (hi - lo) / 15
        mins[j] = -lo
      }
      let maxScale = scales.max()!
      let maxMin = mins.max()!
      let d = maxScale / 63
      let dmin = maxMin / 63
      let block = dst + b * 144
      block.storeBytes(of: floatToHalf(d), as: UInt16.self)
      block.storeBytes(of: floatToHalf(dmin), toByteOffset: 2, as: UInt16.self)
      // What the dequantizer will see: d and dmin rounded to f16.
      let dRounded = halfToFloat(floatToHalf(d))
      let dminRounded = halfToFloat(floatToHalf(dmin))
      var ls = [UInt8](repeating: 0, count: 8)
      var lm = [UInt8](repeating: 0, count: 8)
      for j in 0..<8 {
        ls[j] = dRounded > 0 ? UInt8(min(63, max(0, (scales[j] / dRounded).rounded()))) : 0
        lm[j] = dminRounded > 0 ? UInt8(min(63, max(0, (mins[j] / dminRounded).rounded()))) : 0
      }
      var packed = [UInt8](repeating: 0, count: 12)
      for j in 0..<8 {
        if j < 4 {
          packed[j] = ls[j]
          packed[j + 4] = lm[j]
        } else {
          packed[j + 4] = (ls[j] & 0xF) | ((lm[j] & 0xF) << 4)
          packed[j - 4] |= (ls[j] >> 4) << 6
          packed[j] |= (lm[j] >> 4) << 6
        }
      }
      for (i, p) in packed.enumerated() { block.storeBytes(of: p, toByteOffset: 4 + i, as: UInt8.self) }
      var q = [UInt8](repeating: 0, count: 256)
      for j in 0..<8 {
        let scale = dRounded * Float(ls[j])
        let offset = dminRounded * Float(lm[j])
        for i in 0..<32 {
          let v = scale > 0 ? ((xs[32 * j + i] + offset) / scale).rounded() : 0
          q[32 * j + i] = UInt8(min(15, max(0, v)))
        }
      }
      // Sub-blocks 2k (low nibbles) and 2k+1 (high nibbles) share 32 bytes.
      for k in 0..<4 {
        for i in 0..<32 {
          block.storeBytes(
            of: q[64 * k + i] | q[64 * k + 32 + i] << 4, toByteOffset: 16 + 32 * k + i, as: UInt8.self)
        }
      }
    }
  }
}
