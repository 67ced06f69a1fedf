import Foundation
import MuseStore

/// Slows password guessing and keeps a flood of sign-ins from taking the CPU from inference.
///
/// Failures are counted per account and per client address; after `freeFailures` in a row
/// each further attempt must wait twice as long as the last (1 s, 2 s, 4 s … up to 15 min),
/// and is answered 429 with `Retry-After` until then. A success clears the account's and the
/// address's count. Password hashes (PBKDF2, 600,000 rounds) are computed one at a time on a
/// thread of their own, never on the event loops; when `maxWaiting` attempts already wait
/// for it, more are refused at once with 429.
public actor LoginThrottle {
  public static let freeFailures = 5
  public static let longestWait: TimeInterval = 15 * 60

  struct Failures {
    var count = 0
    var blockedUntil = Date.distantPast
  }

  private let now: @Sendable () -> Date
  private let maxWaiting: Int
  private var byAccount: [String: Failures] = [:]
  private var byAddress: [String: Failures] = [:]
  private var waiting = 0
  private let queue = DispatchQueue(label: "muse.password-hashing")

  public init(maxWaiting: Int = 16, now: @escaping @Sendable () -> Date = Date.init) {
    self.maxWaiting = maxWaiting
    self.now = now
  }

  /// Seconds to wait before `account` may try again from `address`, or nil if it may now.
  public func retryAfter(account: String, address: String) -> Int? {
    let t = now()
    let until = max(
      byAccount[account.lowercased()]?.blockedUntil ?? .distantPast,
      byAddress[address]?.blockedUntil ?? .distantPast)
    guard until > t else { return nil }
    return max(Int(until.timeIntervalSince(t).rounded(.up)), 1)
  }

  public func failed(account: String, address: String) {
    let t = now()
    Self.fail(&byAccount[account.lowercased(), default: Failures()], at: t)
    Self.fail(&byAddress[address, default: Failures()], at: t)
  }

  public func succeeded(account: String, address: String) {
    byAccount[account.lowercased()] = nil
    byAddress[address] = nil
  }

  private static func fail(_ f: inout Failures, at t: Date) {
    f.count += 1
    guard f.count > freeFailures else { return }
    let wait = min(pow(2, Double(min(f.count - freeFailures - 1, 20))), longestWait)
    f.blockedUntil = t.addingTimeInterval(wait)
  }

  /// Runs a password check on the hashing thread; nil when too many already wait for it.
  public func hashing<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T? {
    guard waiting < maxWaiting else { return nil }
    waiting += 1
    defer { waiting -= 1 }
    return await withCheckedContinuation { continuation in
      queue.async { continuation.resume(returning: work()) }
    }
  }
}
