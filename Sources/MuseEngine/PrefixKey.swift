/// The identity of a full block of a token sequence: the hash chain of every block before it
/// and its own tokens. Block i's key covers tokens 0 ..< (i + 1) · blockSize, so equal keys mean
/// equal prefixes and equal keys and values. The tokens are kept and compared, so a hash
/// collision in the block itself cannot hand a sequence another prompt's cache.
struct PrefixKey: Hashable {
  let parent: UInt64
  let tokens: [Int]

  /// The chain value the next block's key starts from (64-bit FNV-1a over parent and tokens).
  var chain: UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    func mix(_ value: UInt64) {
      var v = value
      for _ in 0..<8 {
        h ^= v & 0xff
        h = h &* 0x100_0000_01b3
        v >>= 8
      }
    }
    mix(parent)
    for t in tokens { mix(UInt64(bitPattern: Int64(t))) }
    return h
  }

  /// Keys of the full blocks of `tokens`, at most `limit` of them.
  static func chain(of tokens: [Int], blockSize: Int, limit: Int) -> [PrefixKey] {
    var keys: [PrefixKey] = []
    var parent: UInt64 = 0
    for b in 0..<min(limit, tokens.count / blockSize) {
      let key = PrefixKey(parent: parent, tokens: Array(tokens[b * blockSize..<(b + 1) * blockSize]))
      keys.append(key)
      parent = key.chain
    }
    return keys
  }
}
