// Matrix × activations for any supported weight format, split by rows across a thread pool.

/// Σ a[i] * b[i] in Float with SIMD accumulators; any `count`.
@inlinable @inline(__always)
public func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
  let pa = UnsafeRawPointer(a)
  let pb = UnsafeRawPointer(b)
  // Two independent accumulators hide the add latency.
  var acc0 = SIMD16<Float>()
  var acc1 = SIMD16<Float>()
  var i = 0
  while i + 32 <= count {
    let o = i * 4
    acc0 +=
      pa.loadUnaligned(fromByteOffset: o, as: SIMD16<Float>.self)
      * pb.loadUnaligned(fromByteOffset: o, as: SIMD16<Float>.self)
    acc1 +=
      pa.loadUnaligned(fromByteOffset: o + 64, as: SIMD16<Float>.self)
      * pb.loadUnaligned(fromByteOffset: o + 64, as: SIMD16<Float>.self)
    i += 32
  }
  if i + 16 <= count {
    acc0 +=
      pa.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
      * pb.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
    i += 16
  }
  var sum = (acc0 + acc1).sum()
  while i < count {
    sum += a[i] * b[i]
    i += 1
  }
  return sum
}

/// y[t * w.rows + r] = row r of `w` · x[t * w.columns ..< (t + 1) * w.columns] for every token t.
///
/// By default every format keeps float activations (fused dequantize·dot). With
/// `MUSE_INT8_ACTIVATIONS=1`, quantised weights (Q8_0, Q4_0, Q4_1, Q4_K, Q6_K) take the integer
/// path, as llama.cpp does: the activations are quantised once per call to int8 blocks of 32
/// (QuantizedActivations), and each weight block is dotted with them in int8 × int8 → int32,
/// scaled by d_w · d_x in float; several tokens (prefill) go through the kernels four at a time.
/// It is 3–4× faster but not the default: on SmolLM2 its outlier activation channels (max/mean
/// up to 286) push logit errors to ~3 % of the largest logit, enough to change greedy answers
/// (see BENCHMARKS.md). `w` must be 2-D (use `matrix(_:)` for experts).
public func matmul(
  _ w: TensorView, input x: UnsafePointer<Float>, tokens: Int, output y: UnsafeMutablePointer<Float>,
  pool: ThreadPool
) {
  matmul(
    w, input: x, tokens: tokens, output: y, pool: pool, integerActivations: KernelDispatch.integerActivations)
}

func matmul(
  _ w: TensorView, input x: UnsafePointer<Float>, tokens: Int, output y: UnsafeMutablePointer<Float>,
  pool: ThreadPool, integerActivations: Bool
) {
  precondition(w.shape.count <= 2, "matmul takes a 2-D weight; use matrix(_:) for experts")
  let rows = w.rows
  let columns = w.columns
  let type = w.type
  guard rows > 0, tokens > 0 else { return }
  // 16–64 rows per task: large enough to amortise handing out a task, small enough that
  // every thread gets several tasks and finishes together.
  let chunk = min(64, max(16, rows / (pool.threadCount * 4)))
  let tasks = (rows + chunk - 1) / chunk
  if integerActivations && KernelDispatch.hasIntegerKernel(type) {
    let level = KernelDispatch.current
    let xq = QuantizedActivations(x, columns: columns, tokens: tokens)
    pool.parallelFor(tasks) { task in
      for r in task * chunk..<min(rows, (task + 1) * chunk) {
        let row = w.row(r)
        var t = 0
        while t < tokens {
          let n = min(4, tokens - t)
          KernelDispatch.dot(
            type, level: level, row: row, columns: columns, x: xq, first: t, count: n,
            y: y + t * rows + r, yStride: rows)
          t += n
        }
      }
    }
    return
  }
  if tokens == 1 {
    pool.parallelFor(tasks) { task in
      for r in task * chunk..<min(rows, (task + 1) * chunk) {
        y[r] = dotRow(type, w.row(r), x, count: columns)
      }
    }
    return
  }
  pool.parallelFor(tasks) { task in
    let scratch = UnsafeMutablePointer<Float>.allocate(capacity: columns)
    defer { scratch.deallocate() }
    for r in task * chunk..<min(rows, (task + 1) * chunk) {
      let weights: UnsafePointer<Float>
      if type == .f32 {
        weights = w.row(r).assumingMemoryBound(to: Float.self)
      } else {
        dequantizeRow(type, w.row(r), scratch, count: columns)
        weights = UnsafePointer(scratch)
      }
      for t in 0..<tokens {
        y[t * rows + r] = dot(weights, x + t * columns, count: columns)
      }
    }
  }
}
