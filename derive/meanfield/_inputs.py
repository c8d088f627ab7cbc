"""Input handling shared by the mean-field modules: numbers, arrays, symbolic requests.

Numbers and array-likes become float arrays; bad input raises the package's errors with a
one-line message:

>>> _array("q", [0.5, 1])
array([0.5, 1. ])
>>> _array("q", -1.0)
Traceback (most recent call last):
...
nnqft.errors.InvalidParameter: q must be non-negative, got -1
>>> _array("q", "1.0")
Traceback (most recent call last):
...
nnqft.errors.InvalidType: q must be a number or an array of numbers, got '1.0'
>>> _out(np.array(2.5)).ndim, _out(np.array([2.5])).shape
(0, (1,))
>>> _symbolic(Network("feedforward", "relu")), _symbolic(Network("feedforward", "relu", 2.0, 0.0))
(True, False)
"""

from __future__ import annotations

import numpy as np

from ...errors import InvalidParameter, InvalidType, NoExactForm
from ...rules.activations import Activation
from ...rules.network import Network
from ...rules.symbols import is_sympy
from ..gaussian import MEAN_FIELD, expect


def _symbolic(net: Network, *values) -> bool:
    """True when a result must be a sympy expression: q or a variance is a sympy object."""
    return net.has_symbol("sigma_w2", "sigma_b2") or any(is_sympy(v) for v in values)


def _array(name: str, value, *, nonnegative: bool = True) -> np.ndarray:
    """A float array from a number or array-like; rejects strings, NaN and negative values."""
    if isinstance(value, (str, bytes, bool)) or value is None:
        raise InvalidType(f"{name} must be a number or an array of numbers, got {value!r}")
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise InvalidType(
            f"{name} must be a number or an array of numbers, got {value!r}"
        ) from None
    if np.isnan(arr).any():
        raise InvalidParameter(f"{name} must not be NaN")
    if nonnegative and (arr < 0).any():
        raise InvalidParameter(f"{name} must be non-negative, got {arr.min():g}")
    return arr


def _out(arr):
    """0-d arrays come back as numpy floats, larger ones as arrays."""
    arr = np.asarray(arr, dtype=float)
    return arr[()] if arr.ndim == 0 else arr


def _no_closed_form(act: Activation, what: str) -> NoExactForm:
    return NoExactForm(
        f"activation {act.name!r} has no closed-form Gaussian kernel, so {what} has no "
        "symbolic form; give numbers for q, sigma_w2 and sigma_b2 to use quadrature "
        "(closed forms: linear, relu, leaky_relu, abrelu, erf, gelu, sin, cos)"
    )


def _sym(value):
    import sympy as sp

    from ..convert import to_sympy

    return sp.nsimplify(value) if isinstance(value, float) else to_sympy(value, "q")


def _moments(act: Activation, q, nodes: int | None):
    """E[phi^2], E[phi'^2] and dE[phi^2]/dq at variances ``q``: one call of
    :func:`~nnqft.derive.gaussian.expect` with the mean-field engine's rule ("hermite")."""
    return expect(act, MEAN_FIELD, q, nodes=nodes, rule="hermite")
