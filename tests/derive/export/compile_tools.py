"""Shared by the export tests that compile generated code: one way to run a compiler or a
compiled program, and the one strict gfortran command line."""

import subprocess

#: gfortran as the export tests compile with: standard Fortran 2008, every warning an error
GFORTRAN = ["gfortran", "-std=f2008", "-O2", "-Wall", "-Wno-unused-dummy-argument", "-Werror"]


def run(cmd, cwd, **kw) -> str:
    """Run ``cmd`` in ``cwd``; its stdout, or a failed assertion with the tail of its output."""
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=300, **kw)
    assert proc.returncode == 0, proc.stderr[-3000:] + proc.stdout[-2000:]
    return proc.stdout
