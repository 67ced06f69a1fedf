import Foundation

/// A one-line progress bar on standard error, drawn only when it is a terminal or the job is
/// long enough to be worth it.
struct ProgressBar {
  let label: String
  private var lastDrawn = -1
  private let enabled: Bool

  init(label: String, enabled: Bool = isatty(STDERR_FILENO) != 0) {
    self.label = label
    self.enabled = enabled
  }

  mutating func update(_ fraction: Double) {
    guard enabled else { return }
    let percent = Int((fraction * 100).rounded(.down))
    guard percent != lastDrawn else { return }
    lastDrawn = percent
    let width = 30
    let filled = width * percent / 100
    let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
    FileHandle.standardError.write(Data("\r\(label) \(bar) \(percent)%".utf8))
    if percent >= 100 { FileHandle.standardError.write(Data("\n".utf8)) }
  }
}
