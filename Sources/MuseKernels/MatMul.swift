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
/// Weights repacked into 16-row groups at load (`InterleavedWeights.repacks`: Q4_0, Q4_1, Q4_K,
/// Q6_K and Q8_0 on CPUs with AVX2, AVX-VNNI or AVX-512 VNNI, Q8_0 not at AVX2) take the
/// interleaved kernels, with the activations quantised once per call to 16 or 24 bits
/// (`SplitActivations`; interleaved_dot.c says why not 8). F32 weights take the register-tiled
/// GEMM (`floatGemm`: several rows × several tokens per step). Other formats keep float
/// activations (fused dequantize·dot; on x86-64 with AVX2 the quantised formats run the C kernels
/// of Sources/MuseKernelsC/float_dot.c). With `MUSE_INT8_ACTIVATIONS=1`, row-layout quantised
/// weights take llama.cpp's int8 path instead (QuantizedActivations): faster than the
/// float kernels on paper but not the default, since on SmolLM2 its outlier activation channels
/// (max/mean up to 286) push logit errors to ~3 % of the largest logit, enough to change greedy
/// answers (see BENCHMARKS.md). `w` must be 2-D (use `matrix(_:)` for experts).
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
  guard rows > 0, tokens > 0 else { return }
  let level = KernelDispatch.current
  if w.layout == .interleaved16 {
    let xs = SplitActivations(
      x, columns: w.columns, tokens: tokens, digits: SplitActivations.digits(for: w.type), slot: .matmul)
    // 1–8 groups of 16 rows per task, for the same reason as `chunk` below; each task starts a
    // new memory stream, so tasks are as long as balance allows.
    let groups = rows / 16
    let chunk = min(8, max(1, groups / (pool.threadCount * 4))) * 16
    pool.parallelFor((rows + chunk - 1) / chunk) { task in
      interleavedRows(
        w, task * chunk..<min(rows, (task + 1) * chunk), x: xs, tokens: tokens, y: y, level: level)
    }
    return
  }
  // 16–64 rows per task: large enough to amortise handing out a task, small enough that
  // every thread gets several tasks and finishes together.
  let chunk = min(64, max(16, rows / (pool.threadCount * 4)))
  let tasks = (rows + chunk - 1) / chunk
  let xq =
    integerActivations && KernelDispatch.hasIntegerKernel(w.type)
    ? QuantizedActivations(x, columns: w.columns, tokens: tokens, slot: .matmul) : nil
  pool.parallelFor(tasks) { task in
    matmulRows(
      w, task * chunk..<min(rows, (task + 1) * chunk), x: x, xq: xq, tokens: tokens, y: y, level: level)
  }
}

/// `outputs[i]` = `weights[i]` · x for several weights that read the same input (a layer's
/// query, key and value projections): one pool pass instead of one per matrix, and the input
/// quantised once rather than per matrix. Each row's result is bitwise `matmul`'s.
public func matmul(
  _ weights: [TensorView], input x: UnsafePointer<Float>, tokens: Int, outputs: [UnsafeMutablePointer<Float>],
  pool: ThreadPool
) {
  precondition(weights.count == outputs.count && !weights.isEmpty, "one output per weight")
  guard tokens > 0 else { return }
  let input = MatmulInput(x, columns: weights[0].columns, tokens: tokens, for: weights[0])
  // Tasks of up to 128 rows (whole groups of 16 for interleaved weights) across all matrices.
  var tasks: [(matrix: Int, rows: Range<Int>)] = []
  for (i, w) in weights.enumerated() {
    precondition(w.shape.count <= 2 && w.columns == weights[0].columns, "the weights must share their input")
    for start in stride(from: 0, to: w.rows, by: 128) { tasks.append((i, start..<min(w.rows, start + 128))) }
  }
  pool.parallelFor(tasks.count) { t in
    let task = tasks[t]
    matmul(weights[task.matrix], rows: task.rows, input: input, tokens: tokens, output: outputs[task.matrix])
  }
}

/// Activations prepared once for several `matmul(_:rows:input:tokens:output:)` calls on
/// weights of the same width (the MoE block runs dozens per layer): quantised for the weight's
/// kernel when it needs that, so each call does not quantise them again.
public struct MatmulInput {
  let floats: UnsafePointer<Float>
  let columns: Int
  let split: SplitActivations?
  let quantized: QuantizedActivations?
  /// The dispatch level of the thread that prepared it, for the calls on pool threads.
  let level: KernelDispatch.Level

