#!/usr/bin/env python3
"""Golden vectors for MuseKernels, from an independent reference (gguf-py + numpy).

For each format writes Tests/Fixtures/kernels/<TYPE>.bin (the raw rows, ggml layout) and
<TYPE>.json with the shape, gguf-py's dequantisation of the rows, an input vector `x`, and
the row · x products computed by numpy in float64. Q8_0 also carries gguf-py's Q8_0
quantisation of `x` (bit-exact with ggml's quantize_row_q8_0_ref).

gguf-py (0.19) cannot quantise Q4_K or Q6_K, so those rows are random but valid blocks
(random scale bytes, codes and sane f16 super-block scales), dequantised by gguf-py.

Run from the repository root:  python3 Scripts/golden/kernel_vectors.py
"""

import json
import pathlib

import numpy as np
from gguf import GGMLQuantizationType as T
from gguf import quants

OUT = pathlib.Path(__file__).resolve().parents[2] / "Tests" / "Fixtures" / "kernels"


def f16_bytes(values: np.ndarray) -> np.ndarray:
    return values.astype(np.float16).view(np.uint8).reshape(values.shape[0], -1)


def k_quant_rows(rng: np.random.Generator, qtype: T, rows: int, columns: int) -> np.ndarray:
    blocks = rows * columns // 256
    if qtype == T.Q4_K:
        d = f16_bytes(rng.uniform(0.0005, 0.004, (blocks, 1)))
        dmin = f16_bytes(rng.uniform(0.0005, 0.004, (blocks, 1)))
        scales = rng.integers(0, 256, (blocks, 12), dtype=np.uint8)
        qs = rng.integers(0, 256, (blocks, 128), dtype=np.uint8)
        parts = [d, dmin, scales, qs]
    else:  # Q6_K
        ql = rng.integers(0, 256, (blocks, 128), dtype=np.uint8)
        qh = rng.integers(0, 256, (blocks, 64), dtype=np.uint8)
        scales = rng.integers(-128, 128, (blocks, 16), dtype=np.int8).view(np.uint8)
        d = f16_bytes(rng.uniform(0.0001, 0.001, (blocks, 1)))
        parts = [ql, qh, scales, d]
    return np.concatenate(parts, axis=1).reshape(rows, -1)


def float_rows(rng: np.random.Generator, qtype: T, values: np.ndarray) -> np.ndarray:
    if qtype == T.F32:
        return values.view(np.uint8)
    if qtype == T.F16:
        # A few subnormal, tiny and large halves so the conversion's edge cases are covered.
        values = values.copy()
        values[0, :6] = [6.0e-8, -3.0e-6, 6.1e-5, 65504.0, -0.0, 1.0e-7]
        return values.astype(np.float16).view(np.uint8)
    return quants.quantize(values, T.BF16).view(np.uint8)


def write(qtype: T, rows: int, columns: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    values = rng.standard_normal((rows, columns), dtype=np.float32) * np.float32(0.7)
    if qtype in (T.Q4_K, T.Q6_K):
        raw = k_quant_rows(rng, qtype, rows, columns)
    elif qtype in (T.F32, T.F16, T.BF16):
        raw = float_rows(rng, qtype, values)
    else:
        raw = quants.quantize(values, qtype)
    raw = np.ascontiguousarray(raw, dtype=np.uint8).reshape(rows, -1)
    dequantized = quants.dequantize(raw, qtype).astype(np.float32).reshape(rows, columns)
    # Odd, non-repeating input values of mixed sign and magnitude.
    x = (rng.standard_normal(columns) * np.linspace(0.3, 3.1, columns)).astype(np.float32)
    products = dequantized.astype(np.float64) * x.astype(np.float64)
    fixture = {
        "type": qtype.name,
        "rows": rows,
        "columns": columns,
        "dequantized": [float(v) for v in dequantized.reshape(-1)],
        "x": [float(v) for v in x],
        "dots": [float(v) for v in products.sum(axis=1)],
        "absDots": [float(v) for v in np.abs(products).sum(axis=1)],
    }
    if qtype == T.Q8_0:
        fixture["xQ8_0"] = [int(b) for b in quants.quantize(x.reshape(1, -1), T.Q8_0).reshape(-1)]
    (OUT / f"{qtype.name}.bin").write_bytes(raw.tobytes())
    (OUT / f"{qtype.name}.json").write_text(json.dumps(fixture) + "\n")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    # 100 columns for float rows exercise the SIMD tails; 96 = 3 blocks of 32; 512 = 2 of 256.
    write(T.F32, 3, 100, seed=1)
    write(T.F16, 3, 100, seed=2)
    write(T.BF16, 3, 100, seed=3)
    write(T.Q8_0, 3, 96, seed=4)
    write(T.Q4_0, 3, 96, seed=5)
    write(T.Q4_1, 3, 96, seed=6)
    write(T.Q4_K, 3, 512, seed=7)
    write(T.Q6_K, 3, 512, seed=8)


if __name__ == "__main__":
    main()
