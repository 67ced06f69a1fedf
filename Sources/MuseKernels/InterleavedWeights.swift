import Foundation
import MuseKernelsC

/// Repacking quantised weights into groups of 16 rows for the kernels of
/// Sources/MuseKernelsC/interleaved_dot.c (the layout is described there), and a portable
/// version of those kernels. A group's bytes are a permutation of its 16 rows' bytes (Q8_0's
/// codes shifted by 128), so the repacked tensor is exactly as large as the original, and the
/// original pages are not read again.
public enum InterleavedWeights {
  /// `MUSE_INTERLEAVE=0` keeps every weight in rows (the float-activation row kernels);
  /// `MUSE_INTERLEAVE=q4_0,q4_1` repacks only the types named, to measure one type's kernels
  /// against the row ones.
  static let onlyTypes: Set<String>? = {
    guard let value = getenv("MUSE_INTERLEAVE").map({ String(cString: $0).lowercased() }), value != "1" else {
      return nil
    }
    return Set(value.split(separator: ",").map(String.init))
  }()

  /// Whether weights of `type` are repacked at `level`: where the level has a 16-row kernel
  /// for the type (AVX2, AVX-VNNI, AVX-512 VNNI and arm64 NEON; the portable level keeps rows,
  /// whose Swift float kernels are faster than the portable 16-row loop), or where
  /// `MUSE_INTERLEAVE` names the type. AVX2 keeps Q8_0 in rows: without an 8-bit × 8-bit dot
  /// product its 24-bit activations take 6 vpmaddubsw and 6 adds per 4 values of 8 rows and
  /// token, ~3× the float kernel's per-token work, so several tokens run slower (OLMoE-shaped
  /// Q8_0, 128-token prefill, 1 thread: 8.0 tok/s vs 11.5 in rows) and one gains little
  /// (decode 4.4 vs 4.1). NEON's sdot multiplies 8-bit by 8-bit as VNNI does, so Q8_0 is
  /// repacked there.
  public static func repacks(_ type: GGMLType, level: KernelDispatch.Level = KernelDispatch.selected) -> Bool
  {
    guard supports(type), level != .portable else { return false }
    if let onlyTypes { return onlyTypes.contains(type.name.lowercased()) }
    return !(level == .avx2 && type == .q8_0)
  }

  static func supports(_ type: GGMLType) -> Bool {
    switch type {
    case .q4_0, .q4_1, .q8_0, .q4_K, .q6_K: true
    default: false
    }
  }

  /// Bytes of one block of 16 rows (16 × the format's block size; a K-quant super-block's).
  static func groupBlockBytes(_ type: GGMLType) -> Int { 16 * type.blockLayout.bytes }

  /// `w` repacked when the process's level `repacks` its type and every matrix has a multiple
  /// of 16 rows; otherwise `w` itself.
  public static func interleaved(_ w: TensorView, into arena: WeightArena) -> TensorView {
    guard repacks(w.type) else { return w }
    return repack(w, into: arena)
  }

  /// `w` repacked whatever the CPU (for tests), or `w` when the type or shape does not fit.
  static func repack(_ w: TensorView, into arena: WeightArena = WeightArena()) -> TensorView {
    guard w.layout == .rows, supports(w.type), w.shape.count >= 2, w.shape[1] % 16 == 0,
      w.columns % 32 == 0
    else { return w }
    let storage = arena.allocate(bytes: w.byteCount)
    let groups = w.rows / 16
    let blocks = w.columns / w.type.blockLayout.values
    let rowBytes = w.rowBytes
    let groupBytes = 16 * rowBytes
    for g in 0..<groups {
      repackGroup(
        w.type, from: w.data + g * groupBytes, rowBytes: rowBytes, blocks: blocks,
        to: storage + g * groupBytes)
    }
    return TensorView(type: w.type, data: storage, shape: w.shape, layout: .interleaved16, owner: arena)
  }

  /// Where one source block's fields (offset, width in bytes) are, each of which the group
  /// holds for its 16 rows together, in this order, ahead of the interleaved codes; and where
  /// the codes are (offset, bytes).
  private static func blockFields(_ type: GGMLType) -> (fields: [(Int, Int)], codes: (Int, Int)) {
    switch type {
    case .q4_1: ([(0, 2), (2, 2)], (4, 16))  // f16 d, f16 m
    // f16 d, f16 dmin, the 12 packed scale bytes as three words
    case .q4_K: ([(0, 2), (2, 2), (4, 4), (8, 4), (12, 4)], (16, 128))
    // f16 d (last in the block), the 16 scale bytes as four words; codes: ql then qh
    case .q6_K: ([(208, 2), (192, 4), (196, 4), (200, 4), (204, 4)], (0, 192))
    case .q8_0: ([(0, 2)], (2, 32))
    default: ([(0, 2)], (2, 16))  // f16 d
    }
  }

