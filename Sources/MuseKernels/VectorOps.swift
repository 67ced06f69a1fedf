// Element-wise building blocks of a transformer layer, on contiguous Float vectors.

import Foundation
import MuseKernelsC

/// y = x / sqrt(mean(x²) + ε) * weight (no scale when `weight` is nil). `output` may be `x`.
public func rmsNorm(
  _ x: UnsafePointer<Float>, weight: UnsafePointer<Float>?, epsilon: Float, count: Int,
  output: UnsafeMutablePointer<Float>
) {
  let scale = 1 / (dot(x, x, count: count) / Float(count) + epsilon).squareRoot()
  if let weight {
    for i in 0..<count { output[i] = x[i] * scale * weight[i] }
  } else {
    for i in 0..<count { output[i] = x[i] * scale }
  }
}

/// In-place softmax; subtracting the maximum keeps exp() from overflowing.
public func softmax(_ x: UnsafeMutablePointer<Float>, count: Int) {
  guard count > 0 else { return }
  var maximum = x[0]
  for i in 1..<count where x[i] > maximum { maximum = x[i] }
  var sum: Float = 0
  for i in 0..<count {
    let e = expf(x[i] - maximum)
    x[i] = e
    sum += e
  }
  let inverse = 1 / sum
  for i in 0..<count { x[i] *= inverse }
}

/// SiLU (swish): x * sigmoid(x).
@inlinable @inline(__always)
public func silu(_ x: Float) -> Float {
  x / (1 + expf(-x))
}

/// a += b
public func add(_ a: UnsafeMutablePointer<Float>, _ b: UnsafePointer<Float>, count: Int) {
  for i in 0..<count { a[i] += b[i] }
}

/// a += scale * b
public func scaleAdd(
  _ a: UnsafeMutablePointer<Float>, _ b: UnsafePointer<Float>, scale: Float, count: Int
) {
  for i in 0..<count { a[i] += scale * b[i] }
}

/// gate[i] = silu(gate[i]) * up[i] — the SwiGLU feed-forward activation. With AVX-512 a 16-wide
/// loop in C (exp.c, e^x within ~1 ulp of expf), elsewhere `silu`.
public func swiGLU(gate: UnsafeMutablePointer<Float>, up: UnsafePointer<Float>, count: Int) {
  #if arch(x86_64)
    if KernelDispatch.current == .avx512vnni { return muse_swiglu_vnni(gate, up, count) }
  #endif
  for i in 0..<count { gate[i] = silu(gate[i]) * up[i] }
}

/// x[i] = 0.5 x[i] (1 + erf(x[i] / √2)) — the exact GELU of BERT encoders. With AVX2 an 8-wide
/// loop in C (gelu.c: erf within 1.5e-7, e^x within ~1 ulp), elsewhere erff.
public func geluErf(_ x: UnsafeMutablePointer<Float>, count: Int) {
  #if arch(x86_64)
    if KernelDispatch.current >= .avx2 { return muse_gelu_erf_avx2(x, count) }
  #endif
  for i in 0..<count { x[i] = 0.5 * x[i] * (1 + erff(x[i] * 0.707_106_77)) }
}

/// out[i] = exp(x[i] - shift) for i < count, and Σ out[i] in Double: the numerators of a
/// softmax over a vocabulary (the sampler's). With AVX-512 a 16-wide loop in C (exp.c, within
/// ~1 ulp of expf), elsewhere expf; below e^-87, and for -inf or NaN, 0.
public func expShifted(
  _ x: UnsafePointer<Float>, minus shift: Float, into out: UnsafeMutablePointer<Float>, count: Int
) -> Double {
  #if arch(x86_64)
    if KernelDispatch.current == .avx512vnni { return muse_exp_shifted_vnni(x, shift, out, count) }
  #endif
  var total = 0.0
  for i in 0..<count {
    let d = x[i] - shift
    out[i] = d >= -87 ? expf(d) : 0
    total += Double(out[i])
  }
  return total
}
