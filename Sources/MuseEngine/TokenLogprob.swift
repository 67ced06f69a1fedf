import Foundation

/// The log-probability of a generated token under the model's distribution (before
/// temperature and truncation, as OpenAI reports it), with the most likely alternatives.
public struct TokenLogprob: Sendable, Equatable {
  public struct Alternative: Sendable, Equatable {
    public let id: Int
    public let token: String
    public let bytes: [UInt8]
    public let logprob: Float
  }

  public let id: Int
  public let token: String
  public let bytes: [UInt8]
  public let logprob: Float
  public let top: [Alternative]

  /// log-softmax of `logits` at `chosen`, and the `top` most likely tokens.
  static func compute(logits: [Float], chosen: Int, top count: Int, piece: (Int) -> [UInt8]) -> TokenLogprob {
    logits.withUnsafeBufferPointer { compute(row: $0, chosen: chosen, top: count, piece: piece) }
  }

  /// As `compute(logits:…)`, over one row of a larger block of logits (a prompt's rows).
  static func compute(
    row logits: UnsafeBufferPointer<Float>, chosen: Int, top count: Int, piece: (Int) -> [UInt8]
  ) -> TokenLogprob {
    let maxLogit = logits.max() ?? 0
    var sum = 0.0
    for l in logits { sum += exp(Double(l - maxLogit)) }
    let logZ = Double(maxLogit) + log(sum)
    func logprob(_ id: Int) -> Float { Float(Double(logits[id]) - logZ) }
    var best: [Int] = []
    if count > 0 {
      // A partial selection: `count` is at most 20, the vocabulary tens of thousands.
      for id in logits.indices {
        if best.count < count {
          best.append(id)
          best.sort { logits[$0] > logits[$1] }
        } else if logits[id] > logits[best[count - 1]] {
          best[count - 1] = id
          best.sort { logits[$0] > logits[$1] }
        }
      }
    }
    func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }
    let chosenBytes = piece(chosen)
    return TokenLogprob(
      id: chosen, token: text(chosenBytes), bytes: chosenBytes, logprob: logprob(chosen),
      top: best.map { id in
        let b = piece(id)
        return Alternative(id: id, token: text(b), bytes: b, logprob: logprob(id))
      })
  }
}
