/// Where attention keeps the keys and values of past positions. The engine owns the storage
/// (and its policy: sessions, reuse, paging); the model only reads and writes rows.
///
/// Storage is addressed by block: logical block `b` of a sequence holds positions
/// `b * blockSize ..< (b + 1) * blockSize`, as rows contiguous within the block. A paged cache
/// maps logical blocks to blocks of a shared pool; a contiguous cache is one block.
public protocol KeyValueStore: AnyObject {
  /// Positions the sequence can hold.
  var capacity: Int { get }
  /// Positions per block.
  var blockSize: Int { get }
  /// Row-major [blockSize × keyWidth] keys of one layer's logical block.
  func keys(layer: Int, block: Int) -> UnsafeMutablePointer<Float>
  /// Row-major [blockSize × valueWidth] values of one layer's logical block.
  func values(layer: Int, block: Int) -> UnsafeMutablePointer<Float>
}

/// A store whose positions are one contiguous block per layer (`muse run`, perplexity, tests).
public protocol ContiguousKeyValueStore: KeyValueStore {
  /// Row-major [capacity × keyWidth] keys of one layer.
  func keys(layer: Int) -> UnsafeMutablePointer<Float>
  /// Row-major [capacity × valueWidth] values of one layer.
  func values(layer: Int) -> UnsafeMutablePointer<Float>
}

extension ContiguousKeyValueStore {
  public var blockSize: Int { max(capacity, 1) }
  public func keys(layer: Int, block: Int) -> UnsafeMutablePointer<Float> { keys(layer: layer) }
  public func values(layer: Int, block: Int) -> UnsafeMutablePointer<Float> { values(layer: layer) }
}
