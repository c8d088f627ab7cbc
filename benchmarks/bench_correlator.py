"""Benchmark: recurrent E Q(T) through 1/N^K from the diagram pipeline, cold (fresh process,
empty cache: rules, reduced diagrams, closed-form time sums) and cached (fresh process, warm
cache).  Each row gives the whole process (interpreter, imports) and the `correlator` call
alone.  The peer, in the same run: the brute-force Wick enumeration of the same E Q(T) at
one fixed depth T = 6 (all orders in 1/N, but one T; the pipeline gives every T at once).
Run: python benchmarks/bench_correlator.py"""

import os
import subprocess
import sys
import tempfile
import time

CODE = (
    "import time; from nnqft import Network; from nnqft.derive.loops.amplitudes import correlator; "
    "net = Network('recurrent', 'linear', bias='{bias}'); t = time.perf_counter(); "
    "correlator(net, 'mean', order={order}); "
    "print(time.perf_counter() - t)"
)


def timed(bias, order, cache):
    env = dict(os.environ, NNQFT_CACHE_DIR=cache)
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", CODE.format(bias=bias, order=order)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return time.perf_counter() - start, float(out.stdout.split()[-1])


PEER = (
    "import time; from nnqft import Network; from nnqft.derive.loops.linear import exact_mean; "
    "t = time.perf_counter(); exact_mean(Network('recurrent', bias='{bias}', depth=6)); "
    "print(time.perf_counter() - t)"
)


def peer(bias):
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", PEER.format(bias=bias)], check=True, capture_output=True, text=True
    )
    return time.perf_counter() - start, float(out.stdout.split()[-1])


def main():
    print(
        "| formula | order | cold: process / call (s) | cached: process / call (s) "
        "| peer: Wick at T = 6, process (s) | cold / peer |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    for bias, order in (("shared", 1), ("shared", 2), ("fresh", 2), ("shared", 3), ("fresh", 3)):
        with tempfile.TemporaryDirectory() as cache:
            cold = timed(bias, order, cache)
            warm = timed(bias, order, cache)
        other = peer(bias)
        print(
            f"| recurrent-{bias}/mean | {order} | {cold[0]:.2f} / {cold[1]:.2f} "
            f"| {warm[0]:.2f} / {warm[1]:.3f} | {other[0]:.2f} | {cold[0] / other[0]:.1f}x |"
        )


if __name__ == "__main__":
    main()
