"""Benchmark: deriving the field theory and turning it into a PDF.

Run: ``python benchmarks/bench_derivation.py``.  For each network: the engine's cold
derivation (caches cleared: action, disorder average, collective fields, saddle point for
one and two replicas, distance recursion), building the 14-step Derivation, rendering the
LaTeX document, and compiling it with latexmk (best of 3 each, wall seconds).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from nnqft.derive.document import field_theory as FT
from nnqft.derive.document.latex import compile_pdf, render_document, tex_engine
from nnqft.rules import action as A

CACHED = (
    A.disorder_average,
    A.averaged_action,
    A.collective_fields,
    A.saddle_point,
    A.distance_recursion,
)


def clear():
    for fn in CACHED:
        fn.cache_clear()


def best_of(fn, repeat=3, cold=True):
    times = []
    for _ in range(repeat):
        if cold:
            clear()
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def _compile_fresh(tex: str):
    """latexmk in a new folder, so no earlier run's aux files help it."""
    with tempfile.TemporaryDirectory() as tmp:
        f = Path(tmp) / "d.tex"
        f.write_text(tex)
        return compile_pdf(f)


def main():
    rows = []
    for arch, bias in (("feedforward", None), ("recurrent", "shared"), ("recurrent", "fresh")):
        net = FT.network_for(arch, bias)
        engine, _ = best_of(lambda net=net: (A.saddle_point(net, 2), A.distance_recursion(net)))
        build, d = best_of(lambda arch=arch, bias=bias: FT.field_theory(arch, bias, "tanh"))
        render, tex = best_of(lambda d=d: render_document(d), cold=False)
        pdf = float("nan")
        if tex_engine():
            pdf, _ = best_of(lambda tex=tex: _compile_fresh(tex), cold=False)
        rows.append(
            (f"{arch} {bias or ''}".strip(), engine, build, render, pdf, len(d.equations()))
        )
    print(f"{'network':<20}{'engine':>9}{'derivation':>12}{'latex':>8}{'pdf':>8}{'equations':>11}")
    for name, *t, n in rows:
        print(
            f"{name:<20}" + "".join(f"{x:>{w}.2f}" for x, w in zip(t, (9, 12, 8, 8))) + f"{n:>11}"
        )
    print("(seconds, best of 3; engine and derivation from cold caches; derivation includes")
    print(" the engine and the tanh specialisation; pdf = latexmk on the rendered document)")


if __name__ == "__main__":
    main()
