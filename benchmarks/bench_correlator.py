"""Benchmark: recurrent E Q(T) through 1/N^K from the diagrams, cold (fresh process, empty
cache: diagram enumeration + closed-form sums) and cached (fresh process, warm cache).
Each row gives the whole process (interpreter, imports) and the `correlator` call alone.
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


def main():
    print("| formula | order | cold: process / call (s) | cached: process / call (s) |")
    print("| --- | --- | --- | --- |")
    for bias, order in (("shared", 1), ("shared", 2), ("fresh", 2)):
        with tempfile.TemporaryDirectory() as cache:
            cold = timed(bias, order, cache)
            warm = timed(bias, order, cache)
        print(
            f"| recurrent-{bias}/mean | {order} | {cold[0]:.2f} / {cold[1]:.2f} "
            f"| {warm[0]:.2f} / {warm[1]:.3f} |"
        )


if __name__ == "__main__":
    main()
