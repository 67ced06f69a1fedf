#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Per-thread, 64-byte-aligned scratch buffers that only grow, so the forward pass allocates
/// nothing once a thread has seen its largest request: the activations a `matmul` quantises,
/// and the FFN and MoE blocks' intermediate floats. Each `Slot` is a separate buffer, for data
/// that must outlive a later request on the same thread (the MoE block holds its slot while the
/// shared expert's FFN uses another). The contents are undefined on return and valid until the
/// same thread asks for the same slot again; freed when the thread exits.
public enum ThreadScratch {
  public enum Slot: Int, CaseIterable, Sendable {
    /// Activations quantised by one `matmul` call.
    case matmul = 0
    /// Activations quantised once for several `matmul(_:rows:input:...)` calls (MatmulInput).
    case preparedInput = 1
    /// A dense FFN's gate and up projections.
    case feedForward = 2
    /// The MoE block's gathered rows, gate and up projections and results.
    case mixtureOfExperts = 3
  }

  private static let keys: [pthread_key_t] = Slot.allCases.map { _ in
    var key = pthread_key_t()
    pthread_key_create(&key) { free($0) }
    return key
  }

  /// At least `bytes` bytes, 64-byte aligned.
  public static func buffer(bytes: Int, slot: Slot = .matmul) -> UnsafeMutableRawPointer {
    let key = keys[slot.rawValue]
    // The first cache line holds the capacity in bytes.
    if let header = pthread_getspecific(key) {
      if header.load(as: Int.self) >= bytes { return header + 64 }
      free(header)
    }
    // A quarter more than asked, so slowly growing prompts do not reallocate every call,
    // without doubling what a long prefill leaves behind.
    let capacity = max(bytes + bytes / 4, 1 << 16)
    var raw: UnsafeMutableRawPointer?
    guard posix_memalign(&raw, 64, capacity + 64) == 0, let header = raw else {
      fatalError("out of memory allocating \(capacity) bytes of scratch")
    }
    header.storeBytes(of: capacity, as: Int.self)
    pthread_setspecific(key, header)
    return header + 64
  }

  /// At least `count` floats, 64-byte aligned.
  public static func floats(_ slot: Slot, count: Int) -> UnsafeMutablePointer<Float> {
    buffer(bytes: count * MemoryLayout<Float>.stride, slot: slot).assumingMemoryBound(to: Float.self)
  }
}
