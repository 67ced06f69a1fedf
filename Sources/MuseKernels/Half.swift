// Half-precision (IEEE binary16) and bfloat16 conversions.
//
// Swift's `Float16` is correct but, on x86-64 without F16C (the baseline target), every
// conversion is a call into compiler-rt, and it does not exist at all on Intel macOS. The
// bit manipulations below are the branch-free, exact ones from the FP16 library
// (Marat Dukhan), also used as ggml's generic fallback, so they cost a few integer
// instructions and vectorise. They are @inlinable so the block kernels in other files (and
// other modules) inline them even without whole-module optimisation.

/// Converts the bits of an IEEE half to `Float` exactly (subnormals, infinities and NaNs included).
@inlinable @inline(__always)
public func halfToFloat(_ bits: UInt16) -> Float {
  let w = UInt32(bits) << 16
  let sign = w & 0x8000_0000
  let twoW = w &+ w
  // Normal numbers: move exponent and mantissa into place and rebias by multiplying by 2^-112,
  // which also turns the half's maximum exponent into Float's infinity/NaN.
  let normalized = Float(bitPattern: (twoW >> 4) &+ (0xE0 << 23)) * 0x1.0p-112
  // Subnormals: place the mantissa under a 0.5 exponent and subtract 0.5 exactly.
  let denormalized = Float(bitPattern: (twoW >> 17) | (126 << 23)) - 0.5
  let magnitude = twoW < (1 << 27) ? denormalized.bitPattern : normalized.bitPattern
  return Float(bitPattern: sign | magnitude)
}

/// Converts a `Float` to the bits of the nearest IEEE half (ties to even; overflow → infinity;
/// NaN → quiet NaN).
@inlinable @inline(__always)
public func floatToHalf(_ f: Float) -> UInt16 {
  // Scaling by 2^112 then 2^-110 lets the FPU do the rounding at the half's precision:
  // adding a power of two whose ulp equals the half's ulp rounds the mantissa to nearest even.
  var base = (abs(f) * 0x1.0p+112) * 0x1.0p-110
  let w = f.bitPattern
  let shl1W = w &+ w
  let sign = w & 0x8000_0000
  var bias = shl1W & 0xFF00_0000
  if bias < 0x7100_0000 { bias = 0x7100_0000 }
  base = Float(bitPattern: (bias >> 1) &+ 0x0780_0000) + base
  let bits = base.bitPattern
  let exponentBits = (bits >> 13) & 0x0000_7C00
  let mantissaBits = bits & 0x0000_0FFF
  let nonSign = exponentBits &+ mantissaBits
  return UInt16(truncatingIfNeeded: (sign >> 16) | (shl1W > 0xFF00_0000 ? 0x7E00 : nonSign))
}

/// Converts bfloat16 bits to `Float` (bfloat16 is the top half of a Float, so this is exact).
@inlinable @inline(__always)
public func bf16ToFloat(_ bits: UInt16) -> Float {
  Float(bitPattern: UInt32(bits) << 16)
}

/// Eight halves to floats at once, exact like `halfToFloat` but select-free so it vectorises.
/// Shifting a half's exponent and mantissa into a Float's places gives the half's value times
/// 2^-112 (for subnormals too), so one multiply by 2^112 rescales it; exponent 31
/// (infinity/NaN) is then forced to Float's 255 with a mask computed by integer arithmetic.
@inlinable @inline(__always)
internal func halfToFloat(_ bits: SIMD8<UInt16>) -> SIMD8<Float> {
  let h = SIMD8<UInt32>(truncatingIfNeeded: bits)
  let magnitude = h & 0x7FFF
  let scaled = unsafeBitCast(magnitude &<< 13, to: SIMD8<Float>.self) * 0x1.0p+112
  // (magnitude + 0x400) reaches bit 15 exactly when the exponent is all ones.
  let infOrNaN = 0 &- ((magnitude &+ 0x400) &>> 15)
  let sign = (h & 0x8000) &<< 16
  let result = unsafeBitCast(scaled, to: SIMD8<UInt32>.self) | (infOrNaN & 0x7F80_0000) | sign
  return unsafeBitCast(result, to: SIMD8<Float>.self)
}

/// Eight bfloat16 values to floats at once.
@inlinable @inline(__always)
internal func bf16ToFloat(_ bits: SIMD8<UInt16>) -> SIMD8<Float> {
  unsafeBitCast(SIMD8<UInt32>(truncatingIfNeeded: bits) &<< 16, to: SIMD8<Float>.self)
}
