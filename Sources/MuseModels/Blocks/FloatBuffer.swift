import Foundation

/// A heap buffer of floats with a stable address, for activations and scratch space in the
/// forward pass (where Swift arrays' copy-on-write checks cost more than they give).
public final class FloatBuffer: @unchecked Sendable {
  public let count: Int
  public let pointer: UnsafeMutablePointer<Float>

  public init(count: Int) {
    self.count = count
    pointer = .allocate(capacity: max(count, 1))
    pointer.initialize(repeating: 0, count: max(count, 1))
  }

  public convenience init(_ values: [Float]) {
    self.init(count: values.count)
    values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: values.count) }
  }

  public convenience init(count: Int, copying source: UnsafePointer<Float>) {
    self.init(count: count)
    pointer.update(from: source, count: count)
  }

  deinit { pointer.deallocate() }

  public subscript(_ i: Int) -> Float {
    get { pointer[i] }
    set { pointer[i] = newValue }
  }

  public func row(_ index: Int, width: Int) -> UnsafeMutablePointer<Float> { pointer + index * width }

  public var array: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }

  public func zero() { pointer.update(repeating: 0, count: count) }
}

/// Per-thread float scratch that only grows, so the forward pass's FFN and MoE buffers are
/// allocated once per thread rather than on every call. Each `Slot` is a separate buffer, so a
/// caller holding one slot (the MoE block) can call code that uses another (the shared
/// expert's FFN). The contents are undefined on return and valid until the same thread asks
/// for the same slot again; freed when the thread exits.
public enum ScratchFloats {
  public enum Slot: Int, CaseIterable {
    case feedForward = 0
    case mixtureOfExperts = 1
  }

  private static let keys: [pthread_key_t] = Slot.allCases.map { _ in
    var key = pthread_key_t()
    pthread_key_create(&key) { free($0) }
    return key
  }

  /// At least `count` floats, 64-byte aligned.
  public static func buffer(_ slot: Slot, count: Int) -> UnsafeMutablePointer<Float> {
    let key = keys[slot.rawValue]
    // The first cache line holds the capacity in floats.
    if let header = pthread_getspecific(key) {
      if header.load(as: Int.self) >= count { return (header + 64).assumingMemoryBound(to: Float.self) }
      free(header)
    }
    // A quarter more than asked, so slowly growing prompts do not reallocate every call,
    // without doubling what a long prefill leaves behind.
    let capacity = max(count + count / 4, 1 << 14)
    var raw: UnsafeMutableRawPointer?
    guard posix_memalign(&raw, 64, capacity * 4 + 64) == 0, let header = raw else {
      fatalError("out of memory allocating \(capacity) floats of scratch")
    }
    header.storeBytes(of: capacity, as: Int.self)
    pthread_setspecific(key, header)
    return (header + 64).assumingMemoryBound(to: Float.self)
  }
}
