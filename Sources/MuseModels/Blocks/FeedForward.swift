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
    let scratch = ThreadScratch.floats(.feedForward, count: 2 * tokens * width)
    let g = scratch
    let u = scratch + tokens * width
    matmul([gate, up], input: input, tokens: tokens, outputs: [g, u], pool: pool)
    if let biases {
      addRows(g, biases.gate, tokens: tokens)
      addRows(u, biases.up, tokens: tokens)
    }
    // Rows in parallel once there are several: on the caller alone, 8 rows of the activation
    // (an exp each) kept the other cores waiting ~3 % of a batched step.
    if tokens >= 4 {
      pool.parallelFor(tokens) { t in activate(g + t * width, u + t * width, count: width, activation) }
    } else {
      activate(g, u, count: tokens * width, activation)
    }
    matmul(down, input: g, tokens: tokens, output: output, pool: pool)
    if let biases { addRows(output, biases.down, tokens: tokens) }
  }

}

/// Adds `bias` to each of `tokens` rows of `x`.
func addRows(_ x: UnsafeMutablePointer<Float>, _ bias: FloatBuffer, tokens: Int) {
  for t in 0..<tokens { add(x + t * bias.count, bias.pointer, count: bias.count) }
}

/// g = act(g, u) in place: the gated activation between the up and down projections.
func activate(
  _ g: UnsafeMutablePointer<Float>, _ u: UnsafePointer<Float>, count: Int, _ activation: GatedActivation
) {
  switch activation {
  case .swiGLU:
    swiGLU(gate: g, up: u, count: count)
  case .clampedSwiGLU(let alpha, let limit):
    for i in 0..<count {
      let x = min(g[i], limit)
      let y = min(max(u[i], -limit), limit)
      g[i] = (y + 1) * x / (1 + expf(-alpha * x))
    }
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
    // The selected experts, their tokens, and each one's first row in the scratch buffers.
    var selected: [(expert: Int, routed: [(token: Int, weight: Float)], first: Int)] = []
    var total = 0
    for (expert, routed) in assignments.enumerated() where !routed.isEmpty {
      selected.append((expert, routed, total))
      total += routed.count
    }
    let width = w.experts.gate.shape[1]
    let scratch = ThreadScratch.floats(.mixtureOfExperts, count: total * (2 * d + 2 * width))
    let gathered = scratch
    let g = gathered + total * d
    let u = g + total * width
    let result = u + total * width
    for s in selected {
      for (i, r) in s.routed.enumerated() {
        (gathered + (s.first + i) * d).update(from: input + r.token * d, count: d)
      }
    }
    // Gate and up projections of every selected expert in one parallel pass, then every down
    // projection in another: two pool wake-ups per layer instead of three per expert.
    // The inputs are quantised once per pass (when the kernels need it), not once per task,
    // and each expert's matrices and input views are made once, not per task (per-task views
    // cost an allocation and reference counting each, ~4 % of OLMoE-shaped decode).
    let chunk = 128
    let upChunks = (width + chunk - 1) / chunk
    let upInput = MatmulInput(
      gathered: gathered, from: input, rows: selected.flatMap { $0.routed.map(\.token) }, tokens: tokens,
      columns: d, for: w.experts.gate)
    let firsts = selected.map(\.first)
    let counts = selected.map(\.routed.count)
    let gates = selected.map { w.experts.gate.matrix($0.expert) }
    let ups = selected.map { w.experts.up.matrix($0.expert) }
    let upInputs = firsts.map { upInput.dropping(tokens: $0) }
    pool.parallelFor(selected.count * 2 * upChunks) { task in
      let k = task / (2 * upChunks)
      let isGate = task % (2 * upChunks) < upChunks
      let c = task % upChunks
      matmul(
        isGate ? gates[k] : ups[k], rows: c * chunk..<min(width, (c + 1) * chunk), input: upInputs[k],
        tokens: counts[k], output: (isGate ? g : u) + firsts[k] * width)
    }
    for s in selected {
      let n = s.routed.count
      if let biases = w.expertBiases?[s.expert] {
        addRows(g + s.first * width, biases.gate, tokens: n)
        addRows(u + s.first * width, biases.up, tokens: n)
      }
      activate(g + s.first * width, u + s.first * width, count: n * width, config.activation)
    }
    let downChunks = (d + chunk - 1) / chunk
    let downInput = MatmulInput(g, columns: width, tokens: total, for: w.experts.down)
    let downs = selected.map { w.experts.down.matrix($0.expert) }
    let downInputs = firsts.map { downInput.dropping(tokens: $0) }
    pool.parallelFor(selected.count * downChunks) { task in
      let k = task / downChunks
      let c = task % downChunks
      matmul(
        downs[k], rows: c * chunk..<min(d, (c + 1) * chunk), input: downInputs[k], tokens: counts[k],
        output: result + firsts[k] * d)
    }
    for s in selected {
      if let biases = w.expertBiases?[s.expert] {
        addRows(result + s.first * d, biases.down, tokens: s.routed.count)
      }
      for (i, r) in s.routed.enumerated() {
        scaleAdd(output + r.token * d, result + (s.first + i) * d, scale: r.weight, count: d)
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