  /// Sixteen rows starting at `src` (`blocks` blocks of the format each) into one interleaved
  /// group at `dst`.
  private static func repackGroup(
    _ type: GGMLType, from src: UnsafeRawPointer, rowBytes: Int, blocks: Int, to dst: UnsafeMutableRawPointer
  ) {
    let blockBytes = type.blockLayout.bytes
    let groupBlock = 16 * blockBytes
    let (fields, (codesAt, codeBytes)) = blockFields(type)
    let header = fields.reduce(0) { $0 + $1.1 }
    let flip: UInt32 = type == .q8_0 ? 0x8080_8080 : 0
    for b in 0..<blocks {
      let out = dst + b * groupBlock
      for r in 0..<16 {
        let block = src + r * rowBytes + b * blockBytes
        var at = 0
        for (offset, width) in fields {
          (out + 16 * at + width * r).copyMemory(from: block + offset, byteCount: width)
          at += width
        }
        let codes = block + codesAt
        let chunks = out + 16 * header
        for j in 0..<codeBytes / 4 {
          let word = codes.loadUnaligned(fromByteOffset: 4 * j, as: UInt32.self)
          (chunks + 64 * j + 4 * r).storeBytes(of: word ^ flip, as: UInt32.self)
        }
      }
    }
  }

  /// y[t * yStride + i] = row i of the 16-row group at `group` · token t, for `count` (1...4)
  /// tokens of `x` (`blocks` blocks of 32 values, whatever the format's block): the C kernel of
  /// the level (AVX-512 VNNI, AVX-VNNI, AVX2 or NEON), else the same
  /// arithmetic in Swift (the same int32 sums and the same float operations in the same order,
  /// so every level gives identical bits).
  @inline(__always)
  static func dot(
    _ type: GGMLType, level: KernelDispatch.Level, group: UnsafeRawPointer, blocks: Int,
    x: SplitActivations, first: Int, count: Int, y: UnsafeMutablePointer<Float>, yStride: Int
  ) {
    #if arch(x86_64)
      if level != .portable {
        let xs = x.token(first)
        let (b, n) = (Int32(blocks), Int32(count))
        switch (type, level) {
        case (.q4_K, .avx512vnni): muse_idot_q4_K_vnni(group, b, xs, x.tokenStride, n, y, yStride)
        case (.q4_K, .avxvnni): muse_idot_q4_K_avxvnni(group, b, xs, x.tokenStride, n, y, yStride)
        case (.q4_K, _): muse_idot_q4_K_avx2(group, b, xs, x.tokenStride, n, y, yStride)
        case (.q6_K, .avx512vnni): muse_idot_q6_K_vnni(group, b, xs, x.tokenStride, n, y, yStride)
        case (.q6_K, .avxvnni): muse_idot_q6_K_avxvnni(group, b, xs, x.tokenStride, n, y, yStride)
        case (.q6_K, _): muse_idot_q6_K_avx2(group, b, xs, x.tokenStride, n, y, yStride)
        case (.q4_0, .avx512vnni): muse_idot_q4_0_vnni(group, b, xs, x.tokenStride, n, y, yStride)
        case (.q4_1, .avx512vnni): muse_idot_q4_1_vnni(group, b, xs, x.tokenStride, n, y, yStride)
        case (_, .avx512vnni): muse_idot_q8_0_vnni(group, b, xs, x.tokenStride, n, y, yStride)
        case (.q4_0, .avxvnni): muse_idot_q4_0_avxvnni(group, b, xs, x.tokenStride, n, y, yStride)
        case (.q4_1, .avxvnni): muse_idot_q4_1_avxvnni(group, b, xs, x.tokenStride, n, y, yStride)
        case (_, .avxvnni): muse_idot_q8_0_avxvnni(group, b, xs, x.tokenStride, n, y, yStride)
        case (.q4_0, _): muse_idot_q4_0_avx2(group, b, xs, x.tokenStride, n, y, yStride)
        case (.q4_1, _): muse_idot_q4_1_avx2(group, b, xs, x.tokenStride, n, y, yStride)
        default: muse_idot_q8_0_avx2(group, b, xs, x.tokenStride, n, y, yStride)
        }
        return
      }
    #elseif arch(arm64)
      if level == .neon {
        let xs = x.token(first)
        let (b, n) = (Int32(blocks), Int32(count))
        switch type {
        case .q4_0: muse_idot_q4_0_neon(group, b, xs, x.tokenStride, n, y, yStride)
        case .q4_1: muse_idot_q4_1_neon(group, b, xs, x.tokenStride, n, y, yStride)
        case .q4_K: muse_idot_q4_K_neon(group, b, xs, x.tokenStride, n, y, yStride)
        case .q6_K: muse_idot_q6_K_neon(group, b, xs, x.tokenStride, n, y, yStride)
        default: muse_idot_q8_0_neon(group, b, xs, x.tokenStride, n, y, yStride)
        }
        return
      }
    #endif
    for i in 0..<count {
      portableDot(type, group: group, blocks: blocks, x: x.token(first + i), y: y + i * yStride)
    }
  }

