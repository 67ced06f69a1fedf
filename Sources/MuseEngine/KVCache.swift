import MuseKernels
import MuseModels

/// Contiguous per-layer key and value rows for one sequence, sized to its context window, in
/// huge pages (`HugePageMapping`: attention walks every layer's rows each step), as f32 (the
/// default: what the model computed, exactly) or f16.
public final class KVCache: ContiguousKeyValueStore, @unchecked Sendable {
  public let capacity: Int
  public let elementType: KVCacheType
  public let layers: Int
  /// Bytes held, for reporting.
  public let byteCount: Int
  /// Positions laid out per layer: `capacity` in whole tiles.
  private let stored: Int
  let keyWidth: Int
  let valueWidth: Int
  private let storage: HugePageMapping
  private let keyStorage: UnsafeMutableRawPointer
  private let valueStorage: UnsafeMutableRawPointer
  /// Positions filled so far.
  public var count = 0

  public init(config: TransformerConfig, capacity: Int, type: KVCacheType = .f32) {
    self.capacity = capacity
    elementType = type
    stored = Self.positionsStored(capacity: capacity)
    layers = config.layerCount
    keyWidth = config.keyWidth
    valueWidth = config.valueWidth
    let keyCount = layers * stored * keyWidth
    let count = keyCount + layers * stored * valueWidth
    byteCount = count * type.byteWidth
    storage = HugePageMapping(bytes: byteCount)
    keyStorage = UnsafeMutableRawPointer(storage.bound(to: UInt8.self, count: byteCount))
    valueStorage = keyStorage + keyCount * type.byteWidth
  }

  public func keys(layer: Int) -> UnsafeMutableRawPointer {
    keyStorage + layer * stored * keyWidth * elementType.byteWidth
  }
  public func values(layer: Int) -> UnsafeMutableRawPointer {
    valueStorage + layer * stored * valueWidth * elementType.byteWidth
  }

}
