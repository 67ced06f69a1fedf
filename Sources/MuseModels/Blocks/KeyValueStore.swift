/// Where attention keeps the keys and values of past positions. The engine owns the storage
/// (and its policy: sessions, reuse, paging); the model only reads and writes rows.
///
/// Storage is addressed by block: logical block `b` of a sequence holds positions
/// `b * blockSize ..< (b + 1) * blockSize`. Within a block the rows are head-major,
/// [kvHeads × blockSize × headDim], so that attention streams one head's positions from
/// contiguous memory (row-major blocks made it a strided, latency-bound walk). A paged cache
/// maps logical blocks to blocks of a shared pool; a contiguous cache is one block.
public protocol KeyValueStore: AnyObject {
  /// Positions the sequence can hold.
  var capacity: Int { get }
  /// Positions per block.
  var blockSize: Int { get }
  /// The [kvHeads × blockSize × headDim] keys of one layer's logical block.
  func keys(layer: Int, block: Int) -> UnsafeMutablePointer<Float>
  /// The [kvHeads × blockSize × valueHeadDim] values of one layer's logical block.
  func values(layer: Int, block: Int) -> UnsafeMutablePointer<Float>
}

/// A store whose positions are one contiguous block per layer (`muse run`, perplexity, tests).
public protocol ContiguousKeyValueStore: KeyValueStore {
  /// The [kvHeads × capacity × headDim] keys of one layer.
  func keys(layer: Int) -> UnsafeMutablePointer<Float>
  /// The [kvHeads × capacity × valueHeadDim] values of one layer.
  func values(layer: Int) -> UnsafeMutablePointer<Float>
}

extension ContiguousKeyValueStore {
  public var blockSize: Int { max(capacity, 1) }
  public func keys(layer: Int, block: Int) -> UnsafeMutablePointer<Float> { keys(layer: layer) }
  public func values(layer: Int, block: Int) -> UnsafeMutablePointer<Float> { values(layer: layer) }
}
