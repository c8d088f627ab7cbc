"""Whole-process timing for the benchmarks: wall time and peak memory of a child process."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time


def run(args: list[str], repeat: int = 3) -> tuple[float, float]:
    """(median seconds, median peak MiB) of ``repeat`` runs of ``args`` (after one warm-up
    run, so that the disk cache is warm for every route alike)."""
    times, mems = [], []
    for i in range(repeat + 1):
        start = time.perf_counter()
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, rusage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            raise RuntimeError(f"{args} failed with exit code {proc.returncode}")
        if i:
            times.append(elapsed)
            mems.append(rusage.ru_maxrss / 1024)
    return statistics.median(times), statistics.median(mems)


def python(code: str, *argv: str) -> list[str]:
    """The command line running ``code`` in a fresh interpreter."""
    return [sys.executable, "-c", code, *argv]


def header() -> str:
    cores = len(os.sched_getaffinity(0))
    return f"cores available: {cores}, load average {os.getloadavg()[0]:.1f}"
