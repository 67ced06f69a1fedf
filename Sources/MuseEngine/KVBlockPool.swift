import Foundation
import MuseKernels
import MuseModels

/// Fixed-size key/value blocks shared by every sequence of one model, within a memory budget
/// set once. Blocks are refcounted; a full block can also be kept as a prefix-cache entry,
/// keyed by the hash chain of its tokens, and is then reused by later sequences with the same
/// prefix until the pool needs the space (least recently released first).
///
/// Not thread-safe for allocation: the scheduler's thread owns it. `statistics` may be read
/// from any thread.
public final class KVBlockPool: @unchecked Sendable {
  public struct Statistics: Sendable, Equatable {
    public var blocksTotal: Int
    /// Blocks some sequence holds.
    public var blocksInUse: Int
    /// Prompt tokens whose keys and values came from the prefix cache.
    public var prefixHitTokens: Int
    /// Prompt tokens that were prefilled.
    public var prefixMissTokens: Int
    /// Running sequences that gave their blocks back for older ones to grow (and re-prefill).
    public var preemptions = 0
  }

  public let blockSize: Int
  public let blockCount: Int
  public let elementType: KVCacheType
  let keyWidth: Int
  /// Huge pages: a step reads blocks of every layer of every running sequence, scattered over
  /// the pool, and 4 KB pages made that a TLB miss per block per layer. Block-major (each
  /// block's keys and values of every layer together) so that a new block touches at most one
  /// fresh huge page: layer-major, 8 new sequences faulted in (and zeroed) 60 huge pages each.
  private let storage: HugePageMapping
  private let base: UnsafeMutableRawPointer
  /// Bytes per block over all layers, and per layer of a block (keys, then values).
  private let blockBytes: Int
  private let layerBytes: Int

  private var free: [Int]
  private var references: [Int]
  private var entries: [PrefixKey: Int] = [:]
  private var keyOfBlock: [PrefixKey?]
  /// Cached blocks no sequence holds, oldest release first: the eviction order.
  private var evictable = LinkedBlockList()

  private let statisticsLock = NSLock()
  private var stats: Statistics

  /// Bytes one block takes over all layers.
  public static func bytesPerBlock(config: TransformerConfig, blockSize: Int, type: KVCacheType = .f32) -> Int
  {
    blockSize * config.cacheBytesPerPosition(type)
  }

  /// A pool of as many blocks as `bytes` holds. The memory is reserved but only touched, and
  /// so only resident, as sequences write into it.
  public init(config: TransformerConfig, blockSize: Int = 16, bytes: Int, type: KVCacheType = .f32) throws {
    let multiple = TransformerModel.blockSizeMultiple
    guard blockSize > 0, blockSize % multiple == 0 else {
      throw KVCacheError.invalidBlockSize(blockSize, multiple: multiple)
    }
    let perBlock = Self.bytesPerBlock(config: config, blockSize: blockSize, type: type)
    guard bytes >= perBlock else {
      throw KVCacheError.budgetTooSmall(bytes: bytes, blockBytes: perBlock)
    }
    self.blockSize = blockSize
    elementType = type
    blockCount = bytes / perBlock
    keyWidth = config.keyWidth
    blockBytes = perBlock
    layerBytes = perBlock / config.layerCount
    storage = HugePageMapping(bytes: blockCount * blockBytes)
    base = UnsafeMutableRawPointer(storage.bound(to: UInt8.self, count: blockCount * blockBytes))
    free = Array((0..<blockCount).reversed())
    references = Array(repeating: 0, count: blockCount)
    keyOfBlock = Array(repeating: nil, count: blockCount)
    evictable = LinkedBlockList(capacity: blockCount)
    stats = Statistics(blocksTotal: blockCount, blocksInUse: 0, prefixHitTokens: 0, prefixMissTokens: 0)
  }

  public var statistics: Statistics { statisticsLock.withLock { stats } }

  /// Bytes the pool holds (all blocks).
  public var byteCount: Int { blockCount * blockBytes }

  func keys(layer: Int, block: Int) -> UnsafeMutableRawPointer {
    base + block * blockBytes + layer * layerBytes
  }

