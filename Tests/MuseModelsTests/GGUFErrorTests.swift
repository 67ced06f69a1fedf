import Foundation
import MuseKernels
import MuseTestSupport
import Testing

@testable import MuseModels

/// Bad files give one clear error naming the file, where and what — never a crash.
struct GGUFErrorTests {
  func write(_ bytes: [UInt8], _ name: String = "bad.gguf") throws -> String {
    let url = try TestPaths.temporaryDirectory().appendingPathComponent(name)
    try Data(bytes).write(to: url)
    return url.path
  }

  func error(_ path: String) -> String {
    do {
      _ = try GGUFFile(path: path)
      return "no error"
    } catch {
      return "\(error)"
    }
  }

  @Test func missingFile() {
    let e = error("/nonexistent/model.gguf")
    #expect(e.contains("/nonexistent/model.gguf") && e.contains("cannot open"))
  }

  @Test func wrongMagic() throws {
    let path = try write(Array("GGML\u{3}\0\0\0".utf8) + Array(repeating: 0, count: 16))
    let e = error(path)
    #expect(e.contains(path) && e.contains("not a GGUF file") && e.contains("GGML"), "\(e)")
  }

  @Test func unsupportedVersion() throws {
    var w = GGUFTestWriter()
    w.version = 1
    let e = error(try write(w.bytes()))
    #expect(e.contains("version 1") && e.contains("expected 2 or 3"), "\(e)")
  }

  @Test func truncatedAtEveryPointOfTheHeader() throws {
    var w = GGUFTestWriter()
    w.metadata = [("general.architecture", .string("llama")), ("x", .strings(["a", "b"]))]
    w.tensors = [.init(name: "t", shape: [8], type: 0, data: Array(repeating: 0, count: 32))]
    let full = w.bytes()
    let dir = try TestPaths.temporaryDirectory()
    // Cutting anywhere (header, keys, tensor infos, data) must give an error, never a crash.
    for cut in stride(from: 0, to: full.count, by: 3) {
      let url = dir.appendingPathComponent("cut\(cut).gguf")
      try Data(full.prefix(cut)).write(to: url)
      let e = error(url.path)
      #expect(
        e.contains(url.path) && (e.contains("truncated at offset") || e.contains("past the end")),
        "cut \(cut): \(e)")
    }
  }

  @Test func truncatedRealVocabulary() throws {
    let data = try Data(contentsOf: URL(fileURLWithPath: TestPaths.vocab("llama-spm")))
    let path = try write(Array(data.prefix(data.count / 2)), "half.gguf")
    let e = error(path)
    #expect(e.contains("half.gguf") && e.contains("truncated at offset"), "\(e)")
  }

  @Test func absurdCountsAreRejectedWithoutAllocating() throws {
    var bytes = Array("GGUF".utf8)
    withUnsafeBytes(of: UInt32(3).littleEndian) { bytes += $0 }
    withUnsafeBytes(of: UInt64(0).littleEndian) { bytes += $0 }
    withUnsafeBytes(of: UInt64.max.littleEndian) { bytes += $0 }
    let e = error(try write(bytes))
    #expect(e.contains("metadata count") && e.contains("larger than the file"), "\(e)")
  }

  @Test func unknownValueType() throws {
    var bytes = Array(GGUFTestWriter().bytes().prefix(24))
    bytes[16] = 1  // metadata count = 1
    let key = "k"
    withUnsafeBytes(of: UInt64(key.utf8.count).littleEndian) { bytes += $0 }
    bytes += Array(key.utf8)
    withUnsafeBytes(of: UInt32(99).littleEndian) { bytes += $0 }
    let e = error(try write(bytes))
    #expect(e.contains("'k'") && e.contains("unknown value type 99"), "\(e)")
  }

  @Test func unknownTensorType() throws {
    var w = GGUFTestWriter()
    w.tensors = [.init(name: "w", shape: [32], type: 77, data: Array(repeating: 0, count: 32))]
    let e = error(try write(w.bytes()))
    #expect(e.contains("'w'") && e.contains("unknown ggml type 77"), "\(e)")
  }

  @Test func tensorPastTheEnd() throws {
    var w = GGUFTestWriter()
    w.tensors = [.init(name: "w", shape: [1024], type: 0, data: Array(repeating: 0, count: 64))]
    let e = error(try write(w.bytes()))
    #expect(e.contains("'w'") && e.contains("past the end of the file"), "\(e)")
  }

  @Test func unknownArchitecture() throws {
    var w = GGUFTestWriter()
    w.metadata = [("general.architecture", .string("mamba9"))]
    let file = try GGUFFile(path: try write(w.bytes()))
    #expect {
      try TransformerModel(file: file)
    } throws: { e in
      "\(e)".contains("architecture 'mamba9' is not supported") && "\(e)".contains("olmoe")
    }
  }

  @Test func unsupportedTensorTypeNamesTheTensorAndType() throws {
    var w = GGUFTestWriter()
    let arch = "llama"
    w.metadata = [
      ("general.architecture", .string(arch)), ("\(arch).block_count", .uint32(1)),
      ("\(arch).embedding_length", .uint32(256)), ("\(arch).attention.head_count", .uint32(2)),
      ("\(arch).feed_forward_length", .uint32(256)), ("\(arch).context_length", .uint32(64)),
    ]
    // Q5_K (type 13): readable, inspectable, not computable.
    w.tensors = [
      .init(name: "token_embd.weight", shape: [256, 4], type: 13, data: Array(repeating: 0, count: 176 * 4))
    ]
    let file = try GGUFFile(path: try write(w.bytes()))
    #expect {
      try TransformerModel(file: file)
    } throws: { e in
      "\(e)".contains("'token_embd.weight'") && "\(e)".contains("Q5_K") && "\(e)".contains(file.path)
    }
  }
}
