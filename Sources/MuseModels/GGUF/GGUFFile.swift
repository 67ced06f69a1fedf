import Foundation
import MuseKernels

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Where a tensor lives inside a GGUF file.
public struct GGUFTensorInfo: Sendable {
  public let name: String
  /// ggml order: shape[0] is the innermost dimension.
  public let shape: [Int]
  public let type: GGMLType
  /// Offset from the start of the file.
  public let fileOffset: Int
  public var byteCount: Int { type.byteCount(values: shape.reduce(1, *)) }
  public var elementCount: Int { shape.reduce(1, *) }
}

/// A memory-mapped GGUF file (versions 2 and 3). Tensor data is never copied: views point
/// into the mapping, which lives as long as this object.
public final class GGUFFile: @unchecked Sendable {
  public let path: String
  public let version: UInt32
  public let metadata: [String: GGUFValue]
  /// Metadata keys in file order.
  public let metadataKeys: [String]
  /// Every metadata entry as stored (key length, key, value type and value), in file order,
  /// repeated keys included: what the weights commitment hashes.
  public let metadataEntries: [(key: String, bytes: Range<Int>)]
  public let tensors: [String: GGUFTensorInfo]
  /// Tensor names in file order.
  public let tensorNames: [String]
  public let alignment: Int
  public let fileSize: Int
  private let base: UnsafeRawPointer

