import Foundation
import MuseKernelsC

/// A fixed set of worker threads for data-parallel loops. Workers live as long as the pool and
/// sleep on a condition variable between calls, so a `parallelFor` costs a wake-up, not a
/// thread spawn — it runs hundreds of times per generated token. Workers (and the caller
/// waiting for the last batches) first spin for `MUSE_POOL_SPIN` pause hints (default 3,000,
/// ~0.1 ms) before sleeping, which saves the tens of microseconds a wake-up costs when every
/// core is free: OLMoE-shaped Q4_0 decode on 2 threads, 3 runs each, 32.8 / 32.8 tok/s without
/// and 37.5 / 35.1 with (on a machine loaded by other builds spinning gained nothing, so set
/// `MUSE_POOL_SPIN=0` where cores are oversubscribed).
public final class ThreadPool: @unchecked Sendable {
  public static let shared = ThreadPool()

  public let threadCount: Int
  /// Serialises callers: one loop runs on the pool at a time.
  private let callerLock = NSLock()
  private let state: PoolState

  public init(threads: Int = ProcessInfo.processInfo.activeProcessorCount) {
    threadCount = max(1, threads)
    state = PoolState()
    for index in 1..<threadCount {
      let worker = Thread { [state] in state.workerLoop() }
      worker.name = "muse-pool-\(index)"
      worker.start()
    }
  }

  deinit { state.shutdown() }

  /// Runs `body(i)` for every i in 0..<count across the pool (the calling thread takes part)
  /// and returns when all are done. Indices are handed out in small batches on demand, so
  /// uneven work balances itself. Calling it from inside `body` deadlocks.
  public func parallelFor(_ count: Int, _ body: (Int) -> Void) {
    if threadCount == 1 || count <= 1 {
      for i in 0..<count { body(i) }
      return
    }
    callerLock.lock()
    defer { callerLock.unlock() }
    // Guided batches: each takes a share of what is left (1 / (2 × threads)), so early batches
    // are large (few handouts) and the last ones single indices (threads finish together;
    // fixed eighths left one thread idle for ~1/16 of every loop on average).
    let share = 2 * threadCount
    withoutActuallyEscaping(body) { job in state.run(job, count: count, share: share) }
  }
}

/// The shared state between the caller and workers, kept apart from `ThreadPool` so the
/// workers' references do not keep the pool alive.
private final class PoolState: @unchecked Sendable {
  private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
  /// Signalled when a new job is posted (or on shutdown).
  private let jobPosted = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
  /// Signalled when the last running batch of a job finishes.
  private let jobDone = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

  /// Copies of `generation`, `running` and `stopping` (as 0/1) readable without the mutex, for
  /// spinning; written under the mutex whenever the originals change.
  private let mirrors = UnsafeMutablePointer<CLong>.allocate(capacity: 3)
  private var generationMirror: UnsafeMutablePointer<CLong> { mirrors }
  private var runningMirror: UnsafeMutablePointer<CLong> { mirrors + 1 }
  private var stoppingMirror: UnsafeMutablePointer<CLong> { mirrors + 2 }
  /// Spin iterations (each a CPU pause hint, ~10–40 ns) before sleeping, from `MUSE_POOL_SPIN`.
  private let spinLimit = ProcessInfo.processInfo.environment["MUSE_POOL_SPIN"].flatMap { Int($0) } ?? 3000

  // All below are guarded by `mutex`.
  private var generation = 0
  private var job: ((Int) -> Void)?
  private var next = 0
  private var count = 0
  private var share = 1
  private var running = 0
  private var stopping = false

  init() {
    pthread_mutex_init(mutex, nil)
    pthread_cond_init(jobPosted, nil)
    pthread_cond_init(jobDone, nil)
    mirrors.initialize(repeating: 0, count: 3)
  }

  // Workers hold the state strongly, so this runs only after every worker left its loop.
  deinit {
    pthread_cond_destroy(jobDone)
    pthread_cond_destroy(jobPosted)
    pthread_mutex_destroy(mutex)
    mirrors.deallocate()
    jobDone.deallocate()
    jobPosted.deallocate()
    mutex.deallocate()
  }

  func shutdown() {
    pthread_mutex_lock(mutex)
    stopping = true
    muse_atomic_store(stoppingMirror, 1)
    pthread_cond_broadcast(jobPosted)
    pthread_mutex_unlock(mutex)
  }

  /// Posts `job`, works on it from the calling thread, and waits for batches still running.
  func run(_ job: @escaping (Int) -> Void, count: Int, share: Int) {
    pthread_mutex_lock(mutex)
    self.job = job
    self.count = count
    self.share = share
    next = 0
    generation &+= 1
    muse_atomic_store(generationMirror, generation)
    pthread_cond_broadcast(jobPosted)
    drain(job)
    if running > 0 {
      pthread_mutex_unlock(mutex)
      spin { muse_atomic_load(runningMirror) == 0 }
      pthread_mutex_lock(mutex)
    }
    while running > 0 { pthread_cond_wait(jobDone, mutex) }
    self.job = nil
    pthread_mutex_unlock(mutex)
  }

  /// Takes batches until none are left. Called and returns with `mutex` held.
  private func drain(_ job: (Int) -> Void) {
    while next < count {
      let start = next
      let end = start + max(1, (count - start) / share)
      next = end
      running += 1
      muse_atomic_store(runningMirror, running)
      pthread_mutex_unlock(mutex)
      for i in start..<end { job(i) }
      pthread_mutex_lock(mutex)
      running -= 1
      muse_atomic_store(runningMirror, running)
    }
    if running == 0 { pthread_cond_signal(jobDone) }
  }

  /// Spins until `done()` or the spin limit.
  @inline(__always)
  private func spin(until done: () -> Bool) {
    var spins = 0
    while !done() && spins < spinLimit {
      muse_spin_pause()
      spins += 1
    }
  }

  func workerLoop() {
    pthread_mutex_lock(mutex)
    var seen = generation
    while true {
      if generation == seen && !stopping {
        pthread_mutex_unlock(mutex)
        spin { muse_atomic_load(generationMirror) != seen || muse_atomic_load(stoppingMirror) != 0 }
        pthread_mutex_lock(mutex)
      }
      while generation == seen && !stopping { pthread_cond_wait(jobPosted, mutex) }
      if stopping { break }
      seen = generation
      // A worker that wakes after the caller finished finds no job (or no batches) and sleeps.
      if let job { drain(job) }
    }
    pthread_mutex_unlock(mutex)
  }
}
