import Foundation
import MuseKernels

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A memory-mapped `model.safetensors` of an encoder checkpoint. Unlike `SafeTensorsFile` it
/// accepts integer tensors (BERT checkpoints often carry an I64 `embeddings.position_ids`
/// buffer) and only refuses a dtype when a tensor the encoder needs has it.
final class BertWeightsFile: @unchecked Sendable {
  struct Entry {
    let dtype: String
    let shape: [Int]
    let offset: Int
    let byteCount: Int
  }

  let path: String
  let entries: [String: Entry]
  private let base: UnsafeRawPointer
  private let size: Int

  init(path: String) throws {
    self.path = path
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else {
      throw BertEncoderError.badWeights(
        file: path, reason: "cannot open: \(String(cString: strerror(errno)))")
    }
    defer { close(fd) }
    var st = stat()
    guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
      throw BertEncoderError.badWeights(file: path, reason: "not a regular file")
    }
    let size = Int(st.st_size)
    guard size >= 8 else { throw BertEncoderError.badWeights(file: path, reason: "truncated: \(size) bytes") }
    guard let mapped = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), mapped != MAP_FAILED else {
      throw BertEncoderError.badWeights(
        file: path, reason: "mmap failed: \(String(cString: strerror(errno)))")
    }
    base = UnsafeRawPointer(mapped)
    self.size = size
    do {
      let headerLength = Int(UInt64(littleEndian: base.loadUnaligned(as: UInt64.self)))
      guard headerLength >= 0, headerLength <= size - 8 else {
        throw BertEncoderError.badWeights(
          file: path, reason: "truncated: the header needs \(headerLength) bytes, the file has \(size - 8)")
      }
      let json = Data(bytes: base + 8, count: headerLength)
      guard let header = try? JSONSerialization.jsonObject(with: json) as? [String: Any] else {
        throw BertEncoderError.badWeights(file: path, reason: "the safetensors header is not a JSON object")
      }
      let dataStart = 8 + headerLength
      var entries: [String: Entry] = [:]
      for (name, value) in header where name != "__metadata__" {
        guard let e = value as? [String: Any], let dtype = e["dtype"] as? String,
          let shape = e["shape"] as? [Int],
          let offsets = e["data_offsets"] as? [Int], offsets.count == 2, offsets[0] >= 0,
          offsets[1] >= offsets[0],
          shape.allSatisfy({ $0 >= 0 })
        else {
          throw BertEncoderError.badWeights(file: path, reason: "header entry '\(name)' is malformed")
        }
        guard dataStart + offsets[1] <= size else {
          throw BertEncoderError.badWeights(
            file: path, reason: "tensor '\(name)' ends past the end of the file (truncated download?)")
        }
        entries[name] = Entry(
          dtype: dtype, shape: shape, offset: dataStart + offsets[0], byteCount: offsets[1] - offsets[0])
      }
      self.entries = entries
    } catch {
      munmap(mapped, size)
      throw error
    }
  }

  deinit { munmap(UnsafeMutableRawPointer(mutating: base), size) }

  /// The float tensor `name` with HF (row-major, outermost first) shape `shape`, as a ggml-order
  /// view ([in, out] for a Linear weight).
  func tensor(_ name: String, shape: [Int]) throws -> TensorView {
    guard let e = entries[name] else { throw BertEncoderError.missingTensor(file: path, tensor: name) }
    guard e.shape == shape else {
      throw BertEncoderError.badShape(file: path, tensor: name, expected: shape, found: e.shape)
    }
    let type: GGMLType
    switch e.dtype {
    case "F32": type = .f32
    case "F16": type = .f16
    case "BF16": type = .bf16
    default:
      throw BertEncoderError.unsupported(
        file: path, reason: "tensor '\(name)' is \(e.dtype); Muse reads F32, F16 and BF16 weights")
    }
    let view = TensorView(type: type, data: base + e.offset, shape: shape.reversed())
    guard type.byteCount(values: view.elementCount) == e.byteCount else {
      throw BertEncoderError.badWeights(
        file: path,
        reason:
          "tensor '\(name)' spans \(e.byteCount) bytes, its shape \(shape) needs \(type.byteCount(values: view.elementCount))"
      )
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
