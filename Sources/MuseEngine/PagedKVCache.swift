import MuseKernels
import MuseModels

/// One sequence's view of the pool: its block table maps logical blocks to pool blocks.
final class PagedKVCache: KeyValueStore, @unchecked Sendable {
  let pool: KVBlockPool
  private(set) var blocks: [Int]

  init(pool: KVBlockPool, blocks: [Int]) {
    self.pool = pool
    self.blocks = blocks
  }

  var capacity: Int { blocks.count * pool.blockSize }

  /// One more block at the end, as the sequence grows.
  func append(_ block: Int) { blocks.append(block) }
  var blockSize: Int { pool.blockSize }
  var elementType: KVCacheType { pool.elementType }
  func keys(layer: Int, block: Int) -> UnsafeMutableRawPointer {
    pool.keys(layer: layer, block: blocks[block])
  }
  func values(layer: Int, block: Int) -> UnsafeMutableRawPointer {
    pool.values(layer: layer, block: blocks[block])
  }
}
