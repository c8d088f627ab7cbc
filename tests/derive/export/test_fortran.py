"""Fortran export: the generated closed-form kernels, compiled with gfortran, against
Gaussian quadrature done here in numpy (two routes to E[phi(u1) phi(u2)])."""

import shutil
import subprocess

import numpy as np
import pytest
import sympy as sp
from reference_quadrature import POINTS, gaussian_mean
from scipy.special import erf

from nnqft.derive.export.base import export
from nnqft.derive.formulas import formula_from_expression
from nnqft.errors import InvalidParameter


def _real(v):
    return repr(float(v)).replace("e", "d") if "e" in repr(float(v)) else f"{float(v)!r}d0"


@pytest.mark.skipif(shutil.which("gfortran") is None, reason="gfortran not installed")
@pytest.mark.parametrize("name,phi", [("erf", erf), ("sin", np.sin)])
def test_compiled_kernel_equals_quadrature(name, phi, tmp_path):
    calls = "\n".join(
        f"  write (*, '(ES26.17E3)') k({', '.join(_real(v) for v in p)})" for p in POINTS
    )
    src = export("kernel/" + name, "fortran", function_name="k")
    src += f"\nprogram main\n  use k_mod\n  implicit none\n{calls}\nend program main\n"
    (tmp_path / "k.f90").write_text(src)
    cmd = ["gfortran", "-std=f2008", "-Wall", "-Wno-unused-dummy-argument", "-o", "k", "k.f90"]
    subprocess.run(cmd, cwd=tmp_path, check=True, capture_output=True, timeout=120)
    out = subprocess.run([str(tmp_path / "k")], capture_output=True, text=True, check=True)
    got = [float(v) for v in out.stdout.split()]
    want = [gaussian_mean(phi, *p) for p in POINTS]
    assert got == pytest.approx(want, rel=1e-12, abs=1e-14)


def test_names_that_differ_only_in_case_are_refused():
    n, big_n = sp.Symbol("n", positive=True), sp.Symbol("N", positive=True)
    formula = formula_from_expression(n + big_n, "clash", arguments=[n, big_n])
    with pytest.raises(InvalidParameter):
        export(formula, "fortran")
