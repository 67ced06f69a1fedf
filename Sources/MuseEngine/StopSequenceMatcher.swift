/// Finds stop sequences in streamed text while holding back any tail that could still
/// become one, so no part of a stop sequence is ever sent to the client.
public struct StopSequenceMatcher: Sendable {
  public let stops: [String]
  private var text = ""
  private var emitted = 0

  public init(stops: [String]) { self.stops = stops.filter { !$0.isEmpty } }

  /// Adds generated text; returns what is now safe to send and whether a stop sequence ended it.
  public mutating func append(_ piece: String) -> (text: String, stopped: Bool) {
    text += piece
    if let cut = stops.compactMap({ text.range(of: $0) }).min(by: { $0.lowerBound < $1.lowerBound }) {
      let end = text.distance(from: text.startIndex, to: cut.lowerBound)
      return (take(upTo: max(end, emitted)), true)
    }
    var safe = text.count
    for stop in stops {
      for length in stride(from: min(stop.count - 1, text.count), to: 0, by: -1)
      where text.hasSuffix(stop.prefix(length)) {
        safe = min(safe, text.count - length)
        break
      }
    }
    return (take(upTo: max(safe, emitted)), false)
  }

  /// The held-back tail, when generation ends without a stop sequence.
  public mutating func finish() -> String { take(upTo: text.count) }

  private mutating func take(upTo end: Int) -> String {
    let start = text.index(text.startIndex, offsetBy: emitted)
    let stop = text.index(text.startIndex, offsetBy: end)
    emitted = end
    return String(text[start..<stop])
  }
}
