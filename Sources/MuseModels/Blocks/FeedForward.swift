import Foundation
import MuseKernels

extension FeedForwardWeights {
  /// down(act(gate x) * up x) for `tokens` rows of `input`, written to `output` (each
  /// projection plus its bias when the network has them).
  func callAsFunction(
    _ input: UnsafePointer<Float>, tokens: Int, output: UnsafeMutablePointer<Float>,
    activation: GatedActivation = .swiGLU, pool: ThreadPool
  ) {
    let width = gate.rows
    let g = FloatBuffer(count: tokens * width)
    let u = FloatBuffer(count: tokens * width)
    matmul(gate, input: input, tokens: tokens, output: g.pointer, pool: pool)
    matmul(up, input: input, tokens: tokens, output: u.pointer, pool: pool)
    if let biases {
      addRows(g.pointer, biases.gate, tokens: tokens)
      addRows(u.pointer, biases.up, tokens: tokens)
    }
    switch activation {
    case .swiGLU:
      swiGLU(gate: g.pointer, up: u.pointer, count: tokens * width)
    case .clampedSwiGLU(let alpha, let limit):
      for i in 0..<tokens * width {
        let x = min(g[i], limit)
        let y = min(max(u[i], -limit), limit)
        g[i] = (y + 1) * x / (1 + expf(-alpha * x))
      }
    }
    matmul(down, input: g.pointer, tokens: tokens, output: output, pool: pool)
    if let biases { addRows(output, biases.down, tokens: tokens) }
  }

  private func addRows(_ x: UnsafeMutablePointer<Float>, _ bias: FloatBuffer, tokens: Int) {
    for t in 0..<tokens { add(x + t * bias.count, bias.pointer, count: bias.count) }
  }
}

/// Softmax top-k routing (Shazeer et al., 2017; Mixtral): each token goes to the k experts
/// with the highest router probability, weighted by those probabilities — or, with
/// `.topKThenSoftmax` (gpt-oss), by a softmax over the k chosen logits alone. Softmax is
/// monotonic, so both choose the same experts.
struct ExpertRouter {
  let expertCount: Int
  let expertsPerToken: Int
  let normalizeTopK: Bool
  var scoring = RouterScoring.softmaxThenTopK

  /// The chosen experts and their weights for one token's router logits.
  func route(_ logits: UnsafeMutablePointer<Float>) -> [(expert: Int, weight: Float)] {
    if scoring == .softmaxThenTopK { softmax(logits, count: expertCount) }
    var chosen: [(expert: Int, weight: Float)] = []
    chosen.reserveCapacity(expertsPerToken)
    for e in 0..<expertCount {
      let p = logits[e]
      // Ties go to the lower index, as torch.topk and ggml's argsort do.
      if chosen.count < expertsPerToken {
        chosen.append((e, p))
        chosen.sort { $0.weight > $1.weight }
      } else if p > chosen[expertsPerToken - 1].weight {
        chosen[expertsPerToken - 1] = (e, p)
        chosen.sort { $0.weight > $1.weight || ($0.weight == $1.weight && $0.expert < $1.expert) }
      }
    }
    if scoring == .topKThenSoftmax {
      let top = chosen[0].weight  // chosen is sorted, largest first
      let e = chosen.map { expf($0.weight - top) }
      let sum = e.reduce(0, +)
      chosen = zip(chosen, e).map { ($0.expert, $1 / sum) }
    } else if normalizeTopK {
      let sum = chosen.reduce(0) { $0 + $1.weight }
      chosen = chosen.map { ($0.expert, $0.weight / sum) }
    }
    return chosen
  }
}

/// A mixture-of-experts FFN. Tokens are grouped per expert, so each selected expert's
/// weights are read once for all the tokens routed to it and unselected experts not at all.
struct MixtureOfExpertsBlock {
  let config: TransformerConfig

  func callAsFunction(
    _ w: MixtureOfExpertsWeights, input: UnsafePointer<Float>, tokens: Int,
    output: UnsafeMutablePointer<Float>, pool: ThreadPool
  ) {
    let d = config.embeddingLength
    let e = config.expertCount
    let logits = FloatBuffer(count: tokens * e)
    matmul(w.router, input: input, tokens: tokens, output: logits.pointer, pool: pool)
    if let bias = w.routerBias {
      for t in 0..<tokens { add(logits.row(t, width: e), bias.pointer, count: e) }
    }
    let router = ExpertRouter(
      expertCount: e, expertsPerToken: config.expertsPerToken, normalizeTopK: config.normalizeTopK,
      scoring: config.routerScoring)
    var assignments = [[(token: Int, weight: Float)]](repeating: [], count: e)
    for t in 0..<tokens {
      for (expert, weight) in router.route(logits.row(t, width: e)) {
        assignments[expert].append((t, weight))
      }
    }
    output.update(repeating: 0, count: tokens * d)
    for (expert, routed) in assignments.enumerated() where !routed.isEmpty {
      let n = routed.count
      let gathered = FloatBuffer(count: n * d)
      for (i, r) in routed.enumerated() {
        gathered.row(i, width: d).update(from: input + r.token * d, count: d)
      }
      let result = FloatBuffer(count: n * d)
      let weights = FeedForwardWeights(
        gate: w.experts.gate.matrix(expert), up: w.experts.up.matrix(expert),
        down: w.experts.down.matrix(expert), biases: w.expertBiases?[expert])
      weights(gathered.pointer, tokens: n, output: result.pointer, activation: config.activation, pool: pool)
      for (i, r) in routed.enumerated() {
        scaleAdd(output + r.token * d, result.row(i, width: d), scale: r.weight, count: d)
      }
    }
    if let shared = w.shared {
      let result = FloatBuffer(count: tokens * d)
      shared(input, tokens: tokens, output: result.pointer, pool: pool)
      for t in 0..<tokens {
        let gate: Float = w.sharedGate.map { 1 / (1 + exp(-dot(input + t * d, $0.pointer, count: d))) } ?? 1
        scaleAdd(output + t * d, result.row(t, width: d), scale: gate, count: d)
      }
    }
  }
}
