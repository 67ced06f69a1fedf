#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Anonymous memory aligned to 2 MB and, on Linux, advised into transparent huge pages
/// (systems in `madvise` mode give them only on request). For memory streamed or walked at
/// random faster than a 4 KB TLB reach covers: repacked weights (every byte once per token)
/// and KV caches (one sequence's blocks of every layer once per step). Zeroed; pages become
/// resident as they are first touched. Unmapped when the mapping is freed.
public final class HugePageMapping: @unchecked Sendable {
  public static let hugePage = 2 << 20
  public let base: UnsafeMutableRawPointer
  public let length: Int

  /// At least `bytes` bytes (rounded up to whole huge pages).
  public init(bytes: Int) {
    let length = (max(bytes, 1) + Self.hugePage - 1) / Self.hugePage * Self.hugePage
    // Over-map by one huge page and trim both ends to an aligned start.
    guard
      let raw = mmap(nil, length + Self.hugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
      raw != MAP_FAILED
    else { fatalError("out of memory mapping \(length) bytes") }
    let address = Int(bitPattern: raw)
    let aligned = (address + Self.hugePage - 1) / Self.hugePage * Self.hugePage
    if aligned > address { munmap(raw, aligned - address) }
    let tail = Self.hugePage - (aligned - address)
    if tail > 0 { munmap(UnsafeMutableRawPointer(bitPattern: aligned + length), tail) }
    base = UnsafeMutableRawPointer(bitPattern: aligned)!
    self.length = length
    #if os(Linux)
      madvise(base, length, Int32(MADV_HUGEPAGE))
    #endif
  }

  deinit { munmap(base, length) }

  /// The mapping as `count` values of `type`.
  public func bound<T>(to type: T.Type, count: Int) -> UnsafeMutablePointer<T> {
    precondition(count * MemoryLayout<T>.stride <= length)
    return base.bindMemory(to: type, capacity: count)
  }
}