  private static func portableDot(
    _ type: GGMLType, group: UnsafeRawPointer, blocks: Int, x: UnsafePointer<Int8>,
    y: UnsafeMutablePointer<Float>
  ) {
    if type == .q4_K {
      portableDotQ4_K(group: group, blocks: blocks, x: x, y: y)
      return
    }
    if type == .q6_K {
      portableDotQ6_K(group: group, blocks: blocks, x: x, y: y)
      return
    }
    let groupBlock = groupBlockBytes(type)
    let chunksAt = type == .q4_1 ? 64 : 32
    let offset: Int32 = type == .q4_0 ? 8 : type == .q8_0 ? 128 : 0
    let digits = SplitActivations.digits(for: type)
    let tail = UnsafeRawPointer(x + blocks * 32 * digits)
    var acc = [Float](repeating: 0, count: 16)
    for b in 0..<blocks {
      let p = group + b * groupBlock
      let dx = tail.load(fromByteOffset: 4 * b, as: Float.self)
      let sumTop = tail.load(fromByteOffset: 4 * (blocks + b), as: Int32.self)
      let sumRest = tail.load(fromByteOffset: 4 * (2 * blocks + b), as: Int32.self)
      let sum = tail.load(fromByteOffset: 4 * (3 * blocks + b), as: Float.self)
      for r in 0..<16 {
        // Σ code × digit, per digit.
        var sums: (Int32, Int32, Int32) = (0, 0, 0)
        for k in 0..<8 {
          for i in 0..<4 {
            let code: Int32
            if type == .q8_0 {
              code = Int32(p.load(fromByteOffset: chunksAt + 64 * k + 4 * r + i, as: UInt8.self))
            } else {
              let byte = p.load(fromByteOffset: chunksAt + 64 * (k % 4) + 4 * r + i, as: UInt8.self)
              code = Int32(k < 4 ? byte & 0x0F : byte >> 4)
            }
            let at = b * 32 + 4 * k + i
            sums.0 &+= code &* Int32(x[at])
            sums.1 &+= code &* Int32(x[blocks * 32 + at])
            if digits == 3 { sums.2 &+= code &* Int32(x[blocks * 64 + at]) }
          }
        }
        let s: Float
        if digits == 3 {
          let top = sums.0 &- offset &* sumTop
          let lower = ((sums.1 << 8) &+ sums.2) &- offset &* sumRest
          s = Float(lower).addingProduct(Float(top), 65536)
        } else {
          s = Float(((sums.0 << 8) &+ sums.1) &- offset &* (256 &* sumTop &+ sumRest))
        }
        let d = halfToFloat(p.load(fromByteOffset: 2 * r, as: UInt16.self))
        acc[r] = acc[r].addingProduct(s, d * dx)
        if type == .q4_1 {
          acc[r] = acc[r].addingProduct(halfToFloat(p.load(fromByteOffset: 32 + 2 * r, as: UInt16.self)), sum)
        }
      }
    }
    for r in 0..<16 { y[r] = acc[r] }
  }

  /// interleaved_dot_kernels.h's iq4_K in Swift: per sub-block s of 32 values the integer
  /// Σ code × (256 h + l), then acc += Σ · (d sc_s · xd) and acc -= dmin m_s · Σx, fused.
  private static func portableDotQ4_K(
    group: UnsafeRawPointer, blocks: Int, x: UnsafePointer<Int8>, y: UnsafeMutablePointer<Float>
  ) {
    let tail = UnsafeRawPointer(x + blocks * 64)
    for r in 0..<16 {
      var acc: Float = 0
      for superBlock in 0..<blocks / 8 {
        let p = group + superBlock * groupBlockBytes(.q4_K)
        let d = halfToFloat(p.loadUnaligned(fromByteOffset: 2 * r, as: UInt16.self))
        let dmin = halfToFloat(p.loadUnaligned(fromByteOffset: 32 + 2 * r, as: UInt16.self))
        let (scales, mins) = q4_KScalesAndMins(
          low: p.loadUnaligned(fromByteOffset: 64 + 4 * r, as: UInt32.self),
          high: p.loadUnaligned(fromByteOffset: 128 + 4 * r, as: UInt32.self),
          packed: p.loadUnaligned(fromByteOffset: 192 + 4 * r, as: UInt32.self))
        for s in 0..<8 {
          let b = 8 * superBlock + s
          var (high, low): (Int32, Int32) = (0, 0)
          for j in 0..<8 {
            for i in 0..<4 {
              let byte = p.load(fromByteOffset: 256 + 512 * (s / 2) + 64 * j + 4 * r + i, as: UInt8.self)
              let code = Int32(s % 2 == 0 ? byte & 0x0F : byte >> 4)
              let at = b * 32 + 4 * j + i
              high &+= code &* Int32(x[at])
              low &+= code &* Int32(x[blocks * 32 + at])
            }
          }
          let dx = tail.load(fromByteOffset: 4 * b, as: Float.self)
          let sum = tail.load(fromByteOffset: 4 * (3 * blocks + b), as: Float.self)
          acc = acc.addingProduct(Float((high << 8) &+ low), d * scales[s] * dx)
          acc = acc.addingProduct(-(dmin * mins[s]), sum)
        }
      }
      y[r] = acc
    }
  }

