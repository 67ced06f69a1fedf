import Foundation

/// A heap buffer of floats with a stable address, for activations and scratch space in the
/// forward pass (where Swift arrays' copy-on-write checks cost more than they give).
public final class FloatBuffer: @unchecked Sendable {
  public let count: Int
  public let pointer: UnsafeMutablePointer<Float>

  public init(count: Int) {
    self.count = count
    pointer = .allocate(capacity: max(count, 1))
    pointer.initialize(repeating: 0, count: max(count, 1))
  }

  public convenience init(_ values: [Float]) {
    self.init(count: values.count)
    values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: values.count) }
  }

  public convenience init(count: Int, copying source: UnsafePointer<Float>) {
    self.init(count: count)
    pointer.update(from: source, count: count)
  }

  deinit { pointer.deallocate() }

  public subscript(_ i: Int) -> Float {
    get { pointer[i] }
    set { pointer[i] = newValue }
  }

  public func row(_ index: Int, width: Int) -> UnsafeMutablePointer<Float> { pointer + index * width }

  public var array: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }

  public func zero() { pointer.update(repeating: 0, count: count) }
}
