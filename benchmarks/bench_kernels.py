"""Kernels on 10^6 points against hand-written numpy and plain sympy lambdify; export times.

Run: python benchmarks/bench_kernels.py   (prints two tables; numbers from a shared 2-core box)
"""

from __future__ import annotations

import time

import numpy as np
import sympy as sp

from nnqft.derive.export.base import LANGUAGES, export
from nnqft.derive.export.kernels import kernel
from nnqft.derive.formulas import get_formula, list_formulas

POINTS = 10**6


def best(fn, *args, repeat=5):
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn(*args)
        out.append(time.perf_counter() - t)
    return min(out)


def hand_corr_relu(sw, sb, q11, q22, q12):
    s = np.sqrt(q11 * q22)
    theta = np.arccos(q12 / s)
    return sw * s / (2 * np.pi) * (np.sin(theta) + (np.pi - theta) * np.cos(theta)) + sb


def hand_ff_mean(sw, sb, q0, t):
    p = sw**t
    return q0 * p + sb * (1 - p) / (1 - sw)


def hand_length_erf(sw, sb, q):
    return sw * 2 / np.pi * np.arcsin(2 * q / (1 + 2 * q)) + sb


def main():
    rng = np.random.default_rng(0)
    q11, q22 = rng.uniform(0.1, 3, POINTS), rng.uniform(0.1, 3, POINTS)
    q12 = rng.uniform(-0.9, 0.9, POINTS) * np.sqrt(q11 * q22)
    sw, sb = rng.uniform(0.3, 0.9, POINTS), rng.uniform(0.0, 1.0, POINTS)
    q0, t = rng.uniform(0.2, 3, POINTS), rng.integers(1, 50, POINTS).astype(float)
    q = rng.uniform(0.1, 3, POINTS)
    cases = [
        ("mft/correlation-map/relu", hand_corr_relu, (sw, sb, q11, q22, q12)),
        ("mft/length-map/erf", hand_length_erf, (sw, sb, q)),
        ("linear-feedforward/mean", hand_ff_mean, (sw, sb, q0, t)),
    ]
    print(f"kernels on {POINTS:.0e} points (best of 5, ms; speed relative to hand-written numpy)")
    head = ("formula", "hand numpy", "llvm", "numpy+cse", "sympy lambdify")
    print(f"{head[0]:28s} {head[1]:>10s} {head[2]:>14s} {head[3]:>14s} {head[4]:>16s}")
    for fid, hand, args in cases:
        f = get_formula(fid)
        th = best(hand, *args)
        kl, kn = kernel(fid, "llvm"), kernel(fid, "numpy")
        assert np.allclose(kl(*args), hand(*args), rtol=1e-12)
        assert np.allclose(kn(*args), hand(*args), rtol=1e-12)
        tl, tn = best(kl, *args), best(kn, *args)
        try:
            lam = sp.lambdify(f.arguments, f.expression, modules="numpy")
            lam(*args)
            ts = f"{1e3 * best(lam, *args):8.1f} ({th / best(lam, *args):.2f}x)"
        except Exception as exc:  # numpy lambdify maps erf to math.erf: fails on arrays
            ts = f"fails ({exc.__class__.__name__})"
        print(
            f"{fid:28s} {1e3 * th:10.1f} {1e3 * tl:7.1f} ({th / tl:.2f}x) "
            f"{1e3 * tn:7.1f} ({th / tn:.2f}x) {ts:>16s}"
        )
    fid, hand, args = cases[-1]
    k = kernel(fid, "numpy", stable=False)
    assert np.allclose(k(*args), hand(*args), rtol=1e-10)
    th, tk = best(hand, *args), best(k, *args)
    print(
        f"{fid + ' (stable=False)':28s} {1e3 * th:10.1f} {'':14s} {1e3 * tk:7.1f} ({th / tk:.2f}x)"
    )
    largest = max(list_formulas(), key=lambda i: sp.count_ops(get_formula(i).expression))
    ops = sp.count_ops(get_formula(largest).expression)
    print(f"\nexport of the largest formula, {largest} ({ops} operations), seconds")
    for lang in LANGUAGES:
        t0 = time.perf_counter()
        export(largest, lang)
        print(f"  {lang:12s} {time.perf_counter() - t0:6.2f}")


if __name__ == "__main__":
    main()
