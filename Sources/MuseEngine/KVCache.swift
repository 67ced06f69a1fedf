import MuseKernels
import MuseModels

/// Contiguous per-layer key and value rows for one sequence, sized to its context window, in
/// huge pages (`HugePageMapping`: attention walks every layer's rows each step).
public final class KVCache: ContiguousKeyValueStore, @unchecked Sendable {
  public let capacity: Int
  public let layers: Int
  /// Positions laid out per layer: `capacity` in whole tiles.
  private let stored: Int
  let keyWidth: Int
  let valueWidth: Int
  private let storage: HugePageMapping
  private let keyStorage: UnsafeMutablePointer<Float>
  private let valueStorage: UnsafeMutablePointer<Float>
  /// Positions filled so far.
  public var count = 0

  public init(config: TransformerConfig, capacity: Int) {
    self.capacity = capacity
    stored = Self.positionsStored(capacity: capacity)
    layers = config.layerCount
    keyWidth = config.keyWidth
    valueWidth = config.valueWidth
    let keyCount = layers * stored * keyWidth
    let count = keyCount + layers * stored * valueWidth
    storage = HugePageMapping(bytes: count * MemoryLayout<Float>.size)
    keyStorage = storage.bound(to: Float.self, count: count)
    valueStorage = keyStorage + keyCount
  }

  public func keys(layer: Int) -> UnsafeMutablePointer<Float> { keyStorage + layer * stored * keyWidth }
  public func values(layer: Int) -> UnsafeMutablePointer<Float> {
    valueStorage + layer * stored * valueWidth
  }

  /// Bytes held, for reporting.
  public var byteCount: Int { layers * stored * (keyWidth + valueWidth) * MemoryLayout<Float>.size }
}
