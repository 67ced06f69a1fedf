import Foundation

/// A one-line progress bar on standard error, drawn only when it is a terminal or the job is
/// long enough to be worth it. With `linesWhenNotTerminal`, standard error that is not a
/// terminal (a log file, CI) gets a plain line at each tenth instead of nothing.
struct ProgressBar {
  let label: String
  private var lastDrawn = -1
  private let enabled: Bool
  private let plainLines: Bool

  init(label: String, enabled: Bool = isatty(STDERR_FILENO) != 0, linesWhenNotTerminal: Bool = false) {
    self.label = label
    self.enabled = enabled
    plainLines = !enabled && linesWhenNotTerminal
  }

  mutating func update(_ fraction: Double, detail: String = "") {
    let percent = Int((min(max(fraction, 0), 1) * 100).rounded(.down))
    if plainLines {
      guard percent / 10 != lastDrawn / 10 || lastDrawn < 0 else { return }
      lastDrawn = percent
      FileHandle.standardError.write(Data("\(label) \(percent)%\(detail)\n".utf8))
      return
    }
    guard enabled else { return }
    guard percent != lastDrawn else { return }
    lastDrawn = percent
    let width = 30
    let filled = width * percent / 100
    let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
    FileHandle.standardError.write(Data("\r\(label) \(bar) \(percent)%\(detail)".utf8))
    if percent >= 100 { FileHandle.standardError.write(Data("\n".utf8)) }
  }
}
