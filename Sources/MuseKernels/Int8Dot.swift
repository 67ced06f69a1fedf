// Portable integer dot products of weight rows with quantised activations
// (QuantizedActivations): the same arithmetic as the AVX2 / VNNI kernels in
// Sources/MuseKernelsC, as plain loops over one block that the compiler vectorises for the
// baseline target. Integer sums are exact, so every level agrees up to float summation order.

/// Σ over 32 lanes of a[i] * b[i] for signed bytes.
@inline(__always)
private func dot32(_ a: UnsafePointer<Int8>, _ b: UnsafePointer<Int8>) -> Int32 {
  var sum: Int32 = 0
  for i in 0..<32 { sum &+= Int32(a[i]) &* Int32(b[i]) }
  return sum
}

/// Σ over 16 bytes of (low nibble) * x[i] + (high nibble) * x[i + 16].
@inline(__always)
private func dotNibbles(_ q: UnsafePointer<UInt8>, _ x: UnsafePointer<Int8>) -> Int32 {
  var sum: Int32 = 0
  for i in 0..<16 {
    sum &+= Int32(q[i] & 0x0F) &* Int32(x[i]) &+ Int32(q[i] &>> 4) &* Int32(x[i + 16])
  }
  return sum
}

func dotQ8_0Int8(
  _ row: UnsafeRawPointer, _ x: UnsafePointer<Int8>, _ dx: UnsafePointer<Float>, blocks: Int
) -> Float {
  var acc: Float = 0
  for b in 0..<blocks {
    let block = row + b * q8_0BlockBytes
    let d = halfToFloat(block.loadUnaligned(as: UInt16.self))
    let q = (block + 2).assumingMemoryBound(to: Int8.self)
    acc += d * dx[b] * Float(dot32(q, x + b * 32))
  }
  return acc
}

func dotQ4_0Int8(
  _ row: UnsafeRawPointer, _ x: UnsafePointer<Int8>, _ dx: UnsafePointer<Float>,
  _ sums: UnsafePointer<Int32>, blocks: Int
) -> Float {
  var acc: Float = 0
  for b in 0..<blocks {
    let block = row + b * q4_0BlockBytes
    let d = halfToFloat(block.loadUnaligned(as: UInt16.self))
    let q = (block + 2).assumingMemoryBound(to: UInt8.self)
    // Σ (q - 8) x = Σ q x - 8 Σ x.
    acc += d * dx[b] * Float(dotNibbles(q, x + b * 32) &- 8 &* sums[b])
  }
  return acc
}

func dotQ4_1Int8(
  _ row: UnsafeRawPointer, _ x: UnsafePointer<Int8>, _ dx: UnsafePointer<Float>,
  _ sums: UnsafePointer<Int32>, blocks: Int
) -> Float {
  var acc: Float = 0
  for b in 0..<blocks {
    let block = row + b * q4_1BlockBytes
    let d = halfToFloat(block.loadUnaligned(as: UInt16.self))
    let m = halfToFloat(block.loadUnaligned(fromByteOffset: 2, as: UInt16.self))
    let q = (block + 4).assumingMemoryBound(to: UInt8.self)
    // Σ (d q + m) x = d Σ q x + m Σ x.
    acc += d * dx[b] * Float(dotNibbles(q, x + b * 32)) + m * dx[b] * Float(sums[b])
  }
  return acc
}

func dotQ4_KInt8(
  _ row: UnsafeRawPointer, _ x: UnsafePointer<Int8>, _ dx: UnsafePointer<Float>,
  _ sums: UnsafePointer<Int32>, blocks: Int
) -> Float {
  var acc: Float = 0
  for b in 0..<blocks {
    let block = row + b * q4_KBlockBytes
    let d = halfToFloat(block.loadUnaligned(as: UInt16.self))
    let dmin = halfToFloat(block.loadUnaligned(fromByteOffset: 2, as: UInt16.self))
    let (scales, mins) = q4_KScalesAndMins(block + 4)
    let qs = (block + 16).assumingMemoryBound(to: UInt8.self)
    for p in 0..<4 {
      // Run p: sub-block 2p in the low nibbles, 2p + 1 in the high nibbles.
      let q = qs + 32 * p
      let j = b * 8 + 2 * p
      let x0 = x + j * 32
      let x1 = x0 + 32
      var low: Int32 = 0
      var high: Int32 = 0
      for i in 0..<32 {
        low &+= Int32(q[i] & 0x0F) &* Int32(x0[i])
        high &+= Int32(q[i] &>> 4) &* Int32(x1[i])
      }
      acc += d * scales[2 * p] * dx[j] * Float(low) + d * scales[2 * p + 1] * dx[j + 1] * Float(high)
      acc -= dmin * (mins[2 * p] * dx[j] * Float(sums[j]) + mins[2 * p + 1] * dx[j + 1] * Float(sums[j + 1]))
    }
  }
  return acc
}

func dotQ6_KInt8(
  _ row: UnsafeRawPointer, _ x: UnsafePointer<Int8>, _ dx: UnsafePointer<Float>, blocks: Int
) -> Float {
  var acc: Float = 0
  for b in 0..<blocks {
    let block = row + b * q6_KBlockBytes
    let d = halfToFloat(block.loadUnaligned(fromByteOffset: 208, as: UInt16.self))
    for half in 0..<2 {
      let ql = (block + 64 * half).assumingMemoryBound(to: UInt8.self)
      let qh = (block + 128 + 32 * half).assumingMemoryBound(to: UInt8.self)
      let sc = (block + 192 + 8 * half).assumingMemoryBound(to: Int8.self)
      // Run k covers values 32k ..< 32k + 32 of this half: one activation block, two scales.
      for k in 0..<4 {
        let j = b * 8 + half * 4 + k
        let xs = x + j * 32
        let lows = ql + (k & 1) * 32
        let shift = UInt8(k &>> 1) &* 4
        let highShift = UInt8(2 * k)
        var first: Int32 = 0
        var second: Int32 = 0
        for l in 0..<16 {
          let q = Int32(((lows[l] &>> shift) & 0x0F) | (((qh[l] &>> highShift) & 3) &<< 4)) &- 32
          first &+= q &* Int32(xs[l])
        }
        for l in 16..<32 {
          let q = Int32(((lows[l] &>> shift) & 0x0F) | (((qh[l] &>> highShift) & 3) &<< 4)) &- 32
          second &+= q &* Int32(xs[l])
        }
        acc += d * dx[j] * Float(Int32(sc[2 * k]) &* first &+ Int32(sc[2 * k + 1]) &* second)
      }
    }
  }
  return acc
}