  /// `tokens` rows of `columns` floats at `x`, for weights laid out as `w`. Quantised copies
  /// live in the calling thread's scratch until it prepares another input.
  public init(_ x: UnsafePointer<Float>, columns: Int, tokens: Int, for w: TensorView) {
    floats = x
    self.columns = columns
    level = KernelDispatch.current
    split =
      w.layout == .interleaved16
      ? SplitActivations(
        x, columns: columns, tokens: tokens, digits: SplitActivations.digits(for: w.type),
        slot: .preparedInput)
      : nil
    quantized =
      w.layout == .rows && KernelDispatch.integerActivations && KernelDispatch.hasIntegerKernel(w.type)
      ? QuantizedActivations(x, columns: columns, tokens: tokens, slot: .preparedInput) : nil
  }

  /// The rows `rows` of `x` (`columns` floats each), in that order, whose floats the caller has
  /// gathered at `gathered` (the MoE block: each token once per expert it is routed to): each
  /// distinct row is quantised once and its codes copied, instead of quantising every copy.
  public init(
    gathered: UnsafePointer<Float>, from x: UnsafePointer<Float>, rows: [Int], tokens: Int, columns: Int,
    for w: TensorView
  ) {
    guard w.layout == .interleaved16 else {
      self.init(gathered, columns: columns, tokens: rows.count, for: w)
      return
    }
    let digits = SplitActivations.digits(for: w.type)
    let distinct = SplitActivations(x, columns: columns, tokens: tokens, digits: digits, slot: .matmul)
    let out = SplitActivations(
      capacityFor: rows.count, columns: columns, digits: digits, slot: .preparedInput)
    for (i, r) in rows.enumerated() {
      (out.base + i * out.tokenStride).copyMemory(from: distinct.token(r), byteCount: out.tokenStride)
    }
    self.init(floats: gathered, columns: columns, split: out, quantized: nil, level: KernelDispatch.current)
  }

  private init(
    floats: UnsafePointer<Float>, columns: Int, split: SplitActivations?, quantized: QuantizedActivations?,
    level: KernelDispatch.Level
  ) {
    self.floats = floats
    self.columns = columns
    self.split = split
    self.quantized = quantized
    self.level = level
  }

  /// The same input from token `t` on.
  public func dropping(tokens t: Int) -> MatmulInput {
    MatmulInput(
      floats: floats + t * columns, columns: columns, split: split?.dropping(tokens: t),
      quantized: quantized?.dropping(tokens: t), level: level)
  }
}

/// Rows `rows` of `matmul(w, input: x, tokens: tokens, output: y, pool:)`, on the calling
/// thread, for callers that run several matmuls in one parallel loop (the MoE block: all
/// selected experts' projections in one pass instead of a pool wake-up per matrix). Each row's
/// result is bitwise the one `matmul` gives. For an interleaved `w`, `rows` covers whole groups
/// of 16.
public func matmul(
  _ w: TensorView, rows: Range<Int>, input x: MatmulInput, tokens: Int, output y: UnsafeMutablePointer<Float>
) {
  precondition(w.shape.count <= 2, "matmul takes a 2-D weight; use matrix(_:) for experts")
  precondition(w.columns == x.columns, "the input was prepared for \(x.columns) columns, not \(w.columns)")
  let level = x.level
  if w.layout == .interleaved16 {
    let digits = SplitActivations.digits(for: w.type)
    let xs =
      x.split.flatMap { $0.digits == digits ? $0 : nil }
      ?? SplitActivations(
        x.floats, columns: w.columns, tokens: tokens, digits: digits, slot: .matmul, level: level)
    interleavedRows(w, rows, x: xs, tokens: tokens, y: y, level: level)
    return
  }
  let xq =
    x.quantized
    ?? (KernelDispatch.integerActivations && KernelDispatch.hasIntegerKernel(w.type)
      ? QuantizedActivations(x.floats, columns: w.columns, tokens: tokens, slot: .matmul) : nil)
  matmulRows(w, rows, x: x.floats, xq: xq, tokens: tokens, y: y, level: level)
}

