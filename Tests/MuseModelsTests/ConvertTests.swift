import Foundation
import MuseKernels
import MuseTestSupport
import Testing

@testable import MuseModels

/// `muse convert`'s engine: HF fixture folders → GGUF, read back by Muse's own reader (logits
/// against transformers' golden values, within the quantization's error) and by the `gguf`
/// Python package (Scripts/golden/hf_convert_check.py) when it is installed.
struct ConvertTests {
  static func convert(_ name: String, _ target: HuggingFaceConverter.Target) throws -> (String, URL) {
    let dir = try TestPaths.temporaryDirectory()
    let out = dir.appendingPathComponent("\(name)-\(target.rawValue).gguf").path
    let converter = try HuggingFaceConverter(folder: TestPaths.fixture("hf/" + name), target: target)
    try converter.write(to: out)
    return (out, dir)
  }

  /// Converted files against transformers: logits within `tolerance` × the largest, and the
  /// greedy continuation identical up to the first near-tie the measured error could flip; the
  /// converted tokenizer encodes the prompt as `tokenizers` did. F16 checks the mapping of every
  /// family (names, permutation, stacked experts) with little rounding; Q8_0 is held to 3% on the
  /// fixtures whose routing survives it. (On the random Qwen MoE fixtures, Q8_0 noise flips
  /// near-tied router choices at some positions, which moves those logits by much more.)
  @Test(arguments: [
    ("llama-f32", "q8_0", 0.03), ("llama-bf16-sharded", "q8_0", 0.03), ("mixtral-f32", "q8_0", 0.03),
    ("olmoe-f32", "q8_0", 0.03), ("llama-f32", "f16", 0.005), ("mixtral-f32", "f16", 0.005),
    ("qwen3moe-f16", "f16", 0.005), ("olmoe-f32", "f16", 0.005), ("qwen2moe-f32", "f16", 0.005),
  ])
  func conversionMatchesTransformers(_ name: String, _ type: String, _ tolerance: Float) throws {
    let golden = try HFGolden.load(name)
    let (path, dir) = try Self.convert(name, HuggingFaceConverter.Target(rawValue: type)!)
    defer { try? FileManager.default.removeItem(at: dir) }
    let file = try GGUFFile(path: path)
    let model = try TransformerModel(file: file)
    let (logits, greedy) = try HFModelRun.run(model, prompt: golden.prompt_ids, steps: golden.greedy.count)
    let (worst, scale) = HFModelRun.error(logits, golden)
    #expect(worst <= tolerance * scale, "\(name) \(type): max error \(worst) at scale \(scale)")
    let expected = golden.greedyPrefix(tolerating: worst)
    #expect(
      expected.count >= 6, "\(name): greedy margins \(golden.greedy_margins) too small for error \(worst)")
    #expect(Array(greedy.prefix(expected.count)) == expected, "\(name) \(type)")
    let tokenizer = try Tokenizer(gguf: file)
    #expect(tokenizer.encode(golden.prompt, addSpecial: true) == golden.prompt_ids)
    #expect(file.metadata["tokenizer.chat_template"]?.string?.hasPrefix("{{ bos_token }}") == true)
  }

  @Test func q4_0StaysClose() throws {
    let golden = try HFGolden.load("llama-f32")
    let (path, dir) = try Self.convert("llama-f32", .q4_0)
    defer { try? FileManager.default.removeItem(at: dir) }
    let file = try GGUFFile(path: path)
    #expect(file.tensors["blk.0.attn_q.weight"]?.type == .q4_0)
    #expect(file.tensors["blk.0.attn_norm.weight"]?.type == .f32)
    let model = try TransformerModel(file: file)
    let (logits, _) = try HFModelRun.run(model, prompt: golden.prompt_ids, steps: 1)
    let (worst, scale) = HFModelRun.error(logits, golden)
    #expect(worst <= 0.3 * scale, "q4_0: max error \(worst) at scale \(scale)")
  }

  /// Rows of 32 values cannot be Q4_K (256-value blocks): they fall back to Q8_0 and say so.
  @Test func q4_kFallsBackForShortRows() throws {
    let converter = try HuggingFaceConverter(folder: TestPaths.fixture("hf/llama-f32"), target: .q4_k)
    let q = try #require(converter.plan.first { $0.name == "blk.0.attn_q.weight" })
    #expect(q.type == .q8_0 && q.note != nil)
  }

  /// Q4_K round trip on rows of 512: the kernels' dequantizer reads back what was written.
  @Test func q4_kRoundTrips() {
    var rng = SystemRandomNumberGenerator()
    let n = 512
    let x = (0..<n).map { _ in Float.random(in: -1...1, using: &rng) }
    var block = [UInt8](repeating: 0, count: GGMLType.q4_K.byteCount(values: n))
    var y = [Float](repeating: 0, count: n)
    x.withUnsafeBufferPointer { src in
      block.withUnsafeMutableBytes {
        RowQuantizer.quantize(src.baseAddress!, to: $0.baseAddress!, count: n, type: .q4_K)
      }
    }
    block.withUnsafeBytes { b in
      y.withUnsafeMutableBufferPointer { dequantizeRow(.q4_K, b.baseAddress!, $0.baseAddress!, count: n) }
    }
    let worst = zip(x, y).map { abs($0 - $1) }.max()!
    #expect(worst < 0.1, "Q4_K max error \(worst)")
  }

  /// The `gguf` package reads the file and finds llama.cpp's names, keys and (permuted) weights.
  @Test(arguments: [("llama-f32", "q8_0"), ("llama-bf16-sharded", "q4_0"), ("qwen3moe-f16", "q8_0")])
  func ggufPackageReadsTheFile(_ name: String, _ type: String) throws {
    guard Self.pythonHasGGUF else { return }
    let (path, dir) = try Self.convert(name, HuggingFaceConverter.Target(rawValue: type)!)
    defer { try? FileManager.default.removeItem(at: dir) }
    let (status, output) = Self.python([
      TestPaths.repositoryRoot.appendingPathComponent("Scripts/golden/hf_convert_check.py").path,
      TestPaths.fixture("hf/" + name), path, type,
    ])
    #expect(status == 0, "\(output)")
  }

  static let pythonHasGGUF: Bool = python(["-c", "import gguf, safetensors, torch"]).0 == 0

  static func python(_ arguments: [String]) -> (Int32, String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3"] + arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    do { try process.run() } catch { return (-1, "\(error)") }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
  }
}
