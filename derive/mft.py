"""Mean-field theory of wide random networks: maps, fixed points, chi's and depth scales.

The saddle point of the field theory (PHYSICS.md §3).  With u ~ N(0, q) and
(u1, u2) ~ N(0, [[q11, q12], [q12, q22]]):

    length map        q'   = sigma_w2 E[phi(u)^2]        + sigma_b2
    correlation map   q12' = sigma_w2 E[phi(u1) phi(u2)] + sigma_b2
    chi_1             = sigma_w2 E[phi'(u)^2]                 (gradients; Lyapunov 1/2 ln chi_1)
    chi_c             = sigma_w2 E[phi'(u1) phi'(u2)]         (slope of the c-map)
    chi_parallel      = sigma_w2 d E[phi(u)^2] / dq           (slope of the q-map; PDLT's chi_par)

Every function takes a :class:`~nnqft.rules.network.Network`.  With numbers (floats or
numpy arrays, which broadcast) the result is a number or an array, from the activation's
closed-form kernel where it has one and from Gauss-Hermite quadrature otherwise
(``nodes=...`` forces quadrature).  With a sympy symbol for q or for the network's variances
the result is a sympy expression, for activations with a closed-form kernel.

>>> from nnqft.rules.network import Network
>>> from nnqft.rules.symbols import q
>>> length_map(Network("feedforward", "relu"), q)
q*sigma_w2/2 + sigma_b2
>>> chi_1(Network("feedforward", "erf"), q)
4*sigma_w2/(pi*sqrt(4*q + 1))
>>> float(length_map(Network("feedforward", "tanh", sigma_w2=1.5, sigma_b2=0.05), 1.0))
0.64144173559...
"""

from __future__ import annotations

import functools
import numbers

import numpy as np
import sympy as sp

from ..errors import InvalidParameter, InvalidType, NoExactForm
from ..rules import symbols as S
from ..rules.activations import (
    DEFAULT_NODES,
    Activation,
    diagonal_kernel,
    gaussian_kernel,
    gaussian_mean,
    mean_square,
    numeric_function,
    polar_gaussian_mean,
)
from ..rules.network import Network

__all__ = [
    "length_map",
    "correlation_map",
    "q_trajectory",
    "correlation_trajectory",
    "chi_1",
    "chi_c",
    "chi_parallel",
]


# --- input handling -------------------------------------------------------------------


def _check_network(net) -> Network:
    if not isinstance(net, Network):
        raise InvalidType(f"expected a Network, got {type(net).__name__}")
    return net


def _symbolic(net: Network, *values) -> bool:
    """True when a result must be a sympy expression: q or a variance is a sympy object."""
    return any(isinstance(v, sp.Basic) for v in (net.sigma_w2, net.sigma_b2, *values))


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
    return sp.nsimplify(value) if isinstance(value, float) else sp.sympify(value)


# --- Gaussian integrals of phi, vectorised ----------------------------------------------


@functools.lru_cache(maxsize=256)
def _diag_derivative_expr(act: Activation) -> sp.Expr | None:
    """d/dq E[phi(u)^2], u ~ N(0, q), in closed form (None if there is none)."""
    diag = diagonal_kernel(act, 0)
    return None if diag is None else sp.simplify(sp.diff(diag, S.q))


@functools.lru_cache(maxsize=256)
def _smooth(act: Activation) -> bool:
    """phi has no kinks and phi'' no delta functions (then E[phi phi''] is an ordinary integral)."""
    d2 = act.derivative(2)
    return not act.kinks and not d2.has(sp.DiracDelta, sp.Heaviside, sp.Piecewise, sp.sign)


def _mean_square(act: Activation, var, derivative: int, nodes: int | None):
    return mean_square(act, var, derivative, nodes)


