import Foundation
import MuseKernels

/// The `model.safetensors` of an encoder checkpoint, read through `SafeTensorsFile`. BERT
/// checkpoints often carry an I64 `embeddings.position_ids` buffer, so other dtypes are accepted
/// and a dtype is refused only when a tensor the encoder needs has it; each tensor is checked
/// against the shape the config implies.
struct BertWeights: Sendable {
  let file: SafeTensorsFile

  init(path: String) throws {
    file = try SafeTensorsFile(path: path, allowingOtherDTypes: true)
  }

  var path: String { file.path }

  func contains(_ name: String) -> Bool { file.tensors[name] != nil || file.unreadableTensors[name] != nil }

  /// The float tensor `name` with HF (row-major, outermost first) shape `shape`, as a ggml-order
  /// view ([in, out] for a Linear weight).
  func tensor(_ name: String, shape: [Int]) throws -> TensorView {
    if let other = file.unreadableTensors[name] {
      guard other.shape == shape else {
        throw BertEncoderError.badShape(file: path, tensor: name, expected: shape, found: other.shape)
      }
      throw BertEncoderError.unsupported(
        file: path, reason: "tensor '\(name)' is \(other.dtype); Muse reads F32, F16 and BF16 weights")
    }
    guard let info = file.tensors[name], let view = file.tensor(name) else {
      throw BertEncoderError.missingTensor(file: path, tensor: name)
    }
    guard info.shape == shape else {
      throw BertEncoderError.badShape(file: path, tensor: name, expected: shape, found: info.shape)
    }
    return view
  }

  /// A 1-D (or small) tensor expanded to floats.
  func floats(_ name: String, count: Int) throws -> [Float] {
    let view = try tensor(name, shape: [count])
    var out = [Float](repeating: 0, count: count)
    out.withUnsafeMutableBufferPointer { dequantizeRow(view.type, view.data, $0.baseAddress!, count: count) }
    return out
  }
}
