import Foundation
import Testing

@testable import MuseKernels

/// Kernel timings per dispatch level, printed rather than checked (run with
/// `MUSE_KERNEL_BENCH=1 swift test -c release --filter MatMulBenchmarks`). This is the
/// measurement behind keeping the AVX2 / VNNI loops in C (Sources/MuseKernelsC/int8_dot.c).
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["MUSE_KERNEL_BENCH"] != nil))
struct MatMulBenchmarks {
  @Test(arguments: [GGMLType.q4_0, .q8_0, .q4_1, .q4_K, .q6_K])
  func decodeAndPrefill(type: GGMLType) {
    let rows = 2048
    let columns = 2048
    let bytes = randomRows(type, rows: rows, columns: columns, seed: 1)
    let pool = ThreadPool(threads: 1)
    var generator = SeededGenerator(state: 3)
    let x = (0..<64 * columns).map { _ in generator.float() }
    var y = [Float](repeating: 0, count: 64 * rows)
    func median(_ tokens: Int, repetitions: Int) -> Double {
      var times: [Double] = []
      bytes.withUnsafeBytes { raw in
        let w = TensorView(type: type, data: raw.baseAddress!, shape: [columns, rows])
        for _ in 0..<repetitions {
          let start = DispatchTime.now().uptimeNanoseconds
          matmul(w, input: x, tokens: tokens, output: &y, pool: pool)
          times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        }
      }
      return times.sorted()[times.count / 2]
    }
    let gigabytes = Double(bytes.count) / 1e9
    for level in KernelDispatch.available {
      KernelDispatch.force(level)
      let decode = median(1, repetitions: 21)
      let prefill = median(64, repetitions: 5)
      print(
        "\(type.name) \(level): decode \(String(format: "%.3f", decode)) ms "
          + "(\(String(format: "%.1f", gigabytes / decode * 1e3)) GB/s), "
          + "prefill 64 tokens \(String(format: "%.2f", prefill)) ms")
    }
    KernelDispatch.force(nil)
    // The float-activation kernels this replaced, for comparison.
    let decodeFloat: Double = bytes.withUnsafeBytes { raw in
      var times: [Double] = []
      for _ in 0..<21 {
        let start = DispatchTime.now().uptimeNanoseconds
        for r in 0..<rows {
          y[r] = dotRow(type, raw.baseAddress! + r * type.byteCount(values: columns), x, count: columns)
        }
        times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
      }
      return times.sorted()[10]
    }
    print("\(type.name) float activations (dotRow): decode \(String(format: "%.3f", decodeFloat)) ms")
  }

  /// The interleaved kernels on a matrix larger than the last-level cache (decode reads every
  /// byte from memory, as in a model) and on one that fits in L2, with 1 and 2 threads.
  @Test(arguments: [GGMLType.q4_0, .q4_1, .q8_0, .q4_K, .q6_K])
  func interleavedDecode(type: GGMLType) {
    let columns = 2048
    for rows in [512, 32768] {
      let bytes = randomRows(type, rows: rows, columns: columns, seed: 1)
      var generator = SeededGenerator(state: 3)
      let x = (0..<4 * columns).map { _ in generator.float() }
      var y = [Float](repeating: 0, count: 4 * rows)
      bytes.withUnsafeBytes { raw in
        let w = InterleavedWeights.repack(
          TensorView(type: type, data: raw.baseAddress!, shape: [columns, rows]))
        for threads in [1, 2] {
          let pool = ThreadPool(threads: threads)
          for tokens in [1, 4] {
            var times: [Double] = []
            for _ in 0..<15 {
              let start = DispatchTime.now().uptimeNanoseconds
              matmul(w, input: x, tokens: tokens, output: &y, pool: pool)
              times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
            }
            let t = times.sorted()[7]
            print(
              "\(type.name) interleaved \(rows)×\(columns), \(threads) thread(s), \(tokens) token(s): "
                + "\(String(format: "%.3f", t)) ms, \(String(format: "%.1f", Double(bytes.count) / t / 1e6)) GB/s"
            )
          }
        }
      }
    }
  }

  /// The cost of one parallelFor on two threads with (almost) no work: the synchronisation
  /// every one of the ~500 matmuls per decoded token pays.
  @Test func poolOverhead() {
    let pool = ThreadPool(threads: 2)
    let sink = UnsafeMutablePointer<Int>.allocate(capacity: 64)
    defer { sink.deallocate() }
    var times: [Double] = []
    for _ in 0..<5 {
      let start = DispatchTime.now().uptimeNanoseconds
      for _ in 0..<2000 { pool.parallelFor(16) { sink[$0] &+= 1 } }
      times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 2000 / 1e3)
    }
    print("parallelFor(16) on 2 threads: \(String(format: "%.2f", times.sorted()[2])) µs per call")
  }
}
