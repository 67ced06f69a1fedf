// Entry points over one row of any supported format. Each format's block layout and kernels
// live in its own file (FloatRows, BlockQ8_0, BlockQ4, BlockQ4_K, BlockQ6_K).

/// Expands `count` values of `type` at `src` into floats. `count` must be a multiple of the
/// block size.
public func dequantizeRow(
  _ type: GGMLType, _ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, count: Int
) {
  let blocks = count / type.blockLayout.values
  precondition(blocks * type.blockLayout.values == count, "\(type.name) rows hold whole blocks")
  switch type {
  case .f32: dst.update(from: src.assumingMemoryBound(to: Float.self), count: count)
  case .f16: dequantizeF16(src, dst, count: count)
  case .bf16: dequantizeBF16(src, dst, count: count)
  case .q8_0: dequantizeQ8_0(src, dst, blocks: blocks)
  case .q4_0: dequantizeQ4_0(src, dst, blocks: blocks)
  case .q4_1: dequantizeQ4_1(src, dst, blocks: blocks)
  case .q4_K: dequantizeQ4_K(src, dst, blocks: blocks)
  case .q6_K: dequantizeQ6_K(src, dst, blocks: blocks)
  case .mxfp4: dequantizeMXFP4(src, dst, blocks: blocks)
  default: preconditionFailure("no kernel for \(type.name)")
  }
}

/// Σ row[i] * x[i] over `count` values, dequantising one block at a time in registers (the
/// decode hot loop: a row is read once and never expanded to memory).
public func dotRow(
  _ type: GGMLType, _ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, count: Int
) -> Float {
  let blocks = count / type.blockLayout.values
  switch type {
  case .f32: return dot(row.assumingMemoryBound(to: Float.self), x, count: count)
  case .f16: return dotF16(row, x, count: count)
  case .bf16: return dotBF16(row, x, count: count)
  case .q8_0: return dotQ8_0(row, x, blocks: blocks)
  case .q4_0: return dotQ4_0(row, x, blocks: blocks)
  case .q4_1: return dotQ4_1(row, x, blocks: blocks)
  case .q4_K: return dotQ4_K(row, x, blocks: blocks)
  case .q6_K: return dotQ6_K(row, x, blocks: blocks)
  case .mxfp4: return dotMXFP4(row, x, blocks: blocks)
  default: preconditionFailure("no kernel for \(type.name)")
  }
}
