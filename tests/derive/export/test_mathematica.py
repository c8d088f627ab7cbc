"""Mathematica export: the definitions read back by sympy's Mathematica parser give the
kernels, checked against Gaussian quadrature done here; the naming policy."""

import numpy as np
import pytest
import sympy as sp
from scipy.special import erf

from nnqft.derive.export.base import export
from nnqft.derive.export.mathematica import camel, read_back
from nnqft.derive.formulas import get_formula
from nnqft.rules import symbols as S

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


@pytest.mark.parametrize("name,phi", [("erf", erf), ("sin", np.sin), ("cos", np.cos)])
def test_read_back_kernel_equals_quadrature(name, phi):
    formula = get_formula("kernel/" + name)
    back = read_back(export(formula, "mathematica"), formula)
    for q11, q22, q12 in POINTS:
        value = float(back.subs({S.q11: q11, S.q22: q22, S.q12: q12}).evalf(30))
        assert value == pytest.approx(gaussian_mean(phi, q11, q22, q12), rel=1e-12, abs=1e-14)


def test_names_never_clash_with_builtins():
    assert [camel(n) for n in ("sigma_w2", "sigma_b2", "q0", "N", "T")] == [
        "sigmaW2",
        "sigmaB2",
        "q0",
        "n",
        "t",
    ]
    line = export("linear-feedforward/mean", "mathematica").splitlines()[-1]
    assert line.startswith("linearFeedforwardMean[") and "N[" not in line
    assert sp.srepr(
        read_back(export("kernel/linear", "mathematica"), get_formula("kernel/linear"))
    ) == sp.srepr(S.q12)