  func values(layer: Int, block: Int) -> UnsafeMutableRawPointer {
    base + block * blockBytes + layer * layerBytes + blockSize * keyWidth * elementType.byteWidth
  }

  /// Blocks an allocation could get now: free ones and cached ones nobody holds.
  var available: Int { free.count + evictable.count }

  /// `count` blocks for one sequence, or nil (taking none) when the pool cannot give them.
  func allocate(_ count: Int) -> [Int]? {
    guard count <= available else { return nil }
    var blocks: [Int] = []
    blocks.reserveCapacity(count)
    for _ in 0..<count {
      if let block = free.popLast() {
        blocks.append(block)
      } else {
        let block = evictable.removeFirst()
        if let key = keyOfBlock[block] { entries[key] = nil }
        keyOfBlock[block] = nil
        blocks.append(block)
      }
    }
    for block in blocks { references[block] = 1 }
    updateInUse(by: count)
    return blocks
  }

  /// The cached blocks holding the longest prefix of `keys`, each now held once more.
  func retainPrefix(_ keys: [PrefixKey]) -> [Int] {
    var blocks: [Int] = []
    for key in keys {
      guard let block = entries[key] else { break }
      if references[block] == 0 {
        evictable.remove(block)
        updateInUse(by: 1)
      }
      references[block] += 1
      blocks.append(block)
    }
    return blocks
  }

  /// Offers a full block for reuse by later sequences with the same prefix; a block with the
  /// same key already cached wins.
  func register(_ block: Int, key: PrefixKey) {
    guard entries[key] == nil, keyOfBlock[block] == nil else { return }
    entries[key] = block
    keyOfBlock[block] = key
  }

  /// Lets go of a sequence's blocks: cached ones become evictable, the rest free.
  func release(_ blocks: [Int]) {
    var released = 0
    for block in blocks {
      references[block] -= 1
      guard references[block] == 0 else { continue }
      released += 1
      if keyOfBlock[block] != nil {
        evictable.append(block)
      } else {
        free.append(block)
      }
    }
    updateInUse(by: -released)
  }

  func recordPreemption() {
    statisticsLock.withLock { stats.preemptions += 1 }
  }

  func recordPrefix(hitTokens: Int, missTokens: Int) {
    statisticsLock.withLock {
      stats.prefixHitTokens += hitTokens
      stats.prefixMissTokens += missTokens
    }
  }

  private func updateInUse(by delta: Int) {
    statisticsLock.withLock { stats.blocksInUse += delta }
  }
}

public enum KVCacheError: Error, CustomStringConvertible, Equatable {
  case invalidBlockSize(Int, multiple: Int)
  case budgetTooSmall(bytes: Int, blockBytes: Int)

  public var description: String {
    switch self {
    case .invalidBlockSize(let size, let multiple):
      "KV cache block size \(size) must be a positive multiple of \(multiple)"
    case .budgetTooSmall(let bytes, let blockBytes):
      "a KV cache budget of \(bytes) bytes cannot hold one block (\(blockBytes) bytes)"
    }
  }
}

/// Blocks in release order with O(1) removal from the middle (a block reused by a prefix hit
/// leaves the eviction queue wherever it is).
struct LinkedBlockList {
  private var next: [Int]
  private var previous: [Int]
  private var member: [Bool]
  private var head = -1
  private var tail = -1
  private(set) var count = 0

  init(capacity: Int = 0) {
    next = Array(repeating: -1, count: capacity)
    previous = Array(repeating: -1, count: capacity)
    member = Array(repeating: false, count: capacity)
  }

  mutating func append(_ block: Int) {
    previous[block] = tail
    next[block] = -1
    if tail >= 0 { next[tail] = block } else { head = block }
    tail = block
    member[block] = true
    count += 1
  }

  mutating func remove(_ block: Int) {
    guard member[block] else { return }
    if previous[block] >= 0 { next[previous[block]] = next[block] } else { head = next[block] }
    if next[block] >= 0 { previous[next[block]] = previous[block] } else { tail = previous[block] }
    member[block] = false
    count -= 1
  }

  mutating func removeFirst() -> Int {
    let block = head
    remove(block)
    return block
  }
}
