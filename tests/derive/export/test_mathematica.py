"""Mathematica export: the definitions read back by sympy's Mathematica parser give the
kernels, checked against Gaussian quadrature done here; the naming policy."""

import numpy as np
import pytest
import sympy as sp
from reference_quadrature import POINTS, gaussian_mean
from scipy.special import erf

from nnqft.derive.export.base import export
from nnqft.derive.export.mathematica import camel, read_back
from nnqft.derive.formulas import get_formula
from nnqft.rules import symbols as S


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