  /// interleaved_dot_kernels.h's iq6_K in Swift: per sub-block i of 16 values the integer
  /// Σ (q - 32)(256 h + l), then acc += Σ · (d sc_i · xd), fused.
  private static func portableDotQ6_K(
    group: UnsafeRawPointer, blocks: Int, x: UnsafePointer<Int8>, y: UnsafeMutablePointer<Float>
  ) {
    let tail = UnsafeRawPointer(x + blocks * 64)
    for r in 0..<16 {
      var acc: Float = 0
      for superBlock in 0..<blocks / 8 {
        let p = group + superBlock * groupBlockBytes(.q6_K)
        let d = halfToFloat(p.loadUnaligned(fromByteOffset: 2 * r, as: UInt16.self))
        // Sub-blocks i = 8n + 2v + g in the kernels' order: n, then g, then v.
        for order in 0..<16 {
          let (n, g, v) = (order / 8, (order / 4) % 2, order % 4)
          let i = 8 * n + 2 * v + g
          let b = 8 * superBlock + 4 * n + v
          let scale = Float(p.load(fromByteOffset: 32 + 64 * (i / 4) + 4 * r + i % 4, as: Int8.self))
          var sum: Int32 = 0
          for k in 0..<4 {
            let j = 4 * g + k
            for e in 0..<4 {
              let low = p.load(
                fromByteOffset: 288 + 64 * (16 * n + 8 * (v % 2) + j) + 4 * r + e, as: UInt8.self)
              let high = p.load(fromByteOffset: 2336 + 64 * (8 * n + j) + 4 * r + e, as: UInt8.self)
              let code = Int32(v < 2 ? low & 0x0F : low >> 4) | Int32((high >> (2 * v)) & 3) << 4
              let at = b * 32 + 16 * g + 4 * k + e
              sum &+= (code &- 32) &* ((Int32(x[at]) << 8) &+ Int32(x[blocks * 32 + at]))
            }
          }
          let dx = tail.load(fromByteOffset: 4 * b, as: Float.self)
          acc = acc.addingProduct(Float(sum), d * scale * dx)
        }
      }
      y[r] = acc
    }
  }
}

/// Memory for a model's repacked weights, freed when the last view of it goes: 64-byte-aligned
/// pieces of 2 MB-aligned mappings in transparent huge pages where the system allows them
/// (Linux `madvise` mode). Decode streams every weight byte once per token, and 2 MB pages
/// spare it a TLB miss every 4 KB (OLMoE-shaped Q4_0 decode, 2 threads: 30–33 → 37–38 tok/s
/// from the expert tensors alone). Untouched space at a mapping's end is never resident.
public final class WeightArena: @unchecked Sendable {
  private static let chunk = 32 << 20
  private var mappings: [HugePageMapping] = []
  private var free: (next: UnsafeMutableRawPointer, end: UnsafeMutableRawPointer)?
  private let lock = NSLock()

  public init() {}

  /// `bytes` bytes, 64-byte aligned, zeroed, valid while the arena lives.
  func allocate(bytes: Int) -> UnsafeMutableRawPointer {
    lock.lock()
    defer { lock.unlock() }
    let size = (max(bytes, 1) + 63) & ~63
    if let (next, end) = free, end - next >= size {
      free = (next + size, end)
      return next
    }
    let mapping = HugePageMapping(bytes: max(size, Self.chunk))
    mappings.append(mapping)
    // A piece larger than a chunk gets a mapping of its own; the current chunk keeps its room.
    if size < Self.chunk || free == nil { free = (mapping.base + size, mapping.base + mapping.length) }
    return mapping.base
  }
}
