"""Benchmark: recurrent shared-bias E Q(T) through 1/N^2 from the diagrams, cold (fresh
process, empty cache: diagram enumeration + closed-form sums) and cached (fresh process,
warm cache).  Run: python benchmarks/bench_correlator.py"""

import os
import subprocess
import sys
import tempfile
import time

CODE = (
    "from nnqft.derive.amplitudes import correlator; "
    "correlator('recurrent', 'mean', bias='{bias}', order={order})"
)


def timed(bias, order, cache):
    env = dict(os.environ, NNQFT_CACHE_DIR=cache)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", CODE.format(bias=bias, order=order)], env=env, check=True)
    return time.perf_counter() - start


def main():
    rows = []
    for bias, order in (("shared", 1), ("shared", 2), ("fresh", 2)):
        with tempfile.TemporaryDirectory() as cache:
            cold = timed(bias, order, cache)
            warm = timed(bias, order, cache)
        rows.append((f"recurrent-{bias}/mean", order, cold, warm))
    print("| formula | order | cold (s) | cached (s) |")
    print("| --- | --- | --- | --- |")
    for name, order, cold, warm in rows:
        print(f"| {name} | {order} | {cold:.2f} | {warm:.2f} |")


if __name__ == "__main__":
    main()
