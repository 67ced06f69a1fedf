import Foundation
import Testing

@testable import MuseKernels

@Suite struct VectorOpsTests {
  let x: [Float] = (0..<37).map { Float($0 % 7) * 0.37 - 1.1 }
  let weight: [Float] = (0..<37).map { 0.5 + Float($0) * 0.01 }

  @Test func rmsNormMatchesNaiveLoop() {
    let meanSquare = x.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(x.count)
    let scale = 1 / (meanSquare + 1e-5).squareRoot()
    var output = [Float](repeating: 0, count: x.count)
    rmsNorm(x, weight: weight, epsilon: 1e-5, count: x.count, output: &output)
    for i in x.indices {
      #expect(abs(Double(output[i]) - Double(x[i]) * scale * Double(weight[i])) <= 1e-5)
    }
    rmsNorm(x, weight: nil, epsilon: 1e-5, count: x.count, output: &output)
    for i in x.indices {
      #expect(abs(Double(output[i]) - Double(x[i]) * scale) <= 1e-5)
    }
  }

  @Test func softmaxMatchesNaiveLoop() {
    var values = x.map { $0 * 30 }  // large enough that exp() without the max shift would be shaky
    let exps = values.map { exp(Double($0)) }
    let total = exps.reduce(0, +)
    softmax(&values, count: values.count)
    for i in values.indices {
      #expect(abs(Double(values[i]) - exps[i] / total) <= 1e-6)
    }
    #expect(abs(values.reduce(0, +) - 1) <= 1e-5)
  }

  @Test func elementwiseOperations() {
    #expect(silu(0) == 0)
    #expect(abs(silu(2) - 2 / (1 + exp(-2))) <= 1e-6)
    var a: [Float] = [1, 2, 3]
    add(&a, [10, 20, 30], count: 3)
    #expect(a == [11, 22, 33])
    scaleAdd(&a, [1, 2, 3], scale: 0.5, count: 3)
    #expect(a == [11.5, 23, 34.5])
    var gate: [Float] = [0, 2, -1]
    swiGLU(gate: &gate, up: [5, 3, 2], count: 3)
    #expect(gate[0] == 0)
    #expect(abs(gate[1] - silu(2) * 3) <= 1e-6)
    #expect(abs(gate[2] - silu(-1) * 2) <= 1e-6)
  }

  /// Against the definition in Double, over the range an activation takes (and past where e^-x
  /// overflows a float), and the same bits for an element whatever its place in the call: the
  /// vector loop's tail runs the same code under a mask.
  @Test func swiGLUMatchesTheDefinitionAndIgnoresPosition() {
    let gates: [Float] = (0..<53).map { Float($0) * 4.1 - 110 }
    let up: [Float] = (0..<53).map { 0.3 + Float($0 % 5) * 0.7 }
    var all = gates
    swiGLU(gate: &all, up: up, count: all.count)
    for i in gates.indices {
      let g = Double(gates[i])
      let expected = g / (1 + Foundation.exp(-g)) * Double(up[i])
      #expect(abs(Double(all[i]) - expected) <= 3e-7 * max(1, abs(expected)), "gate \(gates[i])")
      var one = [gates[i]]
      swiGLU(gate: &one, up: [up[i]], count: 1)
      #expect(one[0].bitPattern == all[i].bitPattern, "gate \(gates[i]) alone")
    }
  }
  /// The exact GELU against its definition in Double (Foundation's erf), at every level this CPU
  /// has, from where it is −0 to where it is x, and the same bits for an element whatever its
  /// place in the call (the vector loop's tail runs the same code).
  @Test func geluMatchesTheDefinitionAndIgnoresPosition() {
    let xs: [Float] =
      (0..<24_001).map { Float($0) * 0.001 - 12 } + [0, -0.0, 1e-20, -1e-20, 40, -40, 1e6, -1e6]
    forEachLevel { level in
      var all = xs
      geluErf(&all, count: all.count)
      for i in xs.indices {
        let x = Double(xs[i])
        let expected = 0.5 * x * (1 + Foundation.erf(x / 2.0.squareRoot()))
        let error = abs(Double(all[i]) - expected)
        #expect(error <= 4e-7 * max(1, abs(x)), "\(level): x \(xs[i]) gives \(all[i]), expected \(expected)")
      }
      for i in stride(from: 0, to: xs.count, by: 997) {
        var one = [xs[i]]
        geluErf(&one, count: 1)
        #expect(one[0].bitPattern == all[i].bitPattern, "\(level): x \(xs[i]) alone")
      }
    }
  }
}
