/// Where attention keeps the keys and values of past positions. The engine owns the storage
/// (and its policy: sessions, reuse, paging); the model only reads and writes rows.
public protocol KeyValueStore: AnyObject {
  /// Positions each layer can hold.
  var capacity: Int { get }
  /// Row-major [capacity × keyWidth] keys of one layer.
  func keys(layer: Int) -> UnsafeMutablePointer<Float>
  /// Row-major [capacity × valueWidth] values of one layer.
  func values(layer: Int) -> UnsafeMutablePointer<Float>
}
