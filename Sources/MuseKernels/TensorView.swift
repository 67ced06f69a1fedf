/// A read-only view of a 1-, 2- or 3-D tensor stored in ggml layout: `shape[0]` is the
/// innermost (contiguous) dimension, so a weight of shape [in, out] has `out` rows of `in`
/// values, and merged experts [in, out, experts] are `experts` such matrices back to back.
public struct TensorView: @unchecked Sendable {
  /// How a matrix's blocks are ordered in memory.
  public enum Layout: Sendable {
    /// ggml's: row after row.
    case rows
    /// Groups of 16 rows with their blocks interleaved for the 16-row kernels
    /// (InterleavedWeights.swift); only `matmul` reads it, `row(_:)` does not apply.
    case interleaved16
  }

  public let type: GGMLType
  public let data: UnsafeRawPointer
  public let shape: [Int]
  public let layout: Layout
  /// Keeps memory the view does not borrow from a mapped file alive (repacked weights).
  let owner: AnyObject?

  public init(type: GGMLType, data: UnsafeRawPointer, shape: [Int]) {
    self.init(type: type, data: data, shape: shape, layout: .rows, owner: nil)
  }

  init(type: GGMLType, data: UnsafeRawPointer, shape: [Int], layout: Layout, owner: AnyObject?) {
    self.type = type
    self.data = data
    self.shape = shape
    self.layout = layout
    self.owner = owner
  }

  /// Values per row (the innermost dimension).
  public var columns: Int { shape[0] }
  /// Rows across all outer dimensions.
  public var rows: Int { shape.dropFirst().reduce(1, *) }
  public var rowBytes: Int { type.byteCount(values: columns) }
  public var elementCount: Int { shape.reduce(1, *) }
  public var byteCount: Int { rows * rowBytes }

  @inline(__always)
  public func row(_ index: Int) -> UnsafeRawPointer {
    precondition(layout == .rows, "an interleaved weight has no rows in memory")
    return data + index * rowBytes
  }

  /// The `index`-th matrix of a 3-D tensor (one expert of a merged expert tensor).
  public func matrix(_ index: Int) -> TensorView {
    precondition(shape.count == 3, "matrix(_:) needs a 3-D tensor")
    let perMatrix = shape[1] * rowBytes
    return TensorView(
      type: type, data: data + index * perMatrix, shape: [shape[0], shape[1]], layout: layout, owner: owner)
  }
}
