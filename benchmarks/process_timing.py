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


def run_cpu(args: list[str], repeat: int = 3) -> tuple[float, float, float]:
    """(median wall seconds, median CPU seconds (user + system), median peak MiB) of
    ``repeat`` runs of ``args`` after one warm-up run: on a shared machine the CPU time is
    the steadier of the two."""
    walls, cpus, mems = [], [], []
    for i in range(repeat + 1):
        start = time.perf_counter()
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, rusage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status) != 0:
            raise RuntimeError(f"{args} failed with exit code {os.waitstatus_to_exitcode(status)}")
        if i:
            walls.append(elapsed)
            cpus.append(rusage.ru_utime + rusage.ru_stime)
            mems.append(rusage.ru_maxrss / 1024)
    return statistics.median(walls), statistics.median(cpus), statistics.median(mems)


def python(code: str, *argv: str) -> list[str]:
    """The command line running ``code`` in a fresh interpreter."""
    return [sys.executable, "-c", code, *argv]


def header() -> str:
    cores = len(os.sched_getaffinity(0))
    return f"cores available: {cores}, load average {os.getloadavg()[0]:.1f}"
