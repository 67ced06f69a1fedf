import Foundation
import MuseKernels

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Why a safetensors file or a Hugging Face folder could not be read. Each case names the file
/// and what was wrong, so a person can tell a truncated download from an unsupported model.
public enum SafeTensorsError: Error, CustomStringConvertible, Equatable {
  case cannotOpen(file: String, reason: String)
  case truncated(file: String, needed: Int, size: Int)
  case badHeader(file: String, reason: String)
  case unsupportedDType(file: String, tensor: String, dtype: String)
  case tensorOutOfBounds(file: String, tensor: String, end: Int, dataSize: Int)
  case missingFile(folder: String, file: String)
  case badConfig(file: String, reason: String)
  case unsupportedArchitecture(folder: String, architecture: String, supported: [String])

  public var description: String {
    switch self {
    case .cannotOpen(let file, let reason): "\(file): cannot open: \(reason)"
    case .truncated(let file, let needed, let size):
      "\(file): truncated: the header says the file needs \(needed) bytes but it has \(size)"
    case .badHeader(let file, let reason): "\(file): bad safetensors header: \(reason)"
    case .unsupportedDType(let file, let tensor, let dtype):
      "\(file): tensor '\(tensor)' is \(dtype); Muse reads F32, F16 and BF16 safetensors"
    case .tensorOutOfBounds(let file, let tensor, let end, let dataSize):
      "\(file): tensor '\(tensor)' ends at data byte \(end), past the data section (\(dataSize) bytes)"
    case .missingFile(let folder, let file): "\(folder): missing \(file)"
    case .badConfig(let file, let reason): "\(file): \(reason)"
    case .unsupportedArchitecture(let folder, let architecture, let supported):
      "\(folder): architecture '\(architecture)' is not supported (supported: \(supported.joined(separator: ", ")))"
    }
  }
}

/// One tensor in a safetensors file, in the file's own (row-major, outermost first) order.
public struct SafeTensorInfo: Sendable {
  public let name: String
  /// Row-major: `shape.last` is contiguous. A PyTorch Linear weight is [out, in].
  public let shape: [Int]
  public let type: GGMLType
  /// Offset from the start of the file.
  public let fileOffset: Int
  public var byteCount: Int { type.byteCount(values: shape.reduce(1, *)) }
  /// ggml order (innermost first): [in, out] for a Linear weight, the same bytes.
  public var ggmlShape: [Int] { shape.isEmpty ? [1] : shape.reversed() }
}

/// A tensor whose dtype Muse does not compute with (an encoder checkpoint's I64
/// `embeddings.position_ids` buffer), kept by name so that needing it can be reported as such.
public struct UnreadableTensor: Sendable {
  public let dtype: String
  /// Row-major, as in the file.
  public let shape: [Int]
}

/// A memory-mapped `.safetensors` file (huggingface/safetensors `docs/source/index.mdx`):
/// 8 bytes little-endian header length N, N bytes of JSON `{name: {dtype, shape,
/// data_offsets: [begin, end]}, "__metadata__": {...}}`, then the data, offsets relative to
/// its start. Tensor data is never copied.
public final class SafeTensorsFile: @unchecked Sendable {
  public let path: String
  /// The F32, F16 and BF16 tensors.
  public let tensors: [String: SafeTensorInfo]
  /// Tensors of other dtypes, when the file was opened `allowingOtherDTypes`.
  public let unreadableTensors: [String: UnreadableTensor]
  /// Tensor names in data order.
  public let tensorNames: [String]
  public let userMetadata: [String: String]
  public let fileSize: Int
  let base: UnsafeRawPointer

