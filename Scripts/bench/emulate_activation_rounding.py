"""How far rounding the activations of every matmul moves a fixture's logits, in the numpy
reference (Scripts/golden/reference.py), so that the Swift kernels' choice of activation precision is
checked against an independent computation rather than against Muse itself.

Usage: python3 Scripts/bench/emulate_activation_rounding.py Tests/Fixtures/golden/<fixture>.json BITS
  BITS: 0 (no rounding), 8 (int8, as llama.cpp's Q8_0), 16 or 24 (Muse's interleaved kernels,
  Sources/MuseKernelsC/interleaved_dot.c). Activations are rounded per block of 32 to
  round(x · L / max|block|) with L = 127, 127 · 256 or 127 · 65536, before every product with
  a quantised 2-D weight (token embeddings and F32 routers excepted, as in Muse).
Prints, per golden case, the largest logit error against the golden file and its ratio to the
largest logit (the golden tests allow 1e-4). Needs the packages of Scripts/requirements.txt.
"""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "golden"))
import reference  # noqa: E402

LEVELS = {0: 0.0, 8: 127.0, 16: 32512.0, 24: 8323072.0}


def rounded(x: np.ndarray, levels: float) -> np.ndarray:
    if levels == 0:
        return x
    blocks = np.asarray(x, dtype=np.float64).reshape(-1, 32)
    d = np.abs(blocks).max(axis=1, keepdims=True) / levels
    q = np.where(d > 0, np.round(blocks / np.where(d > 0, d, 1)), 0)
    return (q * d).reshape(np.shape(x))


def main() -> None:
    golden = json.load(open(sys.argv[1]))
    levels = LEVELS[int(sys.argv[2])]

    class Rounded(np.ndarray):
        """A weight whose left operand is rounded before `x @ W.T`."""

        def __rmatmul__(self, other):
            return np.matmul(rounded(other, levels), np.asarray(self))

    model = reference.Model("Tests/Fixtures/models/" + golden["model"])
    for name, value in list(model.w.items()):
        if value.ndim >= 2 and "token_embd" not in name and "gate_inp" not in name and value.shape[-1] % 32 == 0:
            model.w[name] = value.view(Rounded)
    for case in golden["cases"]:
        logits = model.forward(case["tokens"], {}, 0)[-1]
        expected = np.array(case["logits"])
        error = np.abs(logits - expected).max()
        scale = np.abs(expected).max()
        print(f"{case['text'][:24]!r}: max error {error:.3g}, largest logit {scale:.3g}, ratio {error / scale:.3g}")


if __name__ == "__main__":
    main()
