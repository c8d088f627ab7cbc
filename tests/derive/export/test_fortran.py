"""Fortran export: the generated closed-form kernels, compiled with gfortran, against
Gaussian quadrature done here in numpy (two routes to E[phi(u1) phi(u2)])."""

import shutil
import subprocess

import numpy as np
import pytest
import sympy as sp
from scipy.special import erf

from nnqft.derive.export.base import export
from nnqft.derive.formulas import formula_from_expression
from nnqft.errors import InvalidParameter

#: (q11, q22, q12) points: two inputs with different lengths, positive and negative overlap
POINTS = [(0.7, 1.3, 0.4), (1.5, 0.4, -0.3), (0.2, 2.0, 0.55)]


def gaussian_mean(phi, q11, q22, q12, nodes=80):
    """E[phi(u1) phi(u2)], (u1, u2) ~ N(0, [[q11, q12], [q12, q22]]), by a 2-d
    Gauss-Hermite rule written here (an independent route to the closed-form kernels)."""
    z, w = np.polynomial.hermite_e.hermegauss(nodes)
    w = w / w.sum()
    z1, z2 = np.meshgrid(z, z, indexing="ij")
    u1 = np.sqrt(q11) * z1
    u2 = q12 / np.sqrt(q11) * z1 + np.sqrt(q22 - q12**2 / q11) * z2
    return float(np.sum(np.outer(w, w) * phi(u1) * phi(u2)))


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
