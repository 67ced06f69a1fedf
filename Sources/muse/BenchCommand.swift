import ArgumentParser
import Foundation
import MuseEngine
import MuseKernels
import MuseModels

/// `muse bench`: the engine benchmark by default, `muse bench serve` for the server under load.
struct BenchCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bench",
    abstract: "Benchmark the engine (default) or a server under concurrent load (serve).",
    subcommands: [
      BenchEngineCommand.self, BenchServeCommand.self, BenchGuardCommand.self, BenchVerifyCommand.self,
    ],
    defaultSubcommand: BenchEngineCommand.self)
}

struct BenchEngineCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "engine",
    abstract: "Measure prefill and decode tokens/s and compare decode with the memory-bandwidth roofline.")

  @Option(name: .shortAndLong, help: "GGUF model file (default: SmolLM2-135M-Instruct).") var model: String?
  @Option(name: .long, help: "Thread counts, comma-separated.") var threads =
    "\(ProcessInfo.processInfo.activeProcessorCount)"
  @Option(name: .long, help: "Prompt tokens for the prefill test (0 skips it).") var promptTokens = 512
  @Option(name: .long, help: "Generated tokens for the decode test (0 skips it).") var genTokens = 128
  @Option(name: .long, help: "Positions already cached before each test (llama-bench's -d).") var depth = 0
  @Option(name: .long, help: "KV cache element type: f16 (as muse serve and llama-bench) or f32.")
  var kvCacheType: KVCacheType = .f16
  @Option(
    name: .long,
    help:
      "Sequences decoded together, comma-separated (llama-batched-bench's -npl): each batch size is prefilled in one pass and decoded in lockstep, one batched pass per token."
  ) var batch = "1"
  @Option(name: .long, help: "Repetitions of each test.") var repetitions = 3
  @Option(
    name: .long,
    help:
      "Kernel level to run: portable, avx2, vnni (AVX-VNNI) or avx512 (AVX-512 VNNI); on arm64 portable or neon (dotprod); default the best the CPU has, or MUSE_KERNEL_LEVEL."
  ) var kernelLevel: String?
  @Flag(name: .long, help: "Print one JSON object.") var json = false
  @Option(
    name: .long,
    help:
      "A JSON Schema file: also time compiling it and compare decode tokens/s of a sampled chat reply with and without it as a constraint."
  ) var jsonSchema: String?

  func run() throws {
    ProcessMemory.keepFreedMemory()
    try reportingErrors {
      let counts = try positiveIntegers(threads, option: "--threads", example: "1,2")
      let batches = try positiveIntegers(batch, option: "--batch", example: "1,8")
      guard depth >= 0, promptTokens >= 0, genTokens >= 0, repetitions > 0 else {
        throw ValidationError(
          "--depth, --prompt-tokens and --gen-tokens cannot be negative; --repetitions must be positive")
      }
      // Before the model loads: its weights are repacked for the level in force.
      if let kernelLevel { try KernelDispatch.select(name: kernelLevel) }
      let path = try DefaultModel.resolve(model)
      var bar = ProgressBar(
        label: "loading \((path as NSString).lastPathComponent)", enabled: !json && isatty(2) != 0)
      let lm = try LanguageModel(path: path, progress: { bar.update($0) })
      let summary = ModelSummary(file: lm.model.file)
      let config = lm.model.config
      // Decode also reads the cached keys and values, at the test's mean context length.
      let cacheBytes = config.cacheBytesPerPosition(kvCacheType) * (depth + genTokens / 2)
      var report = BenchReport(
        model: (path as NSString).lastPathComponent, activeBytesPerToken: summary.activeBytes,
        cacheBytesPerToken: cacheBytes, depth: depth, promptTokens: promptTokens, generatedTokens: genTokens,
        cpu: KernelDispatch.cpuDescription, kernelLevel: KernelDispatch.selected.name,
        kernelPaths: summary.quantizationMix.map {
          (type: $0.type.name, path: KernelDispatch.kernelPath(for: $0.type))
        })
      if !json { report.printKernels() }
      for t in counts {
        for b in batches {
          // Shared machines drift by tens of percent between minutes: the mean of a reading
          // before and one after the runs describes the runs better than either alone.
          let before = MemoryBandwidth.measureRead(threads: t)
          let sample = try lm.measureThroughput(
            threads: t, promptTokens: promptTokens, generatedTokens: genTokens, repetitions: repetitions,
            depth: depth, kvCacheType: kvCacheType, batch: b)
          let after = MemoryBandwidth.measureRead(threads: t)
          report.add(sample, bandwidth: (before + after) / 2)
          if !json { report.printRow(report.rows.last!) }
        }
      }
      if let jsonSchema {
        report.constraint = try ConstraintBench.measure(
          lm, schemaPath: jsonSchema, tokens: max(genTokens, 1), repetitions: repetitions)
        if !json { report.constraint!.printSummary() }
      }
      if json {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        print(String(decoding: try encoder.encode(report), as: UTF8.self))
      }
    }
  }
}

