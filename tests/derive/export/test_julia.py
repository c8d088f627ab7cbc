"""Julia export: the printed kernels, read as arithmetic (Julia's and Python's operator
precedence agree for + - * / ^), against Gaussian quadrature done here; julia itself is
not installed here."""

import re

import numpy as np
import pytest
from scipy.special import erf

from nnqft.derive.export.base import export

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


def _body(source: str) -> str:
    (line,) = [ln for ln in source.splitlines() if ln.strip().startswith("return ")]
    return line.strip()[len("return ") :]


def _as_python(body: str) -> str:
    """Julia's broadcast operators and ^ as numpy's."""
    body = body.replace(".^", "**").replace("./", "/").replace(".*", "*")
    assert re.fullmatch(r"[\w\s.+\-*/()^,]*", body), body
    return body.replace("^", "**")


@pytest.mark.parametrize("name,phi", [("erf", erf), ("sin", np.sin), ("cos", np.cos)])
def test_printed_kernel_equals_quadrature(name, phi):
    body = _as_python(_body(export("kernel/" + name, "julia")))
    space = {
        "asin": np.arcsin,
        "sqrt": np.sqrt,
        "exp": np.exp,
        "sinh": np.sinh,
        "cosh": np.cosh,
        "pi": np.pi,
    }
    for q11, q22, q12 in POINTS:
        value = eval(body, {"__builtins__": {}}, {**space, "q11": q11, "q22": q22, "q12": q12})
        assert value == pytest.approx(gaussian_mean(phi, q11, q22, q12), rel=1e-12, abs=1e-14)


def test_special_functions_come_from_special_functions_jl():
    source = export("linear-feedforward/log-mean", "julia")
    assert source.startswith("using SpecialFunctions") and "digamma(" in source
    assert not export("kernel/sin", "julia").startswith("using")