/// Runs `body(first, end)` over `tokens` in tiles whose activations take about 48 KB (a
/// multiple of four tokens): the row loops below sweep their rows once per tile, so a tile
/// stays in L1/L2 while the rows pass over it, instead of every row re-reading every token's
/// activations from further away (SmolLM2's 512-token prefill has 0.7 MB of split activations
/// per matmul, re-read by each of up to 96 row groups).
@inline(__always)
private func forEachTokenTile(tokens: Int, bytesPerToken: Int, _ body: (_ first: Int, _ end: Int) -> Void) {
  let tile = max(4, ((48 << 10) / max(bytesPerToken, 1)) & ~3)
  var first = 0
  while first < tokens {
    let end = min(tokens, first + tile)
    body(first, end)
    first = end
  }
}

/// Rows `range` (whole groups of 16) of an interleaved weight, tokens four at a time; like the
/// row kernels, each token gets the same instructions whatever its group (batch invariance).
@inline(__always)
private func interleavedRows(
  _ w: TensorView, _ range: Range<Int>, x: SplitActivations, tokens: Int, y: UnsafeMutablePointer<Float>,
  level: KernelDispatch.Level
) {
  precondition(range.lowerBound % 16 == 0 && range.upperBound % 16 == 0, "rows must cover whole groups of 16")
  let rows = w.rows
  let blocks = w.columns / 32
  let groupBytes = 16 * w.rowBytes
  forEachTokenTile(tokens: tokens, bytesPerToken: x.tokenStride) { first, end in
    var r = range.lowerBound
    while r < range.upperBound {
      let group = w.data + r / 16 * groupBytes
      var t = first
      while t < end {
        let n = min(4, end - t)
        InterleavedWeights.dot(
          w.type, level: level, group: group, blocks: blocks, x: x, first: t, count: n, y: y + t * rows + r,
          yStride: rows)
        t += n
      }
      r += 16
    }
  }
}

/// The row loop shared by both entry points. Tokens go through the kernels four at a time;
/// the kernels give each token the same instruction sequence whatever its group, so results
/// do not depend on the number of tokens (batch invariance).
@inline(__always)
private func matmulRows(
  _ w: TensorView, _ range: Range<Int>, x: UnsafePointer<Float>, xq: QuantizedActivations?,
  tokens: Int, y: UnsafeMutablePointer<Float>, level: KernelDispatch.Level
) {
  let rows = w.rows
  let columns = w.columns
  let type = w.type
  if let xq {
    forEachTokenTile(tokens: tokens, bytesPerToken: xq.tokenStride) { first, end in
      for r in range {
        let row = w.row(r)
        var t = first
        while t < end {
          let n = min(4, end - t)
          KernelDispatch.dot(
            type, level: level, row: row, columns: columns, x: xq, first: t, count: n,
            y: y + t * rows + r, yStride: rows)
          t += n
        }
      }
    }
  } else if KernelDispatch.hasFloatKernel(type, level: level) {
    forEachTokenTile(tokens: tokens, bytesPerToken: 4 * columns) { first, end in
      for r in range {
        let row = w.row(r)
        var t = first
        while t < end {
          let n = min(4, end - t)
          KernelDispatch.floatDot(
            type, level: level, row: row, columns: columns, x: x + t * columns, xStride: columns,
            count: n, y: y + t * rows + r, yStride: rows)
          t += n
        }
      }
    }
  } else if type == .f32 {
    forEachTokenTile(tokens: tokens, bytesPerToken: 4 * columns) { first, end in
      floatGemm(
        weights: w.row(range.lowerBound).assumingMemoryBound(to: Float.self), rowStride: columns,
        rows: range.count, input: x + first * columns, tokenStride: columns, tokens: end - first,
        columns: columns, output: y + first * rows + range.lowerBound, outputStride: rows, level: level)
    }
  } else {
    // One `dotRow` per token, also for several tokens: expanding the row once and reusing it
    // would sum in a different order than the one-token call and break batch invariance.
    for r in range {
      let row = w.row(r)
      for t in 0..<tokens {
        y[t * rows + r] = dotRow(type, row, x + t * columns, count: columns)
      }
    }
  }
}