  /// Refuses a tensor of a dtype other than F32, F16 and BF16 unless `allowingOtherDTypes`,
  /// which lists it in `unreadableTensors` instead (for a caller that reads only some tensors).
  public init(path: String, allowingOtherDTypes: Bool = false) throws {
    self.path = path
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else {
      throw SafeTensorsError.cannotOpen(file: path, reason: String(cString: strerror(errno)))
    }
    defer { close(fd) }
    var st = stat()
    guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
      throw SafeTensorsError.cannotOpen(file: path, reason: "not a regular file")
    }
    let size = Int(st.st_size)
    guard size >= 8 else { throw SafeTensorsError.truncated(file: path, needed: 8, size: size) }
    guard let mapped = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), mapped != MAP_FAILED else {
      throw SafeTensorsError.cannotOpen(
        file: path, reason: "mmap failed: \(String(cString: strerror(errno)))")
    }
    base = UnsafeRawPointer(mapped)
    fileSize = size
    do {
      let headerLength = Int(UInt64(littleEndian: base.loadUnaligned(as: UInt64.self)))
      guard headerLength <= size - 8 else {
        throw SafeTensorsError.truncated(file: path, needed: 8 + headerLength, size: size)
      }
      let json = Data(bytes: base + 8, count: headerLength)
      guard let header = try? JSONSerialization.jsonObject(with: json) as? [String: Any] else {
        throw SafeTensorsError.badHeader(file: path, reason: "the header is not a JSON object")
      }
      let dataStart = 8 + headerLength
      let dataSize = size - dataStart
      var tensors: [String: SafeTensorInfo] = [:]
      var unreadable: [String: UnreadableTensor] = [:]
      var ordered: [(Int, String)] = []
      var meta: [String: String] = [:]
      for (name, value) in header {
        if name == "__metadata__" {
          for (k, v) in value as? [String: Any] ?? [:] { meta[k] = v as? String }
          continue
        }
        guard let entry = value as? [String: Any], let dtype = entry["dtype"] as? String,
          let shape = entry["shape"] as? [Int], let offsets = entry["data_offsets"] as? [Int],
          offsets.count == 2
        else {
          throw SafeTensorsError.badHeader(
            file: path, reason: "entry '\(name)' lacks dtype, shape or data_offsets")
        }
        let readable: GGMLType?
        switch dtype {
        case "F32": readable = .f32
        case "F16": readable = .f16
        case "BF16": readable = .bf16
        default:
          guard allowingOtherDTypes else {
            throw SafeTensorsError.unsupportedDType(file: path, tensor: name, dtype: dtype)
          }
          readable = nil
        }
        guard shape.allSatisfy({ $0 >= 0 }), offsets[0] >= 0, offsets[1] >= offsets[0] else {
          throw SafeTensorsError.badHeader(
            file: path, reason: "entry '\(name)' has a negative size or offset")
        }
        guard offsets[1] <= dataSize else {
          throw SafeTensorsError.tensorOutOfBounds(
            file: path, tensor: name, end: offsets[1], dataSize: dataSize)
        }
        guard let type = readable else {
          unreadable[name] = UnreadableTensor(dtype: dtype, shape: shape)
          continue
        }
        let info = SafeTensorInfo(name: name, shape: shape, type: type, fileOffset: dataStart + offsets[0])
        guard info.byteCount == offsets[1] - offsets[0] else {
          throw SafeTensorsError.badHeader(
            file: path,
            reason:
              "entry '\(name)' spans \(offsets[1] - offsets[0]) bytes, its shape \(shape) needs \(info.byteCount)"
          )
        }
        tensors[name] = info
        ordered.append((offsets[0], name))
      }
      self.tensors = tensors
      unreadableTensors = unreadable
      tensorNames = ordered.sorted { $0 < $1 }.map(\.1)
      userMetadata = meta
    } catch {
      munmap(mapped, size)
      throw error
    }
  }

  deinit { munmap(UnsafeMutableRawPointer(mutating: base), fileSize) }

  /// The tensor's bytes inside the mapping, in ggml shape order.
  public func tensor(_ name: String) -> TensorView? {
    guard let info = tensors[name] else { return nil }
    return TensorView(type: info.type, data: base + info.fileOffset, shape: info.ggmlShape)
  }

  /// Touches every page so the weights are resident.
  func pageIn() -> UInt8 {
    var sum: UInt8 = 0
    var offset = 0
    while offset < fileSize {
      sum &+= base.load(fromByteOffset: offset, as: UInt8.self)
      offset += 4096
    }
    return sum
  }
}

/// All the safetensors of a checkpoint folder: `model.safetensors`, or the shards that
/// `model.safetensors.index.json` (`{"weight_map": {tensor: file}}`) lists.
public final class SafeTensorsCheckpoint: @unchecked Sendable {
  public let folder: String
  public let files: [SafeTensorsFile]
  private let owner: [String: Int]

  public init(folder: String) throws {
    self.folder = folder
    let fm = FileManager.default
    let index = folder + "/model.safetensors.index.json"
    var names: [String]
    if fm.fileExists(atPath: index) {
      guard let data = fm.contents(atPath: index),
        let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
        let map = json["weight_map"] as? [String: String]
      else { throw SafeTensorsError.badConfig(file: index, reason: "no \"weight_map\" object") }
      names = Array(Set(map.values)).sorted()
    } else if fm.fileExists(atPath: folder + "/model.safetensors") {
      names = ["model.safetensors"]
    } else {
      let all = (try? fm.contentsOfDirectory(atPath: folder)) ?? []
      names = all.filter { $0.hasSuffix(".safetensors") }.sorted()
      guard !names.isEmpty else {
        throw SafeTensorsError.missingFile(
          folder: folder, file: "model.safetensors or model.safetensors.index.json")
      }
    }
    var files: [SafeTensorsFile] = []
    var owner: [String: Int] = [:]
    for name in names {
      let path = folder + "/" + name
      guard fm.fileExists(atPath: path) else {
        throw SafeTensorsError.missingFile(folder: folder, file: name)
      }
      let file = try SafeTensorsFile(path: path)
      for t in file.tensorNames { owner[t] = files.count }
      files.append(file)
    }
    self.files = files
    self.owner = owner
  }

  public var tensorNames: [String] { files.flatMap(\.tensorNames) }

  public func info(_ name: String) -> SafeTensorInfo? { owner[name].flatMap { files[$0].tensors[name] } }

  public func tensor(_ name: String) -> TensorView? { owner[name].flatMap { files[$0].tensor(name) } }

  func pageIn(progress: (Double) -> Void) {
    var sum: UInt8 = 0
    for (i, f) in files.enumerated() {
      sum &+= f.pageIn()
      progress(Double(i + 1) / Double(files.count))
    }
    withExtendedLifetime(sum) {}
  }
}
