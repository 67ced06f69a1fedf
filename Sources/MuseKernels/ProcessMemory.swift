import MuseKernelsC

/// How the process's allocator treats freed memory (process_memory.c says why).
public enum ProcessMemory {
  /// Keeps freed blocks in the process for reuse instead of returning them to the system after
  /// every step; call once, before a model runs. Does nothing outside glibc.
  public static func keepFreedMemory() {
    muse_keep_freed_memory()
  }
}
