import Foundation
import Testing

@testable import MuseKernels

@Suite struct ThreadPoolTests {
  @Test(arguments: [0, 1, 2, 1000])
  func runsEveryIndexExactlyOnce(count: Int) {
    for threads in [1, 2, 3] {
      let pool = ThreadPool(threads: threads)
      let hits = UnsafeMutablePointer<Int>.allocate(capacity: max(count, 1))
      hits.initialize(repeating: 0, count: max(count, 1))
      defer { hits.deallocate() }
      pool.parallelFor(count) { hits[$0] += 1 }
      #expect((0..<count).allSatisfy { hits[$0] == 1 }, "\(threads) threads")
    }
  }

  @Test func canBeCalledRepeatedly() {
    let pool = ThreadPool(threads: 2)
    let hits = UnsafeMutablePointer<Int>.allocate(capacity: 10)
    hits.initialize(repeating: 0, count: 10)
    defer { hits.deallocate() }
    for _ in 0..<1000 {
      pool.parallelFor(10) { hits[$0] += 1 }
    }
    #expect((0..<10).allSatisfy { hits[$0] == 1000 })
  }

  @Test func servesTwoCallersAtOnce() {
    let pool = ThreadPool(threads: 2)
    let callers = 2
    let calls = 300
    let width = 17
    let hits = UnsafeMutablePointer<Int>.allocate(capacity: callers * width)
    hits.initialize(repeating: 0, count: callers * width)
    defer { hits.deallocate() }
    // Each caller owns its slice of `hits`, so only the pool's own scheduling is under test.
    DispatchQueue.concurrentPerform(iterations: callers) { caller in
      for _ in 0..<calls {
        pool.parallelFor(width) { hits[caller * width + $0] += 1 }
      }
    }
    #expect((0..<callers * width).allSatisfy { hits[$0] == calls })
  }

  @Test func sharedPoolUsesEveryCore() {
    #expect(ThreadPool.shared.threadCount == ProcessInfo.processInfo.activeProcessorCount)
  }
}
