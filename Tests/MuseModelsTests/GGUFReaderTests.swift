import Foundation
import MuseKernels
import MuseTestSupport
import Testing

@testable import MuseModels

/// The reader against the `gguf` Python package's view of the same files
/// (Tests/Fixtures/golden/gguf-metadata.json, written by Scripts/golden/gguf_metadata_golden.py).
struct GGUFReaderTests {
  struct GoldenFile: Decodable {
    let file: String
    let version: UInt32
    let alignment: Int
    let keys: [String: GoldenValue]
    let tensors: [GoldenTensor]
  }

  struct GoldenTensor: Decodable {
    let name: String
    let shape: [Int]
    let type: UInt32
    let offset: Int
  }

  enum JSONScalar: Decodable, Equatable {
    case number(Double)
    case string(String)
    case bool(Bool)
    init(from decoder: Decoder) throws {
      let c = try decoder.singleValueContainer()
      if let b = try? c.decode(Bool.self) {
        self = .bool(b)
      } else if let d = try? c.decode(Double.self) {
        self = .number(d)
      } else {
        self = .string(try c.decode(String.self))
      }
    }
  }

  struct GoldenValue: Decodable {
    let type: String
    let value: JSONScalar?
    let count: Int?
    let first: [JSONScalar]?
  }

  static let golden: [GoldenFile] =
    (try? TestPaths.golden("golden/gguf-metadata.json", as: [GoldenFile].self)) ?? []

  /// A golden entry's file: `vocab/ggml-vocab-NAME.gguf` is one of llama.cpp's vocab files
  /// (fetched into the cache by Scripts/fixtures/fetch-vocab.sh), anything else is under the repository.
  static func path(of file: String) throws -> String {
    let prefix = "vocab/ggml-vocab-"
    let suffix = ".gguf"
    if file.hasPrefix(prefix) && file.hasSuffix(suffix) {
      return try TestPaths.vocab(String(file.dropFirst(prefix.count).dropLast(suffix.count)))
    }
    return TestPaths.repositoryRoot.appendingPathComponent(file).path
  }

  func scalar(_ v: GGUFValue) -> JSONScalar? {
    if let s = v.string { return .string(s) }
    if case .bool(let b) = v { return .bool(b) }
    return v.double.map { .number($0) }
  }

  func scalar(_ a: GGUFArray, _ i: Int) -> JSONScalar {
    switch a {
    case .strings(let v): .string(v[i])
    case .integers(let v): .number(Double(v[i]))
    case .floats(let v): .number(v[i])
    case .bools(let v): .bool(v[i])
    case .arrays: .string("?")
    }
  }

  @Test func goldenFilesAreListed() {
    #expect(Self.golden.count >= 4)
  }

  @Test(arguments: golden.map(\.file))
  func metadataMatchesReference(_ name: String) throws {
    let g = try #require(Self.golden.first { $0.file == name })
    let file = try GGUFFile(path: Self.path(of: g.file))
    #expect(file.version == g.version)
    #expect(file.alignment == g.alignment)
    #expect(Set(file.metadata.keys) == Set(g.keys.keys))
    for (key, expected) in g.keys {
      let value = try #require(file.metadata[key])
      if let array = value.array {
        #expect(array.count == expected.count, "\(key)")
        for (i, e) in (expected.first ?? []).enumerated() { #expect(scalar(array, i) == e, "\(key)[\(i)]") }
      } else {
        #expect(scalar(value) == expected.value, "\(key)")
      }
    }
    #expect(file.tensorNames == g.tensors.map(\.name))
    for t in g.tensors {
      let info = try #require(file.tensors[t.name])
      #expect(info.shape == t.shape)
      #expect(info.type.rawValue == t.type)
      #expect(info.fileOffset == t.offset)
    }
  }

  /// llama.cpp's ggml-vocab-dbrx.gguf (3.5 MB, not committed) writes `general.file_type` twice,
  /// a uint32 1 each time; a reader must tolerate that. The same repetition, written here: the
  /// key reads, and so do the keys after it.
  @Test func repeatedKeyIsTolerated() throws {
    var w = GGUFTestWriter(version: 3)
    w.metadata = [
      ("general.architecture", .string("dbrx")), ("general.file_type", .uint32(1)),
      ("general.file_type", .uint32(1)), ("tokenizer.ggml.tokens", .strings((0..<1000).map { "t\($0)" })),
    ]
    let dir = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let file = try GGUFFile(path: try w.write(to: dir, name: "repeated.gguf"))
    #expect(file.metadata["general.file_type"]?.int == 1)
    #expect(file.metadata["general.architecture"]?.string == "dbrx")
    #expect(file.metadata["tokenizer.ggml.tokens"]?.array?.count == 1000)
  }

  @Test func everyValueTypeRoundTrips() throws {
    var w = GGUFTestWriter(version: 2)
    w.metadata = [
      ("u8", .uint8(200)), ("i8", .int8(-5)), ("u16", .uint16(65000)), ("i16", .int16(-300)),
      ("u32", .uint32(4_000_000_000)), ("i32", .int32(-7)), ("f32", .float32(1.5)), ("b", .bool(true)),
      ("s", .string("héllo")), ("u64", .uint64(1 << 40)), ("i64", .int64(-(1 << 40))),
      ("f64", .float64(0.25)),
      ("as", .strings(["a", "", "🙂"])), ("ai", .int32s([1, -2, 3])), ("af", .float32s([0.5, -1])),
      ("general.alignment", .uint32(64)),
    ]
    w.alignment = 64
    w.tensors = [
      .init(name: "a", shape: [4], type: 0, data: Array(repeating: 0, count: 16)),
      .init(name: "b", shape: [32, 2], type: 8, data: Array(repeating: 1, count: 68)),
    ]
    let dir = try TestPaths.temporaryDirectory()
    let file = try GGUFFile(path: try w.write(to: dir, name: "all.gguf"))
    let m = file.metadata
    #expect(file.version == 2)
    #expect(m["u8"]?.int == 200 && m["i8"]?.int == -5 && m["u16"]?.int == 65000 && m["i16"]?.int == -300)
    #expect(m["u32"]?.int == 4_000_000_000 && m["i32"]?.int == -7 && m["f32"]?.double == 1.5)
    #expect(m["b"]?.bool == true && m["s"]?.string == "héllo" && m["u64"]?.int == 1 << 40)
    #expect(m["i64"]?.int == -(1 << 40) && m["f64"]?.double == 0.25)
    #expect(m["as"]?.array == .strings(["a", "", "🙂"]))
    #expect(m["ai"]?.array == .integers([1, -2, 3]))
    #expect(m["af"]?.array == .floats([0.5, -1]))
    #expect(file.alignment == 64)
    let b = try file.tensor("b")
    #expect(b.type == .q8_0 && b.rows == 2 && b.columns == 32)
    #expect(b.data.load(as: UInt8.self) == 1)
    #expect(file.tensors["b"]!.fileOffset % 64 == 0)
  }
}
