import Foundation
import MuseKernelsC

// Attention over cached keys and values: C with AVX2 / AVX-512 where the CPU has them
// (Sources/MuseKernelsC/attention.c says why, and the layout), Swift loops elsewhere.

/// How a KV cache stores keys and values. f16 (llama.cpp's and vLLM's default) halves the
/// memory and the bytes attention reads; f32 keeps what the model computed exactly.
public enum KVCacheType: String, Sendable, CaseIterable {
  case f32, f16

  public var byteWidth: Int { self == .f32 ? 4 : 2 }
}

/// The cached keys and values of one key/value head of one sequence, as `attend` reads them.
public struct CachedHead {
  /// Per logical block, its keys of every head: tiles of 16 positions, each [dim × 16].
  public var keyBlocks: UnsafePointer<UnsafeRawPointer?>
  /// Per logical block, its values of every head, [blockSize × valueDim] per head.
  public var valueBlocks: UnsafePointer<UnsafeRawPointer?>
  /// Where this head starts within a block, in elements.
  public var keyOffset: Int
  public var valueOffset: Int
  public var blockSize: Int
  public var type: KVCacheType

  public init(
    keyBlocks: UnsafePointer<UnsafeRawPointer?>, valueBlocks: UnsafePointer<UnsafeRawPointer?>,
    keyOffset: Int, valueOffset: Int, blockSize: Int, type: KVCacheType
  ) {
    self.keyBlocks = keyBlocks
    self.valueBlocks = valueBlocks
    self.keyOffset = keyOffset
    self.valueOffset = valueOffset
    self.blockSize = blockSize
    self.type = type
  }

  /// Where position `p`'s key element `d` lives, for a head of `dim` values.
  @inline(__always)
  public static func keyIndex(position p: Int, element d: Int, dim: Int) -> Int {
    (p & ~15) * dim + d * 16 + (p & 15)
  }
}

/// Positions per tile of the cache layout `attend` reads: blocks hold whole tiles.
public let attendTile = 16

/// Most query heads one `attend` call takes.
public let attendMaxHeads = Int(MUSE_ATTEND_MAX_HEADS)

/// Softmax attention of `heads` query heads (`dim` values each, one after another at `query`)
/// that share `cache`'s key/value head, over positions `first...last`, scaled by `scale`, with
/// an optional sink logit per head in the denominator. Writes heads × valueDim floats to `out`.
public func attend(
  _ query: UnsafePointer<Float>, heads: Int, dim: Int, valueDim: Int, cache: CachedHead, first: Int,
  last: Int,
  scale: Float, sinks: UnsafePointer<Float>?, out: UnsafeMutablePointer<Float>
) {
  precondition(heads <= attendMaxHeads && cache.blockSize % 16 == 0 && first <= last)
  #if arch(x86_64)
    let level = KernelDispatch.current
    if level != .portable {
      let call = level == .avx512vnni ? muse_attend_vnni : muse_attend_avx2
      return call(
        query, Int32(heads), Int32(dim), Int32(valueDim), cache.keyBlocks, cache.valueBlocks, cache.keyOffset,
        cache.valueOffset, Int32(cache.blockSize), Int32(first), Int32(last), scale, sinks, out,
        cache.type == .f16 ? 1 : 0)
    }
  #endif
  portableAttend(
    query, heads: heads, dim: dim, valueDim: valueDim, cache: cache, first: first, last: last, scale: scale,
    sinks: sinks, out: out)
}

/// attention_kernels.h's loop in Swift: the same tiles and lanes (a tile's weights summed in lane
/// order, where the C levels add them as a tree).
func portableAttend(
  _ query: UnsafePointer<Float>, heads: Int, dim: Int, valueDim: Int, cache: CachedHead, first: Int,
  last: Int,
  scale: Float, sinks: UnsafePointer<Float>?, out: UnsafeMutablePointer<Float>
) {
  var maximum = (0..<heads).map { sinks?[$0] ?? -Float.infinity }
  var denominator = [Float](repeating: sinks == nil ? 0 : 1, count: heads)
  out.update(repeating: 0, count: heads * valueDim)
  var s = [Float](repeating: 0, count: 16)
  var w = [Float](repeating: 0, count: 16)
  let width = cache.type.byteWidth
  let f16 = cache.type == .f16
  func element(_ base: UnsafeRawPointer, _ i: Int) -> Float {
    f16
      ? halfToFloat(base.load(fromByteOffset: i * 2, as: UInt16.self))
      : base.load(fromByteOffset: i * 4, as: Float.self)
  }
  var p = first & ~15
  while p <= last {
    let offset = p % cache.blockSize
    let keyBase = cache.keyBlocks[p / cache.blockSize]! + (cache.keyOffset + offset * dim) * width
    let valueBase = cache.valueBlocks[p / cache.blockSize]! + (cache.valueOffset + offset * valueDim) * width
    func keys(_ i: Int) -> Float { element(keyBase, i) }
    func values(_ i: Int) -> Float { element(valueBase, i) }
    let lo = max(first - p, 0)
    let hi = min(last - p, 15)
    for h in 0..<heads {
      let q = query + h * dim
      let o = out + h * valueDim
      var tileMax = -Float.infinity
      for i in 0..<16 {
        var a: (Float, Float, Float, Float) = (0, 0, 0, 0)
        var d = 0
        while d + 4 <= dim {
          a.0 = fma(q[d], keys(d * 16 + i), a.0)
          a.1 = fma(q[d + 1], keys((d + 1) * 16 + i), a.1)
          a.2 = fma(q[d + 2], keys((d + 2) * 16 + i), a.2)
          a.3 = fma(q[d + 3], keys((d + 3) * 16 + i), a.3)
          d += 4
        }
        while d < dim {
          a.0 = fma(q[d], keys(d * 16 + i), a.0)
          d += 1
        }
        s[i] = i < lo || i > hi ? -.infinity : ((a.0 + a.1) + (a.2 + a.3)) * scale
        tileMax = max(tileMax, s[i])
      }
      if tileMax > maximum[h] {
        let correction = expf(maximum[h] - tileMax)
        denominator[h] *= correction
        for j in 0..<valueDim { o[j] *= correction }
        maximum[h] = tileMax
      }
      for i in 0..<16 { w[i] = s[i] == -.infinity ? 0 : expf(s[i] - maximum[h]) }
      for i in lo...hi { denominator[h] += w[i] }
      for j in 0..<valueDim {
        var acc = o[j]
        for i in lo...hi { acc = fma(w[i], values(i * valueDim + j), acc) }
        o[j] = acc
      }
    }
    p += 16
  }
  for h in 0..<heads {
    let inverse = 1 / denominator[h]
    for j in 0..<valueDim { out[h * valueDim + j] *= inverse }
  }
}

/// `count` floats into a KV cache at `destination`, every `stride` elements, as `type`
/// (f16 rounds to nearest even, at every dispatch level).
public func storeCached(
  _ source: UnsafePointer<Float>, to destination: UnsafeMutableRawPointer, count: Int, stride: Int,
  type: KVCacheType
) {
  #if arch(x86_64)
    if KernelDispatch.current != .portable {
      return muse_kv_store_f16c(source, destination, Int32(count), stride, type == .f16 ? 1 : 0)
    }
  #endif
  for i in 0..<count {
    if type == .f16 {
      destination.storeBytes(of: floatToHalf(source[i]), toByteOffset: i * stride * 2, as: UInt16.self)
    } else {
      destination.storeBytes(of: source[i], toByteOffset: i * stride * 4, as: Float.self)
    }
  }
}