struct BenchReport: Encodable {
  struct Row: Encodable {
    let threads: Int
    let batch: Int
    let prefill: Stats?
    let decode: Stats?
    let bandwidthGBs: Double
    let rooflineTokensPerSecond: Double
    let rooflineFraction: Double?
  }

  struct Stats: Encodable {
    let min: Double
    let median: Double
    let max: Double
    init?(_ v: [Double]) {
      guard !v.isEmpty else { return nil }
      let s = v.sorted()
      min = s.first!
      max = s.last!
      median = s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
  }

  let model: String
  let activeBytesPerToken: Int
  let cacheBytesPerToken: Int
  let depth: Int
  let promptTokens: Int
  let generatedTokens: Int
  /// The CPU's name and the instruction sets seen, the kernel level run and, per tensor type in
  /// the file (largest first), how its matmuls run.
  let cpu: String
  let kernelLevel: String
  let kernelPaths: [(type: String, path: String)]
  var rows: [Row] = []
  var constraint: ConstraintBench?

  // swiftlint:disable identifier_name
  enum CodingKeys: String, CodingKey {
    case model
    case activeBytesPerToken = "active_bytes_per_token"
    case cacheBytesPerToken = "kv_cache_bytes_per_token"
    case depth
    case promptTokens = "prompt_tokens"
    case generatedTokens = "gen_tokens"
    case rows = "runs"
    case cpu
    case kernelLevel = "kernel_level"
    case kernelPaths = "kernel_paths"
    case prefill_tps, decode_tps
    case constraint
    case rooflineFraction = "roofline_fraction"
  }

  /// Medians at the largest thread count and the first batch size, the numbers scripts compare.
  var headline: Row? { rows.filter { $0.batch == rows.first?.batch }.max { $0.threads < $1.threads } }

  func encode(to encoder: Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(model, forKey: .model)
    try c.encode(activeBytesPerToken, forKey: .activeBytesPerToken)
    try c.encode(cacheBytesPerToken, forKey: .cacheBytesPerToken)
    try c.encode(depth, forKey: .depth)
    try c.encode(promptTokens, forKey: .promptTokens)
    try c.encode(generatedTokens, forKey: .generatedTokens)
    try c.encode(rows, forKey: .rows)
    try c.encodeIfPresent(headline?.prefill?.median, forKey: .prefill_tps)
    try c.encodeIfPresent(headline?.decode?.median, forKey: .decode_tps)
    try c.encodeIfPresent(constraint, forKey: .constraint)
    try c.encodeIfPresent(headline?.rooflineFraction, forKey: .rooflineFraction)
    try c.encode(cpu, forKey: .cpu)
    try c.encode(kernelLevel, forKey: .kernelLevel)
    try c.encode(
      Dictionary(kernelPaths.map { ($0.type, $0.path) }, uniquingKeysWith: { a, _ in a }),
      forKey: .kernelPaths)
  }

  func printKernels() {
    print("cpu: \(cpu)")
    print("kernel level: \(kernelLevel)")
    for (type, path) in kernelPaths { print("  \(type): \(path)") }
  }

  mutating func add(_ s: ThroughputSample, bandwidth: Double) {
    // A batched pass reads the weights once and each sequence's cache: B tokens per pass.
    let roofline =
      Double(s.batch) * bandwidth / Double(max(activeBytesPerToken + s.batch * cacheBytesPerToken, 1))
    let decode = Stats(s.decodeTokensPerSecond)
    rows.append(
      Row(
        threads: s.threads, batch: s.batch, prefill: Stats(s.prefillTokensPerSecond), decode: decode,
        bandwidthGBs: bandwidth / 1e9,
        rooflineTokensPerSecond: roofline, rooflineFraction: decode.map { $0.median / roofline }))
  }

  func printRow(_ r: Row) {
    func f(_ s: Stats?) -> String {
      s.map { String(format: "%8.2f (%.2f–%.2f)", $0.median, $0.min, $0.max) } ?? "       –"
    }
    if rows.count == 1 {
      print(
        "model \(model): \(String(format: "%.1f", Double(activeBytesPerToken) / 1e6)) MB of weights and "
          + "\(String(format: "%.1f", Double(cacheBytesPerToken) / 1e6)) MB of KV cache read per token"
          + (depth > 0 ? " (depth \(depth))" : ""))
      print(
        "threads | batch | prefill tok/s (pp\(promptTokens))   | decode tok/s (tg\(generatedTokens))    | read GB/s | roofline tok/s | decode/roofline"
      )
    }
    print(
      String(
        format: "%7d | %5d | %@ | %@ | %9.2f | %14.2f | %.0f%%", r.threads, r.batch, f(r.prefill),
        f(r.decode),
        r.bandwidthGBs,
        r.rooflineTokensPerSecond, (r.rooflineFraction ?? 0) * 100))
  }
}