def _d_mean_square(act: Activation, var, nodes: int | None) -> np.ndarray:
    """d/dq E[phi(u)^2] = E[phi'^2 + phi phi''] = E[u phi phi'] / q (Stein), vectorised."""
    var = np.asarray(var, dtype=float)
    expr = _diag_derivative_expr(act) if nodes is None else None
    if expr is not None:
        return np.asarray(numeric_function(expr, (S.q,))(var), dtype=float) + 0.0 * var
    f0, f1 = act.numeric(0), act.numeric(1)
    if _smooth(act):
        f2 = act.numeric(2)
        return gaussian_mean(lambda u: f1(u) ** 2 + f0(u) * f2(u), var, nodes or DEFAULT_NODES)
    # a kink: phi'' holds a delta function; use E[u phi phi'] / q, which needs phi' only
    num = (
        polar_gaussian_mean(lambda u: u * f0(u) * f1(u), lambda u: 1.0, var, var, var)
        if act.kinks == (0,)
        else gaussian_mean(lambda u: u * f0(u) * f1(u), var, nodes or DEFAULT_NODES)
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        small = var <= 0
        safe = np.where(small, 1.0, var)
        out = np.where(small, f1(np.zeros_like(var)) ** 2, num / safe)
    return out


# --- the maps -----------------------------------------------------------------------------


def length_map(net: Network, q, *, nodes: int | None = None):
    """The length map q -> sigma_w2 E[phi(u)^2] + sigma_b2 with u ~ N(0, q) (PHYSICS.md §3).

    Numeric ``q`` (a number or array; broadcasts) gives numbers; a symbolic ``q`` or
    symbolic variances give a sympy expression (closed-form activations only).

    >>> from nnqft.rules.network import Network
    >>> length_map(Network("feedforward", "linear"), S.q)
    q*sigma_w2 + sigma_b2
    >>> length_map(Network("feedforward", "relu", sigma_w2=2.0, sigma_b2=0.1), [1.0, 2.0])
    array([1.1, 2.1])
    """
    _check_network(net)
    act = net.activation
    if _symbolic(net, q):
        diag = diagonal_kernel(act, 0)
        if diag is None:
            raise _no_closed_form(act, "the length map")
        return net.sigma_w2 * diag.subs(S.q, _sym(q)) + net.sigma_b2
    q = _array("q", q)
    return _out(net.sigma_w2 * _mean_square(act, q, 0, nodes) + net.sigma_b2)


def correlation_map(net: Network, q11, q22, q12, *, nodes: int | None = None):
    """The correlation map q12 -> sigma_w2 E[phi(u1) phi(u2)] + sigma_b2 (PHYSICS.md §3).

    (u1, u2) ~ N(0, [[q11, q12], [q12, q22]]); returns the new q12 (the new q11, q22 come
    from :func:`length_map`).

    >>> from nnqft.rules.network import Network
    >>> correlation_map(Network("feedforward", "erf"), S.q11, S.q22, S.q12)
    sigma_b2 + 2*sigma_w2*asin(2*q12/(sqrt(2*q11 + 1)*sqrt(2*q22 + 1)))/pi
    >>> net = Network("feedforward", "relu", sigma_w2=2.0, sigma_b2=0.0)
    >>> float(correlation_map(net, 1.0, 1.0, 0.0))        # 2 * 1/(2 pi)
    0.3183098861837...
    """
    _check_network(net)
    act = net.activation
    if _symbolic(net, q11, q22, q12):
        if act.kernel is None:
            raise _no_closed_form(act, "the correlation map")
        sub = {S.q11: _sym(q11), S.q22: _sym(q22), S.q12: _sym(q12)}
        return net.sigma_w2 * act.kernel.subs(sub, simultaneous=True) + net.sigma_b2
    v1, v2 = _array("q11", q11), _array("q22", q22)
    cov = _array("q12", q12, nonnegative=False)
    if (np.abs(cov) > np.sqrt(v1 * v2) * (1 + 1e-9) + 1e-300).any():
        raise InvalidParameter("q12 must satisfy |q12| <= sqrt(q11 q22) (a covariance)")
    return _out(net.sigma_w2 * gaussian_kernel(act, v1, v2, cov, 0, nodes) + net.sigma_b2)


def chi_1(net: Network, q, *, nodes: int | None = None):
    """chi_1 = sigma_w2 E[phi'(u)^2], u ~ N(0, q): the gradient (Jacobian) growth per layer.

    At the fixed point q* the largest Lyapunov exponent is 1/2 ln chi_1; the edge of chaos is
    chi_1 = 1 (PHYSICS.md §3).

    >>> from nnqft.rules.network import Network
    >>> chi_1(Network("feedforward", "relu"), S.q)
    sigma_w2/2
    >>> float(chi_1(Network("feedforward", "erf", sigma_w2=0.25 * np.pi, sigma_b2=0.0), 0.0))
    1.0
    """
    _check_network(net)
    act = net.activation
    if _symbolic(net, q):
        diag = diagonal_kernel(act, 1)
        if diag is None:
            raise _no_closed_form(act, "chi_1")
        return net.sigma_w2 * diag.subs(S.q, _sym(q))
    q = _array("q", q)
    return _out(net.sigma_w2 * _mean_square(act, q, 1, nodes))


def chi_c(net: Network, q, c, *, nodes: int | None = None):
    """chi_c = sigma_w2 E[phi'(u1) phi'(u2)] for equal variances q and correlation c.

    The slope of the normalised correlation map c -> q12'/q* at the length fixed point
    (Price's theorem), so xi_c = -1/ln chi_c at c* (PHYSICS.md §3).  At c = 1 it equals
    chi_1.

    >>> from nnqft.rules.network import Network
    >>> c = sp.Symbol("c")
    >>> chi_c(Network("feedforward", "erf"), S.q, c)
    4*sigma_w2/(pi*sqrt(-4*c**2*q**2 + (2*q + 1)**2))
    """
    _check_network(net)
    act = net.activation
    if _symbolic(net, q, c):
        if act.derivative_kernel is None:
            raise _no_closed_form(act, "chi_c")
        qs, cs = _sym(q), _sym(c)
        sub = {S.q11: qs, S.q22: qs, S.q12: qs * cs}
        return net.sigma_w2 * act.derivative_kernel.subs(sub, simultaneous=True)
    q = _array("q", q)
    c = _array("c", c, nonnegative=False)
    if (np.abs(c) > 1 + 1e-12).any():
        raise InvalidParameter("a correlation c must lie in [-1, 1]")
    q, c = np.broadcast_arrays(q, np.clip(c, -1.0, 1.0))
    on_diagonal = c == 1.0  # E[phi'(u) phi'(u)]: the single-variable integral, exact at q = 0
    out = np.empty(q.shape)
    if on_diagonal.any():
        out[on_diagonal] = _mean_square(act, q[on_diagonal], 1, nodes)
    off = ~on_diagonal
    if off.any():
        out[off] = gaussian_kernel(act, q[off], q[off], q[off] * c[off], 1, nodes)
    return _out(net.sigma_w2 * out)


def chi_parallel(net: Network, q, *, nodes: int | None = None):
    """chi_parallel = sigma_w2 d E[phi(u)^2]/dq, the slope of the length map (PDLT's chi_par).

    Equal to chi_1 + sigma_w2 E[phi''(u) phi(u)]; xi_q = -1/ln chi_parallel at q*
    (PHYSICS.md §3, §7).

    >>> from nnqft.rules.network import Network
    >>> chi_parallel(Network("feedforward", "erf"), S.q)
    4*sigma_w2/(pi*(2*q + 1)*sqrt(4*q + 1))
    """
    _check_network(net)
    act = net.activation
    if _symbolic(net, q):
        expr = _diag_derivative_expr(act)
        if expr is None:
            raise _no_closed_form(act, "chi_parallel")
        return net.sigma_w2 * expr.subs(S.q, _sym(q))
    q = _array("q", q)
    return _out(net.sigma_w2 * _d_mean_square(act, q, nodes))


# --- trajectories -------------------------------------------------------------------------


def _numeric_network(net: Network, what: str) -> None:
    if not net.is_numeric:
        raise InvalidParameter(
            f"{what} needs numbers for sigma_w2, sigma_b2 and q0, got "
            f"sigma_w2={net.sigma_w2}, sigma_b2={net.sigma_b2}, q0={net.q0}"
        )


def _depth(net: Network, depth) -> int:
    depth = net.depth if depth is None else depth
    if isinstance(depth, bool) or not isinstance(depth, numbers.Integral) or depth < 1:
        raise InvalidParameter(f"depth must be an integer >= 1, got {depth!r}")
    return int(depth)


def q_trajectory(net: Network, depth: int | None = None, *, nodes: int | None = None):
    """Mean-field q(t) for t = 1..T: q(1) = sigma_w2 q0 + sigma_b2, then the length map.

    phi is not applied to the input (PHYSICS.md §1), so q(1) is the same for every
    activation.  ``depth`` defaults to the network's depth.

    >>> from nnqft.rules.network import Network
    >>> q_trajectory(Network("feedforward", "linear", sigma_w2=2.0, sigma_b2=1.0, depth=4))
    array([ 3.,  7., 15., 31.])
    """
    _check_network(net)
    _numeric_network(net, "q_trajectory")
    T = _depth(net, depth)
    out = np.empty(T)
    out[0] = net.sigma_w2 * net.q0 + net.sigma_b2
    for t in range(1, T):
        out[t] = length_map(net, out[t - 1], nodes=nodes)
    return out


def correlation_trajectory(
    net: Network, c0: float, depth: int | None = None, *, nodes: int | None = None
):
    """Mean-field (q11, q22, q12, c) per layer t = 1..T for two inputs of norm q0.

    The inputs have |x1|^2/N = |x2|^2/N = q0 and correlation c0, so layer 1 has
    q11 = q22 = sigma_w2 q0 + sigma_b2 and q12 = sigma_w2 q0 c0 + sigma_b2 (PHYSICS.md §1).

    >>> from nnqft.rules.network import Network
    >>> net = Network("feedforward", "erf", sigma_w2=0.5, sigma_b2=0.0, depth=3)
    >>> correlation_trajectory(net, 1.0)[3]          # identical inputs stay identical
    array([1., 1., 1.])
    """
    _check_network(net)
    _numeric_network(net, "correlation_trajectory")
    c0 = float(_array("c0", c0, nonnegative=False))
    if abs(c0) > 1:
        raise InvalidParameter(f"input correlation c0 must lie in [-1, 1], got {c0}")
    T = _depth(net, depth)
    q11, q22, q12 = np.empty(T), np.empty(T), np.empty(T)
    q11[0] = q22[0] = net.sigma_w2 * net.q0 + net.sigma_b2
    q12[0] = net.sigma_w2 * net.q0 * c0 + net.sigma_b2
    for t in range(1, T):
        q11[t] = length_map(net, q11[t - 1], nodes=nodes)
        q22[t] = q11[t] if q22[t - 1] == q11[t - 1] else length_map(net, q22[t - 1], nodes=nodes)
        q12[t] = correlation_map(net, q11[t - 1], q22[t - 1], q12[t - 1], nodes=nodes)
    with np.errstate(invalid="ignore", divide="ignore"):
        c = np.where(q11 * q22 > 0, q12 / np.sqrt(q11 * q22), 1.0)
    return q11, q22, q12, np.clip(c, -1.0, 1.0)
