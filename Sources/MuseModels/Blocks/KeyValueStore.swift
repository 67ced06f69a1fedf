import MuseKernels

/// Where attention keeps the keys and values of past positions. The engine owns the storage
/// (and its policy: sessions, reuse, paging); the model only reads and writes rows.
///
/// Storage is addressed by block: logical block `b` of a sequence holds positions
/// `b * blockSize ..< (b + 1) * blockSize`, a multiple of 16. Within a block the rows are
/// head-major, so that attention streams one head's positions from contiguous memory: values
/// [kvHeads × blockSize × valueHeadDim], keys [kvHeads × blockSize / 16 × headDim × 16], each
/// tile of 16 positions with the position fastest (`CachedHead.keyIndex`), so that 16 keys'
/// scores are one vector. A paged cache maps logical blocks to blocks of a shared pool; a
/// contiguous cache is one block.
public protocol KeyValueStore: AnyObject {
  /// Positions the sequence can hold.
  var capacity: Int { get }
  /// Positions per block.
  var blockSize: Int { get }
  /// The element keys and values are stored as.
  var elementType: KVCacheType { get }
  /// The keys of one layer's logical block, [kvHeads × blockSize / 16 × headDim × 16].
  func keys(layer: Int, block: Int) -> UnsafeMutableRawPointer
  /// The [kvHeads × blockSize × valueHeadDim] values of one layer's logical block.
  func values(layer: Int, block: Int) -> UnsafeMutableRawPointer
}

/// A store whose positions are one contiguous block per layer (`muse run`, perplexity, tests),
/// of `capacity` rounded up to whole tiles of 16 positions.
public protocol ContiguousKeyValueStore: KeyValueStore {
  /// The keys of one layer, laid out as one block's.
  func keys(layer: Int) -> UnsafeMutableRawPointer
  /// The [kvHeads × blockSize × valueHeadDim] values of one layer.
  func values(layer: Int) -> UnsafeMutableRawPointer
}

extension ContiguousKeyValueStore {
  public var blockSize: Int { Self.positionsStored(capacity: capacity) }
  /// Positions a contiguous store of `capacity` lays out per layer: whole tiles of 16.
  public static func positionsStored(capacity: Int) -> Int {
    (max(capacity, 1) + attendTile - 1) / attendTile * attendTile
  }
  public func keys(layer: Int, block: Int) -> UnsafeMutableRawPointer { keys(layer: layer) }
  public func values(layer: Int, block: Int) -> UnsafeMutableRawPointer { values(layer: layer) }
}
