"""Julia export: the printed kernels, read as arithmetic (Julia's and Python's operator
precedence agree for + - * / ^), against Gaussian quadrature done here; julia itself is
not installed here."""

import re

import numpy as np
import pytest
from reference_quadrature import POINTS, gaussian_mean
from scipy.special import erf

from nnqft.derive.export.base import export


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