  public init(path: String) throws {
    self.path = path
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else {
      throw GGUFError.cannotOpen(file: path, reason: String(cString: strerror(errno)))
    }
    defer { close(fd) }
    var st = stat()
    guard fstat(fd, &st) == 0 else {
      throw GGUFError.cannotOpen(file: path, reason: String(cString: strerror(errno)))
    }
    guard (st.st_mode & S_IFMT) == S_IFREG else {
      throw GGUFError.cannotOpen(file: path, reason: "not a regular file")
    }
    let size = Int(st.st_size)
    guard size >= 4 else {
      throw GGUFError.truncated(file: path, offset: 0, needed: 4 - size, what: "the magic \"GGUF\"")
    }
    guard let mapped = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), mapped != MAP_FAILED else {
      throw GGUFError.cannotOpen(file: path, reason: "mmap failed: \(String(cString: strerror(errno)))")
    }
    self.base = UnsafeRawPointer(mapped)
    self.fileSize = size
    do {
      var reader = GGUFByteReader(base: base, size: size, file: path)
      let header = try Self.readHeader(&reader)
      self.version = header.version
      var metadata: [String: GGUFValue] = [:]
      var keys: [String] = []
      var entries: [(key: String, bytes: Range<Int>)] = []
      for _ in 0..<header.metadataCount {
        let start = reader.offset
        let key = try reader.string(what: "a metadata key")
        let value = try reader.value(key: key)
        entries.append((key, start..<reader.offset))
        // Some published files repeat a key (dbrx repeats general.file_type); the last wins.
        if metadata.updateValue(value, forKey: key) == nil { keys.append(key) }
      }
      self.metadata = metadata
      self.metadataKeys = keys
      self.metadataEntries = entries
      let alignment = metadata["general.alignment"]?.int ?? 32
      guard alignment > 0, alignment & (alignment - 1) == 0 else {
        throw GGUFError.corrupt(
          file: path, offset: reader.offset, reason: "general.alignment \(alignment) is not a power of two")
      }
      self.alignment = alignment
      let infos = try Self.readTensorInfos(&reader, count: header.tensorCount)
      let dataStart = (reader.offset + alignment - 1) / alignment * alignment
      var tensors: [String: GGUFTensorInfo] = [:]
      var names: [String] = []
      for raw in infos {
        guard raw.offset % alignment == 0 else {
          throw GGUFError.corrupt(
            file: path, offset: raw.infoOffset,
            reason:
              "tensor '\(raw.name)' data offset \(raw.offset) is not a multiple of the alignment \(alignment)"
          )
        }
        let info = GGUFTensorInfo(
          name: raw.name, shape: raw.shape, type: raw.type, fileOffset: dataStart + raw.offset)
        let end = info.fileOffset + info.byteCount
        guard end <= size else {
          throw GGUFError.tensorOutOfBounds(file: path, tensor: raw.name, end: end, fileSize: size)
        }
        guard tensors.updateValue(info, forKey: raw.name) == nil else {
          throw GGUFError.corrupt(
            file: path, offset: raw.infoOffset, reason: "duplicate tensor name '\(raw.name)'")
        }
        names.append(raw.name)
      }
      self.tensors = tensors
      self.tensorNames = names
    } catch {
      munmap(mapped, size)
      throw error
    }
  }

  deinit {
    munmap(UnsafeMutableRawPointer(mutating: base), fileSize)
  }

  private static func readHeader(_ reader: inout GGUFByteReader) throws -> (
    version: UInt32, tensorCount: Int, metadataCount: Int
  ) {
    let magic: UInt32 = try reader.scalar(what: "the magic \"GGUF\"")
    guard magic == 0x4655_4747 else {
      let bytes = withUnsafeBytes(of: magic.littleEndian) { Array($0) }
      let shown = bytes.map {
        (0x20..<0x7f).contains($0) ? String(UnicodeScalar($0)) : "\\x" + String($0, radix: 16)
      }
      throw GGUFError.badMagic(file: reader.file, found: "\"" + shown.joined() + "\"")
    }
    let version: UInt32 = try reader.scalar(what: "the version")
    guard version == 2 || version == 3 else {
      throw GGUFError.unsupportedVersion(file: reader.file, version: version)
    }
    let tensorCount = try reader.count(what: "the tensor count", minimumBytesEach: 24)
    let metadataCount = try reader.count(what: "the metadata count", minimumBytesEach: 12)
    return (version, tensorCount, metadataCount)
  }

  private struct RawTensorInfo {
    let name: String
    let shape: [Int]
    let type: GGMLType
    let offset: Int
    let infoOffset: Int
  }

  private static func readTensorInfos(_ reader: inout GGUFByteReader, count: Int) throws -> [RawTensorInfo] {
    var infos: [RawTensorInfo] = []
    infos.reserveCapacity(count)
    for _ in 0..<count {
      let infoOffset = reader.offset
      let name = try reader.string(what: "a tensor name")
      let dims: UInt32 = try reader.scalar(what: "the dimension count of tensor '\(name)'")
      guard (1...4).contains(dims) else {
        throw GGUFError.corrupt(
          file: reader.file, offset: infoOffset,
          reason: "tensor '\(name)' has \(dims) dimensions (expected 1 to 4)")
      }
      var shape: [Int] = []
      for _ in 0..<dims {
        let d: UInt64 = try reader.scalar(what: "a dimension of tensor '\(name)'")
        guard d > 0, d < 1 << 40 else {
          throw GGUFError.corrupt(
            file: reader.file, offset: infoOffset, reason: "tensor '\(name)' has dimension \(d)")
        }
        shape.append(Int(d))
      }
      let rawType: UInt32 = try reader.scalar(what: "the type of tensor '\(name)'")
      guard let type = GGMLType(rawValue: rawType) else {
        throw GGUFError.unknownTensorType(file: reader.file, tensor: name, type: rawType)
      }
      guard shape[0] % type.blockLayout.values == 0 else {
        throw GGUFError.corrupt(
          file: reader.file, offset: infoOffset,
          reason: "tensor '\(name)' row of \(shape[0]) values is not a whole number of \(type.name) blocks")
      }
      let offset: UInt64 = try reader.scalar(what: "the data offset of tensor '\(name)'")
      guard offset < 1 << 48 else {
        throw GGUFError.corrupt(
          file: reader.file, offset: infoOffset, reason: "tensor '\(name)' offset \(offset)")
      }
      infos.append(
        RawTensorInfo(name: name, shape: shape, type: type, offset: Int(offset), infoOffset: infoOffset))
    }
    return infos
  }

  // MARK: - Access

  /// A view of a tensor's data inside the mapping.
  public func tensor(_ name: String) throws -> TensorView {
    guard let info = tensors[name] else { throw GGUFError.missingTensor(file: path, tensor: name) }
    return TensorView(type: info.type, data: base + info.fileOffset, shape: info.shape)
  }

  /// Bytes of the whole mapping, for hashing or streaming.
  public var rawBytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: fileSize) }
}

extension GGUFFile {
  /// Drops the whole pages inside `view` from this process (a read-only private mapping of an
  /// unchanged file: a later read would fault the same bytes back in from the file).
  public func release(_ view: TensorView) {
    let page = Int(sysconf(Int32(_SC_PAGESIZE)))
    let offset = view.data - base
    guard offset >= 0, offset + view.byteCount <= fileSize else { return }
    let start = (offset + page - 1) / page * page
    let end = (offset + view.byteCount) / page * page
    guard end > start else { return }
    madvise(UnsafeMutableRawPointer(mutating: base + start), end - start, Int32(MADV_DONTNEED))
  }

  /// Touches every page of the tensor data so a large model is resident before the first
  /// request (a cold mapping would otherwise page-fault through the first forward pass).
  public func pageIn(progress: (Double) -> Void) {
    let page = 4096
    let bytes = rawBytes
    var sum: UInt8 = 0
    let step = max(bytes.count / 100, page)
    var next = step
    var offset = 0
    while offset < bytes.count {
      sum &+= bytes[offset]
      offset += page
      if offset >= next {
        progress(min(Double(offset) / Double(bytes.count), 1))
        next += step
      }
    }
    progress(1)
    withExtendedLifetime(sum) {}
  }
}
