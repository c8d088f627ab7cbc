"""Mean-field theory of wide random networks: maps, fixed points, chi's and depth scales.

The saddle point of the field theory (docs/conventions.md §3).  With u ~ N(0, q) and
(u1, u2) ~ N(0, [[q11, q12], [q12, q22]]):

    length map        q'   = sigma_w2 E[phi(u)^2]        + sigma_b2
    correlation map   q12' = sigma_w2 E[phi(u1) phi(u2)] + sigma_b2
    chi_1             = sigma_w2 E[phi'(u)^2]                 (gradients; Lyapunov 1/2 ln chi_1)
    chi_c             = sigma_w2 E[phi'(u1) phi'(u2)]         (slope of the c-map)
    chi_parallel      = sigma_w2 d E[phi(u)^2] / dq           (slope of the q-map; PDLT's chi_par)

Every function takes a :class:`~nnqft.rules.network.Network`.  With numbers (floats or
numpy arrays, which broadcast) the result is a number or an array, from the activation's
closed-form kernel where it has one and from quadrature otherwise: Gauss-Hermite with a node
count that grows with q (``NODE_BANDS`` of :mod:`nnqft.rules.activations`), or a polar
rule split at a kink at 0;
``nodes=...`` forces one Gauss-Hermite rule.  With a sympy symbol for q or for the
network's variances the result is a sympy expression, for activations with a closed-form
kernel.  Fixed points, the edge of chaos and phase diagrams come from one vectorised engine
(:func:`fixed_point`, :func:`critical_point`, :func:`critical_line`,
:func:`nnqft.derive.meanfield.phase.phase_diagram`).

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
from dataclasses import asdict, dataclass, field

import numpy as np
import sympy as sp

from ...errors import InvalidParameter, InvalidType, NoExactForm
from ...rules import symbols as S
from ...rules.activations import (
    Activation,
    diagonal_kernel,
    gaussian_kernel,
    gaussian_mean,
    gaussian_tail,
    hermite_groups,
    hermite_rule,
    mean_square,
    method_name,
    node_counts,
    numeric_function,
    polar_gaussian_mean,
)
from ...rules.network import Network

__all__ = [
    "CRITICAL_TOL",
    "MeanField",
    "CriticalPoint",
    "CriticalLine",
    "fixed_point",
    "critical_point",
    "critical_line",
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
    from ..convert import to_sympy

    return sp.nsimplify(value) if isinstance(value, float) else to_sympy(value, "q")


# --- Gaussian integrals of phi, vectorised ----------------------------------------------


def _by_rule(q: np.ndarray, nodes: int | None, evaluate, outputs: int):
    """Apply ``evaluate(x, w, q_sub) -> tuple of arrays`` per Gauss-Hermite rule group."""
    out = [np.empty(q.shape) for _ in range(outputs)]
    for idx, x, w in hermite_groups(q, nodes):
        for o, v in zip(out, evaluate(x, w, q[idx])):
            o[idx] = v
    return tuple(out)


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


def _kinked_d_mean_square(act: Activation, var, nodes: int | None) -> np.ndarray:
    """d/dq E[phi(u)^2] for phi with a kink, vectorised.

    d/dq E[phi^2] = E[phi'^2 + phi phi''], but phi'' holds a delta function at a kink; Stein's
    lemma gives the equivalent E[u phi phi'] / q, which needs phi' only.
    """
    var = np.asarray(var, dtype=float)
    f0, f1 = act.numeric(0), act.numeric(1)
    num = (
        polar_gaussian_mean(lambda u: u * f0(u) * f1(u), lambda u: 1.0, var, var, var)
        if act.kinks == (0,)
        else gaussian_mean(lambda u: u * f0(u) * f1(u), var, nodes)
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        small = var <= 0
        safe = np.where(small, 1.0, var)
        out = np.where(small, f1(np.zeros_like(var)) ** 2, num / safe)
    return out


def _pair_kernel(act: Activation, v1, v2, cov, derivative: int, nodes: int | None):
    """E[phi^(k)(u1) phi^(k)(u2)], vectorised: closed form, polar rule at kinks, or a tensor
    Gauss-Hermite rule graded by the variances, so the maps agree with the fixed points at
    large q (see :func:`~nnqft.rules.activations.gaussian_kernel`)."""
    return gaussian_kernel(act, v1, v2, cov, derivative, nodes)


def _moment(act: Activation, q: np.ndarray, which: int, nodes: int | None) -> np.ndarray:
    """E phi^2 (which=0), E phi'^2 (1) or d E phi^2/dq (2) for an array of any shape."""
    flat = np.ascontiguousarray(q, dtype=float).ravel()
    return _diag_moments(act, flat, nodes)[which].reshape(np.shape(q))


# --- the maps -----------------------------------------------------------------------------


def length_map(net: Network, q, *, nodes: int | None = None):
    """The length map q -> sigma_w2 E[phi(u)^2] + sigma_b2, u ~ N(0, q) (docs/conventions.md §3).

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
    return _out(net.sigma_w2 * _moment(act, q, 0, nodes) + net.sigma_b2)


def correlation_map(net: Network, q11, q22, q12, *, nodes: int | None = None):
    """The correlation map q12 -> sigma_w2 E[phi(u1) phi(u2)] + sigma_b2 (docs/conventions.md §3).

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
    return _out(net.sigma_w2 * _pair_kernel(act, v1, v2, cov, 0, nodes) + net.sigma_b2)


def chi_1(net: Network, q, *, nodes: int | None = None):
    """chi_1 = sigma_w2 E[phi'(u)^2], u ~ N(0, q): the gradient (Jacobian) growth per layer.

    At the fixed point q* the largest Lyapunov exponent is 1/2 ln chi_1; the edge of chaos is
    chi_1 = 1 (docs/conventions.md §3).

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
    return _out(net.sigma_w2 * _moment(act, q, 1, nodes))


def chi_c(net: Network, q, c, *, nodes: int | None = None):
    """chi_c = sigma_w2 E[phi'(u1) phi'(u2)] for equal variances q and correlation c.

    The slope of the normalised correlation map c -> q12'/q* at the length fixed point
    (Price's theorem), so xi_c = -1/ln chi_c at c* (docs/conventions.md §3).  At c = 1 it equals
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
        out[on_diagonal] = _moment(act, q[on_diagonal], 1, nodes)
    off = ~on_diagonal
    if off.any():
        out[off] = _pair_kernel(act, q[off], q[off], q[off] * c[off], 1, nodes)
    return _out(net.sigma_w2 * out)


def chi_parallel(net: Network, q, *, nodes: int | None = None):
    """chi_parallel = sigma_w2 d E[phi(u)^2]/dq, the slope of the length map (PDLT's chi_par).

    Equal to chi_1 + sigma_w2 E[phi''(u) phi(u)]; xi_q = -1/ln chi_parallel at q*
    (docs/conventions.md §3, §7).

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
    return _out(net.sigma_w2 * _moment(act, q, 2, nodes))


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

    phi is not applied to the input (docs/conventions.md §1), so q(1) is the same for every
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
    q11 = q22 = sigma_w2 q0 + sigma_b2 and q12 = sigma_w2 q0 c0 + sigma_b2
    (docs/conventions.md §1).

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


# --- fixed points: a vectorised engine shared by fixed_point and the phase diagram --------

#: |chi - 1| below this counts as exactly 1: the critical phase and infinite depth scales
CRITICAL_TOL = 1e-9
#: a q beyond this is taken as unbounded growth (no finite fixed point)
_Q_DIVERGED = 1e12
#: grid points per vectorised chunk (keeps quadrature arrays in cache)
_CHUNK = 4096


@functools.lru_cache(maxsize=256)
def _traits(act: Activation) -> tuple[bool, bool, float, float]:
    """(is_odd, is_scale_invariant, phi(0), phi'(0)) of an activation, cached."""
    phi0 = float(act.expr.subs(S.z, 0))
    dphi0 = act.derivative(1).subs(S.z, 0)
    try:
        dphi0 = float(dphi0)
    except TypeError:  # a kink at 0: phi'(0) undefined
        dphi0 = float("nan")
    return act.is_odd, act.is_scale_invariant, phi0, dphi0


@functools.lru_cache(maxsize=256)
def _fused_moments(act: Activation):
    """One numpy function u -> (phi^2, phi'^2, phi'^2 + phi phi'') sharing subexpressions."""
    p0, p1, p2 = act.expr, act.derivative(1), act.derivative(2)
    square = sp.lambdify((S.z,), p0**2, modules=["scipy", "numpy"])
    # In the derivatives of exp-type activations (swish, sigmoid, softplus) far out, the
    # exponentials overflow into inf/inf = nan where the true value is the saturated limit
    # (e.g. swish'(-1000) = 0).  Clipping exponents at +-150 (e^150 ~ 1e65, so its 4th power
    # stays finite) keeps those limits right to ~1e-60; phi^2 itself is left unclipped, so
    # genuine growth still shows as inf.
    exp = {"exp": lambda x: np.exp(np.clip(x, -150.0, 150.0))}
    slopes = sp.lambdify(
        (S.z,), [p1**2, p1**2 + p0 * p2], modules=[exp, "scipy", "numpy"], cse=True
    )

    def moments(u):
        return [np.broadcast_to(v, u.shape) for v in (square(u), *slopes(u))]

    return moments


@functools.lru_cache(maxsize=256)
def _closed_moments(act: Activation):
    """Closed-form q -> (E phi^2, E phi'^2, d E phi^2/dq) as numpy functions, or None."""
    d0, d1, dpar = diagonal_kernel(act, 0), diagonal_kernel(act, 1), _diag_derivative_expr(act)
    if d0 is None or d1 is None:
        return None
    return tuple(numeric_function(e, (S.q,)) for e in (d0, d1, dpar))


def _diag_moments(act: Activation, q: np.ndarray, nodes: int | None):
    """E[phi^2], E[phi'^2] and dE[phi^2]/dq at variances ``q`` (1-d array), vectorised."""
    closed = _closed_moments(act) if nodes is None else None
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        if closed is not None:
            return tuple(np.asarray(f(q), dtype=float) + 0.0 * q for f in closed)
        if _smooth(act):
            fused = _fused_moments(act)

            def evaluate(x, w, qs):
                # einsum, not BLAS: a threaded matvec is 20x slower on a busy machine
                return [np.einsum("ij,j->i", v, w) for v in fused(np.sqrt(qs)[:, None] * x)]

            return _by_rule(q, nodes, evaluate, 3)
    return (
        mean_square(act, q, 0, nodes),
        mean_square(act, q, 1, nodes),
        _kinked_d_mean_square(act, q, nodes),
    )


def _method(act: Activation, nodes: int | None) -> str:
    if act.has_closed_form and nodes is None:
        return "closed-form"
    if act.kinks == (0,):
        return "quadrature: polar gauss-legendre split at the kink"
    return f"quadrature: {method_name(act, nodes)}; c-map by its Mehler (Hermite) series"


def _solve_q(act: Activation, sw, sb, q1, nodes):
    """q* reached from q(1) = q1 by the length map, vectorised over equal-shape 1-d arrays.

    Returns (q*, E phi^2, E phi'^2, dE phi^2/dq) at q*.  q* = inf where q grows without
    bound; q* = 0 where (phi(0) = 0, sigma_b2 = 0) the length map contracts to 0, which it
    does algebraically slowly at chi = 1 (docs/conventions.md §3), so it is decided, not iterated.
    """
    odd, scale_inv, phi0, dphi0 = _traits(act)
    q = q1.astype(float).copy()
    zero_branch = (sb == 0) & (phi0 == 0)
    if scale_inv:
        # E phi^2 = kappa q exactly: the map is affine, q' = a q + sigma_b2
        m0, m1, mp = _diag_moments(act, np.ones(1), nodes)
        a = sw * m0[0]
        with np.errstate(divide="ignore", invalid="ignore"):
            qs = np.where(a < 1, sb / (1 - a), np.inf)
        qs = np.where((np.abs(a - 1) <= CRITICAL_TOL) & (sb == 0), q1, qs)
        ones = np.ones_like(qs)
        return qs, m0[0] * np.where(np.isfinite(qs), qs, 1.0), m1[0] * ones, mp[0] * ones
    # zero branch, sigma_w2 phi'(0)^2 <= 1 and the map pulls small q down (tanh-like):
    # q -> 0, algebraically slowly at chi = 1, so decided rather than iterated
    s0 = sw * dphi0**2
    to_zero = zero_branch & (s0 <= 1 + CRITICAL_TOL) & _zero_attracts(act, nodes)
    q[to_zero] = 0.0
    m0, m1, mp = (np.zeros_like(q) for _ in range(3))
    active = ~to_zero
    idx = np.flatnonzero(active)
    if idx.size:
        m0[idx], m1[idx], mp[idx] = _diag_moments(act, q[idx], nodes)
    for _ in range(200):
        idx = np.flatnonzero(active)
        qa, swa, sba = q[idx], sw[idx], sb[idx]
        g = swa * m0[idx] + sba - qa
        lost = ~np.isfinite(g)  # exp-type activations overflow in the quadrature at huge q
        q[idx[lost]] = np.inf
        stop = (np.abs(g) <= 1e-14 * np.maximum(1.0, qa)) | (qa > _Q_DIVERGED) | lost
        active[idx[stop]] = False
        keep = ~stop
        idx, qa, swa, sba, g = idx[keep], qa[keep], swa[keep], sba[keep], g[keep]
        if idx.size == 0:
            break
        mapped = swa * m0[idx] + sba
        with np.errstate(divide="ignore", invalid="ignore"):
            newton = qa - g / (swa * mp[idx] - 1.0)
        # safeguard: a Newton step must go where the map goes (sign of g) and lower |g|;
        # otherwise take a map step, which never passes the fixed point it approaches
        ok = np.isfinite(newton) & (newton >= 0) & (np.sign(newton - qa) == np.sign(g))
        trial = np.where(ok, newton, mapped)
        t0, t1, tp = _diag_moments(act, trial, nodes)
        better = np.abs(swa * t0 + sba - trial) <= np.abs(g)
        q[idx] = np.where(better, trial, mapped)
        m0[idx], m1[idx], mp[idx] = t0, t1, tp
        redo = idx[~better]  # map steps taken instead: their moments are still to compute
        if redo.size:
            m0[redo], m1[redo], mp[redo] = _diag_moments(act, q[redo], nodes)
    q = np.where(q > _Q_DIVERGED, np.inf, q)
    # a Newton step may still land on an unstable root the map never reaches from q(1):
    # redo those points by plain iteration of the map
    unstable = np.isfinite(q) & (np.abs(sw * mp) > 1 + CRITICAL_TOL)
    if unstable.any():
        idx = np.flatnonzero(unstable)
        q[idx] = _iterate_map(act, sw[idx], sb[idx], q1[idx].astype(float), nodes)
    # q -> 0 found by Newton (e.g. sigma_w2 phi'(0)^2 < 1 without the test above)
    q = np.where(zero_branch & (s0 <= 1 + CRITICAL_TOL) & (q <= 1e-12 * q1), 0.0, q)
    fix = np.flatnonzero(unstable | (q == 0))
    if fix.size:
        m0[fix], m1[fix], mp[fix] = _diag_moments(act, q[fix], nodes)
    unbounded = np.flatnonzero(~np.isfinite(q))
    if unbounded.size:  # no fixed point: nothing is evaluated "at q*"
        m0[unbounded], m1[unbounded], mp[unbounded] = np.inf, np.nan, np.nan
    return q, m0, m1, mp


def _iterate_map(act: Activation, sw, sb, q, nodes, steps: int = 20000):
    """Plain iteration of the length map (vectorised) until it settles or diverges.

    Points still rising after ``steps`` steps count as unbounded (e.g. GELU at sigma_w2 = 2,
    whose map tends to q' = q + const: q grows linearly, there is no fixed point).
    """
    active = np.ones(q.shape, dtype=bool)
    rising = np.zeros(q.shape, dtype=bool)
    for _ in range(steps):
        m0, _, _ = _diag_moments(act, q[active], nodes)
        new = sw[active] * m0 + sb[active]
        settled = np.abs(new - q[active]) <= 1e-14 * np.maximum(1.0, new)
        rising[active] = new > q[active]
        q[active] = new
        active[np.flatnonzero(active)[settled | (new > _Q_DIVERGED)]] = False
        if not active.any():
            break
    return np.where((q > _Q_DIVERGED) | (active & rising), np.inf, q)


def _mehler_coefficients(act: Activation, q: np.ndarray, nodes: int | None) -> np.ndarray:
    """b_n(q) with E[phi(u1) phi(u2)] = sum_n b_n c^n at equal variances q (Mehler).

    b_n = (E[phi(sqrt(q) x) He_n(x)])^2 / n!, by the same Gauss-Hermite rule as the
    single-variable integrals, so sum_n b_n = E[phi^2] exactly (the discrete transform is
    orthogonal).  Coefficients past the point where the tail is below 1e-17 are dropped.
    """
    phi = act.numeric(0)
    groups = []
    for sel, x, w in hermite_groups(q, nodes):
        basis = _orthonormal_hermite(x.size)  # (n, nodes), rows sqrt(w) He_n/sqrt(n!)
        with np.errstate(over="ignore", invalid="ignore"):
            f = np.broadcast_to(phi(np.sqrt(q[sel])[:, None] * x), (sel.size, x.size))
            a = (f * np.sqrt(w)) @ basis.T
        b = a * a
        tail = np.cumsum(b[:, ::-1], axis=1)[:, ::-1]  # tail[:, n] = sum_{k >= n} b_k
        small = tail <= 1e-17 * tail[:, :1]
        first = np.where(small.any(axis=1), small.argmax(axis=1), b.shape[1])
        groups.append((sel, b[:, : max(1, int(first.max()))]))
    out = np.zeros((q.size, max(b.shape[1] for _, b in groups)))
    for sel, b in groups:
        out[sel, : b.shape[1]] = b
    return out


@functools.lru_cache(maxsize=16)
def _orthonormal_hermite(nodes: int) -> np.ndarray:
    """sqrt(w_i) He_n(x_i)/sqrt(n!) for n < nodes at the Gauss-Hermite nodes: an orthogonal
    matrix (the discrete Hermite transform).  The recurrence carries sqrt(w) from the start,
    so the far nodes (tiny weights, huge He_n) neither overflow nor lose the small entries."""
    x, w = hermite_rule(nodes)
    H = np.empty((nodes, x.size))
    H[0] = np.sqrt(w)
    H[1] = x * H[0]
    for n in range(1, nodes - 1):
        H[n + 1] = (x * H[n] - np.sqrt(n) * H[n - 1]) / np.sqrt(n + 1)
    return H


def _correlation_map_at(act: Activation, sw, sb, q, nodes):
    """(c, sel) -> (C(c), C'(c)) for the points ``sel``, with C(c) = (sigma_w2 E[phi(u1)
    phi(u2)] + sigma_b2)/q at equal variances q and correlation c; C'(c) = chi_c (Price's
    theorem).  Closed-form kernels where they exist, polar quadrature for kinks at 0, else
    the Mehler series of the Gauss-Hermite rule (cheap to re-evaluate in c)."""
    if (act.has_closed_form and nodes is None) or act.kinks:

        def cmap(c, sel):
            qs = q[sel]
            k = gaussian_kernel(act, qs, qs, qs * c, 0, nodes)
            d = gaussian_kernel(act, qs, qs, qs * c, 1, nodes)
            return (sw[sel] * k + sb[sel]) / qs, sw[sel] * d

        return cmap
    b = _mehler_coefficients(act, q, nodes)

    def cmap(c, sel):
        bs = b[sel]
        val = np.zeros_like(c)
        der = np.zeros_like(c)
        for k in range(bs.shape[1] - 1, -1, -1):  # Horner, value and derivative together
            der = der * c + val
            val = val * c + bs[:, k]
        return (sw[sel] * val + sb[sel]) / q[sel], sw[sel] * der / q[sel]

    return cmap


def _solve_c(act: Activation, sw, sb, q, chi1, nodes):
    """The stable correlation fixed point c* and chi_c there, vectorised.

    At equal variances C(c) = (sigma_w2 sum_n b_n c^n + sigma_b2)/q* has non-negative Mehler
    coefficients b_n, so C is increasing and convex on [0, 1] with C(0) >= 0 and C(1) = 1.
    Ordered (chi_1 < 1) and critical: c* = 1.  Chaotic (chi_1 = C'(1) > 1): exactly one
    other fixed point, in [0, 1), stable; Newton from c = 0 climbs to it monotonically
    (bisection guards against rounding).  Odd phi at sigma_b2 = 0: C is odd, c* = 0 exactly.
    """
    odd = _traits(act)[0]
    c = np.ones_like(q)
    chic = chi1.copy()
    chaotic = (chi1 > 1 + CRITICAL_TOL) & np.isfinite(q) & (q > 0)
    if not chaotic.any():
        return c, chic
    idx = np.flatnonzero(chaotic)
    sw_, sb_, q_ = sw[idx], sb[idx], q[idx]
    exact_zero = odd & (sb_ == 0)
    todo = np.flatnonzero(~exact_zero)
    cc = np.zeros_like(q_)
    if todo.size:
        sub_sw, sub_sb, sub_q = sw_[todo], sb_[todo], q_[todo]
        cmap = _correlation_map_at(act, sub_sw, sub_sb, sub_q, nodes)
        x = np.zeros(todo.size)
        lo, hi = np.zeros(todo.size), np.ones(todo.size)
        active = np.arange(todo.size)
        for _ in range(100):
            val, der = cmap(x[active], active)
            xa = x[active]
            h = val - xa
            lo[active] = np.where(h >= 0, np.maximum(lo[active], xa), lo[active])
            hi[active] = np.where(h < 0, np.minimum(hi[active], xa), hi[active])
            with np.errstate(divide="ignore", invalid="ignore"):
                new = xa - h / (der - 1.0)
            bad = ~np.isfinite(new) | (new < lo[active]) | (new > hi[active])
            new = np.where(bad, 0.5 * (lo[active] + hi[active]), new)
            x[active] = new
            # c lies in [0, 1]; near the edge h is flat and rounding in h (~1e-16) moves the
            # Newton step by ~1e-16/(1 - chi_c): stop on a residual at rounding level too
            active = active[(np.abs(new - xa) > 1e-15) & (np.abs(h) > 4e-16)]
            if active.size == 0:
                break
        cc[todo] = x
        _, der = cmap(x, np.arange(todo.size))
        chic[idx[todo]] = der
    zero = np.flatnonzero(exact_zero)
    if zero.size:  # at c = 0 the two inputs are independent: chi_c = sigma_w2 E[phi']^2
        chic[idx[zero]] = sw_[zero] * _mean_derivative(act, q_[zero], nodes) ** 2
    c[idx] = cc
    return c, chic


def _mean_derivative(act: Activation, q, nodes):
    """E[phi'(u)], u ~ N(0, q), vectorised (polar rule for a kink at 0)."""
    f1 = act.numeric(1)
    if act.kinks == (0,):
        return polar_gaussian_mean(f1, lambda u: 1.0, q, q, q)

    def evaluate(x, w, qs):
        vals = np.broadcast_to(f1(np.sqrt(qs)[:, None] * x), (qs.size, x.size))
        return [np.einsum("ij,j->i", vals, w)]

    return _by_rule(q, nodes, evaluate, 1)[0]


def _depth_scale(chi):
    """xi = -1/ln|chi|; infinite within CRITICAL_TOL of |chi| = 1, NaN where |chi| > 1."""
    chi = np.asarray(chi, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        xi = -1.0 / np.log(np.abs(chi))  # a negative slope (e.g. cos) decays with a sign flip
    xi = np.where(np.abs(np.abs(chi) - 1) <= CRITICAL_TOL, np.inf, xi)
    return np.where(np.abs(chi) > 1 + CRITICAL_TOL, np.nan, xi)


def _phase(chi1):
    chi1 = np.asarray(chi1, dtype=float)
    out = np.where(chi1 > 1, "chaotic", "ordered").astype("<U9")
    out = np.where(np.isnan(chi1), "undefined", out)
    return np.where(np.abs(chi1 - 1) <= CRITICAL_TOL, "critical", out)


def _mean_field_arrays(act: Activation, sw, sb, q0, nodes=None) -> dict:
    """Every mean-field quantity on broadcast arrays of (sigma_w2, sigma_b2, q0)."""
    sw, sb, q0 = (np.asarray(v, dtype=float) for v in (sw, sb, q0))
    shape = np.broadcast_shapes(sw.shape, sb.shape, q0.shape)
    sw, sb, q0 = (np.broadcast_to(v, shape).ravel() for v in (sw, sb, q0))
    qs, m0, m1, mp = _solve_q(act, sw, sb, sw * q0 + sb, nodes)
    chi1 = sw * m1
    chipar = sw * mp
    cs, chic = _solve_c(act, sw, sb, qs, chi1, nodes)
    # no fixed point: every quantity defined at q* is undefined, for every activation alike
    # (a q -> oo limit is not defined for all: exp-type phi give inf, swish a cutoff value)
    unbounded = ~np.isfinite(qs)
    phase = np.where(unbounded, "unbounded", _phase(chi1))
    chi1 = np.where(unbounded, np.nan, chi1)
    chipar = np.where(unbounded, np.nan, chipar)
    cs = np.where(unbounded, np.nan, cs)
    chic = np.where(unbounded, np.nan, chic)
    xi_q = np.where(unbounded, np.nan, _depth_scale(chipar))
    xi_c = np.where(unbounded, np.nan, _depth_scale(chic))
    with np.errstate(divide="ignore", invalid="ignore"):
        lyap = 0.5 * np.log(chi1) + 0.0  # + 0.0: no negative zero at chi_1 = 1
    out = {
        "q_star": qs,
        "c_star": cs,
        "chi_1": chi1,
        "chi_c": chic,
        "chi_parallel": chipar,
        "lyapunov_exponent": lyap,
        "xi_q": xi_q,
        "xi_c": xi_c,
        "phase": phase,
    }
    return {k: v.reshape(shape) for k, v in out.items()}


@dataclass(frozen=True)
class MeanField:
    """The mean-field state of a network at its fixed point (docs/conventions.md §3).

    ``q_star``: length fixed point (inf: q grows without bound); ``c_star``: stable
    correlation fixed point; ``chi_1``, ``chi_c``, ``chi_parallel``: slopes (gradient
    growth, c-map slope at c*, q-map slope at q*); ``lyapunov_exponent`` = 1/2 ln chi_1;
    ``xi_q`` = -1/ln chi_parallel and ``xi_c`` = -1/ln chi_c (inf at criticality);
    ``phase``: 'ordered' (chi_1 < 1), 'critical' or 'chaotic' (chi_1 > 1); ``method``: how
    the Gaussian integrals were done.
    """

    activation: str
    sigma_w2: float
    sigma_b2: float
    q_star: float
    c_star: float
    chi_1: float
    chi_c: float
    chi_parallel: float
    lyapunov_exponent: float
    xi_q: float
    xi_c: float
    phase: str
    method: str
    reasons: dict = field(default_factory=dict)
    quadrature_error: dict | None = None

    def as_dict(self) -> dict:
        """The fields as a plain dict (floats; inf/nan where a scale is infinite/undefined)."""
        return asdict(self)


#: relative quadrature error above which :func:`fixed_point` results are flagged: the
#: accuracy the tests check the rules to (README, quadrature)
QUADRATURE_TOL = 1e-9

_AT_Q_STAR = ("c_star", "chi_1", "chi_c", "chi_parallel", "lyapunov_exponent", "xi_q", "xi_c")


def _reasons(values: dict, why_unbounded: str) -> dict:
    """{key: why} for every quantity that is infinite or undefined (JSON null)."""
    out = {}
    if not np.isfinite(values["q_star"]):
        out["q_star"] = why_unbounded
        for key in _AT_Q_STAR:
            out[key] = "no fixed point q*, where it is defined"
        return out
    for key, chi in (("xi_q", "chi_parallel"), ("xi_c", "chi_c")):
        if np.isinf(values[key]):
            out[key] = f"infinite: |{chi}| = 1 at the fixed point (critical)"
        elif np.isnan(values[key]):
            out[key] = f"undefined: |{chi}| > 1, the fixed point is unstable in this direction"
    lyap = values["lyapunov_exponent"]
    if not np.isfinite(lyap):
        out["lyapunov_exponent"] = "minus infinity: chi_1 = 0 (phi' = 0 almost everywhere at q*)"
    return out


def _why_unbounded(net: Network, nodes) -> str:
    """Why q(t) has no fixed point: the length map's integral diverges on the way, or q grows."""
    act = net.activation
    phi = act.numeric(0)
    if not (act.has_closed_form and nodes is None):
        q = float(net.sigma_w2 * net.q0 + net.sigma_b2)
        for layer in range(1, 201):
            why = gaussian_tail(lambda u: phi(u) ** 2, q)
            if why in ("diverges", "overflows"):
                return (
                    f"no fixed point: E[phi(u)^2], u ~ N(0, q), {why} at q = {q:.6g} "
                    f"(layer {layer}): the length map is not finite from there on"
                )
            with np.errstate(all="ignore"):
                q = float(length_map(net, q, nodes=nodes))
            if not np.isfinite(q) or q > _Q_DIVERGED:
                break
    return "no fixed point: q(t) grows without bound from q(1) = sigma_w2 q0 + sigma_b2"


def _quadrature_error(net: Network, values: dict, nodes) -> dict | None:
    """Estimated relative error of each number from the Gauss-Hermite rule (None for closed
    forms and for the polar rule at a kink at 0, whose node counts are fixed).

    At the fixed point only: the moments (and, in the chaotic phase, the Mehler series of the
    c-map) are recomputed with 1.5x the nodes used at q*, and the differences carried to
    each quantity to first order (dq* = sigma_w2 dE[phi^2]/(1 - chi_parallel), one Newton
    step for c*, dxi/xi = dchi/(chi |ln chi|)).
    """
    act = net.activation
    if (act.has_closed_form and nodes is None) or act.kinks == (0,):
        return None
    q = values["q_star"]
    if not np.isfinite(q):
        return {}
    sw, sb = float(net.sigma_w2), float(net.sigma_b2)
    more = int(node_counts(q, nodes)) * 3 // 2
    qa = np.array([q])
    with np.errstate(all="ignore"):
        a = [float(v[0]) for v in _diag_moments(act, qa, nodes)]
        b = [float(v[0]) for v in _diag_moments(act, qa, more)]
        d0, d1, dp = (sw * (y - x) for x, y in zip(a, b))
        chi1, chipar, chic = values["chi_1"], values["chi_parallel"], values["chi_c"]
        dc = dchic = 0.0
        if values["c_star"] < 1 and q > 0:
            cmap = _correlation_map_at(act, np.array([sw]), np.array([sb]), qa, more)
            val, der = cmap(np.array([values["c_star"]]), np.array([0]))
            dc = float((val[0] - values["c_star"]) / (1 - der[0]))
            dchic = float(der[0] - chic)
        elif values["c_star"] == 1:
            dchic = d1
        abs_err = {
            "q_star": abs(d0 / (1 - chipar)) if chipar != 1 else abs(d0),
            "c_star": abs(dc),
            "chi_1": abs(d1),
            "chi_c": abs(dchic),
            "chi_parallel": abs(dp),
            "lyapunov_exponent": abs(d1 / (2 * chi1)),
            "xi_q": abs(dp / chipar / np.log(abs(chipar))) * abs(values["xi_q"]),
            "xi_c": abs(dchic / chic / np.log(abs(chic))) * abs(values["xi_c"]),
        }
    out = {}
    for key, err in abs_err.items():
        v = values[key]
        if np.isfinite(v) and np.isfinite(err):
            out[key] = float(err / abs(v)) if v != 0 else float(err)
    return out


def fixed_point(net: Network, *, nodes: int | None = None) -> MeanField:
    """The fixed point (q*, c*) of the length and correlation maps, its chi's and depth scales.

    q* is the limit of q(t) from q(1) = sigma_w2 q0 + sigma_b2.  In the chaotic phase c* is
    the stable fixed point below 1 (c = 1 is then unstable); it is 0 for odd phi at
    sigma_b2 = 0.  Feedforward and recurrent nets share the mean-field theory at leading
    order in 1/N (docs/conventions.md §3).

    >>> from nnqft.rules.network import Network
    >>> mf = fixed_point(Network("feedforward", "tanh", sigma_w2=1.5, sigma_b2=0.05))
    >>> round(mf.q_star, 6), round(mf.chi_1, 6), mf.phase
    (0.418037, 0.938636, 'ordered')
    >>> fixed_point(Network("feedforward", "erf", sigma_w2=3.0, sigma_b2=0.0)).c_star
    0.0
    >>> fixed_point(Network("feedforward", "relu", sigma_w2=2.0, sigma_b2=0.0)).phase
    'critical'
    """
    _check_network(net)
    _numeric_network(net, "fixed_point")
    act = net.activation
    arrays = _mean_field_arrays(act, net.sigma_w2, net.sigma_b2, net.q0, nodes)
    values = {k: (str(v[()]) if k == "phase" else float(v[()])) for k, v in arrays.items()}
    if np.isfinite(values["q_star"]) and not (act.has_closed_form and nodes is None):
        for what, k in (("phi(u)^2", 0), ("phi'(u)^2", 1)):
            f = act.numeric(k)
            why = gaussian_tail(lambda u, f=f: f(u) ** 2, values["q_star"])
            if why in ("diverges", "overflows"):  # 'unresolved' shows in quadrature_error
                raise InvalidParameter(
                    f"E[{what}] {why} for {act.name} at q* = {values['q_star']:.6g} "
                    "(u ~ N(0, q*)): the quadrature cannot give the fixed point"
                )
    why_unbounded = "" if np.isfinite(values["q_star"]) else _why_unbounded(net, nodes)
    return MeanField(
        activation=act.name,
        sigma_w2=float(net.sigma_w2),
        sigma_b2=float(net.sigma_b2),
        method=_method(act, nodes),
        reasons=_reasons(values, why_unbounded),
        quadrature_error=_quadrature_error(net, values, nodes),
        **values,
    )


# --- the edge of chaos ----------------------------------------------------------------------


@dataclass(frozen=True)
class CriticalPoint:
    """A point on the edge of chaos: chi_1(q*) = 1 at the fixed point q*.

    Conventions: docs/conventions.md §3, §7.

    ``condition`` says which criticality: chi_1 = 1 at a given sigma_b2, or
    chi_parallel = chi_1 = 1 (both depth scales infinite; PDLT's criticality, at q* != 0 for
    GELU and swish).  ``q_star`` is NaN where every q is a fixed point (scale-invariant
    activations at sigma_b2 = 0) and inf where q grows without bound.
    """

    activation: str
    sigma_w2: float
    sigma_b2: float
    q_star: float
    chi_1: float
    chi_parallel: float
    condition: str
    method: str

    def as_dict(self) -> dict:
        """The fields as a plain dict."""
        return asdict(self)


#: variances scanned for sign changes when bracketing critical points
_Q_SCAN = np.concatenate([[0.0], np.geomspace(1e-5, 1e4, 271)])


def _variance(name: str, value) -> float:
    if isinstance(value, (str, bytes, bool)) or value is None:
        raise InvalidType(f"{name} must be a number, got {value!r}")
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise InvalidType(f"{name} must be a number, got {value!r}") from None
    if not np.isfinite(value) or value < 0:
        raise InvalidParameter(f"{name} must be a finite number >= 0, got {value}")
    return value


def _roots(f, grid: np.ndarray, values: np.ndarray) -> list[float]:
    """Every sign change of f on ``grid`` (values = f(grid)), polished by Brent's method."""
    from scipy.optimize import brentq

    keep = np.isfinite(values)  # far out, quadrature of exp-type activations overflows
    grid, values = grid[keep], values[keep]
    pos = values > 0
    out = []
    for i in np.flatnonzero(pos[:-1] != pos[1:]):
        if values[i + 1] == 0:
            out.append(float(grid[i + 1]))
        elif values[i] != 0:
            out.append(brentq(f, grid[i], grid[i + 1], xtol=1e-300, rtol=1e-15, maxiter=200))
    return out


@functools.lru_cache(maxsize=64)
def _ratio_scan(act: Activation, nodes):
    """r(q) = E[phi^2]/E[phi'^2] - q as a function, and its values on the scan grid."""

    def ratio(qv):
        m0, m1, _ = _diag_moments(act, np.atleast_1d(np.asarray(qv, dtype=float)), nodes)
        with np.errstate(invalid="ignore", divide="ignore"):
            return m0 / m1 - np.atleast_1d(qv)

    return ratio, ratio(_Q_SCAN)


def _critical_at_bias(act: Activation, sb: float, nodes):
    """(sigma_w2, q*) with chi_1(q*) = 1 at a stable q* = sigma_w2 E phi^2 + sigma_b2, or None.

    Eliminating sigma_w2 = 1/E[phi'^2] leaves one equation for q:
    G(q) = E[phi^2]/E[phi'^2] + sigma_b2 - q = 0, bracketed on a scan and solved by Brent.
    Roots where the length map is unstable there (chi_parallel > 1: no network sits at
    them, e.g. GELU at small sigma_b2) are skipped.
    """
    odd, scale_inv, phi0, dphi0 = _traits(act)
    ratio, base = _ratio_scan(act, nodes)
    for root in _roots(lambda x: float(ratio(x)[0] + sb), _Q_SCAN, base + sb):
        _, m1, mp = _diag_moments(act, np.array([root]), nodes)
        if mp[0] / m1[0] <= 1 + CRITICAL_TOL:
            return 1.0 / m1[0], root
    if sb == 0 and _zero_attracts(act, nodes):
        return _inverse_slope_squared(act), 0.0  # the line ends at q* -> 0 (erf: pi/4)
    return None


@functools.lru_cache(maxsize=64)
def _inverse_slope_squared(act: Activation) -> float:
    """1/phi'(0)^2, evaluated exactly (erf: pi/4) before rounding to a float."""
    return float(1 / act.derivative(1).subs(S.z, 0) ** 2)


@functools.lru_cache(maxsize=64)
def _zero_attracts(act: Activation, nodes) -> bool:
    """At sigma_b2 = 0 and sigma_w2 = phi'(0)^-2, does the length map pull small q to 0?

    True for tanh-like activations (E phi^2 = phi'(0)^2 (q - a q^2 + ...), a > 0), so their
    critical line ends at (phi'(0)^-2, 0) with q* = 0; false for GELU, whose q^2 term
    pushes q away from 0.
    """
    _, _, phi0, dphi0 = _traits(act)
    if phi0 != 0 or not np.isfinite(dphi0) or dphi0 == 0:
        return False
    small = np.array([1e-3, 3e-3, 1e-2])
    m0, _, _ = _diag_moments(act, small, nodes)
    return bool(np.all(m0 / dphi0**2 - small < 0))


def critical_point(activation, sigma_b2=None, *, nodes: int | None = None) -> CriticalPoint:
    """The edge of chaos of an activation.

    With ``sigma_b2``: the sigma_w2 where chi_1(q*) = 1 (docs/conventions.md §3).  Without:
    the point where chi_parallel = chi_1 = 1, i.e. E[phi phi''] = 0 at q*
    (docs/conventions.md §7); for tanh-like
    activations that is (phi'(0)^-2, 0) with q* = 0, for GELU and swish a point with q* != 0.

    >>> round(critical_point("tanh", 0.05).sigma_w2, 6)
    1.760955
    >>> critical_point("erf", 0.0).sigma_w2 == float(np.pi / 4)
    True
    >>> cp = critical_point("relu")
    >>> cp.sigma_w2, cp.sigma_b2
    (2.0, 0.0)
    """
    from ...rules.activations import get_activation

    act = get_activation(activation)
    sb = None if sigma_b2 is None else _variance("sigma_b2", sigma_b2)
    odd, scale_inv, phi0, dphi0 = _traits(act)
    method = _method(act, nodes).replace("; c-map by its Mehler (Hermite) series", "")
    if scale_inv:
        m0, m1, mp = _diag_moments(act, np.ones(1), nodes)
        sw = 1.0 / m1[0]
        sb_ = 0.0 if sb is None else sb
        q_star = float("nan") if sb_ == 0 else float("inf")
        condition = "chi_1 = sigma_w2 E[phi'^2] = 1, independent of q (scale-invariant phi)"
        return CriticalPoint(
            act.name, float(sw), sb_, q_star, 1.0, float(sw * mp[0]), condition, method
        )
    if sb is not None:
        found = _critical_at_bias(act, sb, nodes)
        if found is None:
            raise NoExactForm(
                f"no critical point of {act.name!r} at sigma_b2 = {sb}: chi_1 = 1 holds at no "
                "stable fixed point 0 <= q* <= 1e4 (for GELU and swish omit sigma_b2 to get "
                "the point where chi_parallel = chi_1 = 1)"
            )
        sw, q_star = found
        condition = "chi_1 = 1 at the given sigma_b2"
    else:
        sw, sb, q_star = _critical_both(act, nodes)
        condition = "chi_parallel = chi_1 = 1"
    m0, m1, mp = _diag_moments(act, np.array([q_star]), nodes)
    return CriticalPoint(
        act.name,
        float(sw),
        float(sb),
        float(q_star),
        float(sw * m1[0]),
        float(sw * mp[0]),
        condition,
        method,
    )


def _critical_both(act: Activation, nodes):
    """(sigma_w2, sigma_b2, q*) with chi_parallel = chi_1 = 1: E[phi phi''](q*) = 0."""
    odd, scale_inv, phi0, dphi0 = _traits(act)

    def gap(qv):  # chi_parallel - chi_1 per unit sigma_w2 = E[phi phi'']
        _, m1, mp = _diag_moments(act, np.atleast_1d(np.asarray(qv, dtype=float)), nodes)
        return mp - m1

    grid = _Q_SCAN[1:]
    for q_star in _roots(lambda x: float(gap(x)[0]), grid, gap(grid)):
        m0, m1, _ = _diag_moments(act, np.array([q_star]), nodes)
        sw = 1.0 / m1[0]
        sb = q_star - sw * m0[0]
        if sb >= -1e-12:
            return sw, max(sb, 0.0), q_star
    if _zero_attracts(act, nodes):
        return _inverse_slope_squared(act), 0.0, 0.0  # the K* = 0 class (tanh, erf, sin)
    raise NoExactForm(
        f"no point with chi_parallel = chi_1 = 1 for {act.name!r} (E[phi phi''] = 0 has no "
        "root with sigma_b2 >= 0 for 1e-5 <= q <= 1e4, and q* = 0 is not an attracting "
        "critical fixed point)"
    )


@dataclass(frozen=True)
class CriticalLine:
    """The edge of chaos sigma_w2(sigma_b2) with its q* (NaN where there is none)."""

    activation: str
    sigma_b2: np.ndarray
    sigma_w2: np.ndarray
    q_star: np.ndarray

    def rows(self) -> list[dict]:
        """One dict per point: sigma_b2, sigma_w2, q_star."""
        return [
            {"sigma_b2": float(b), "sigma_w2": float(w), "q_star": float(q)}
            for b, w, q in zip(self.sigma_b2, self.sigma_w2, self.q_star)
        ]


def critical_line(activation, sigma_b2_values, *, nodes: int | None = None) -> CriticalLine:
    """sigma_w2 with chi_1(q*) = 1 for each sigma_b2 (NaN where no stable q* has chi_1 = 1).

    >>> line = critical_line("erf", [0.0, 0.3])
    >>> [round(float(w), 6) for w in line.sigma_w2]
    [0.785398, 1.963071]
    """
    from ...rules.activations import get_activation

    act = get_activation(activation)
    sbs = _array("sigma_b2", sigma_b2_values).ravel()
    sw = np.full(sbs.shape, np.nan)
    qs = np.full(sbs.shape, np.nan)
    for i, sb in enumerate(sbs):
        try:
            point = critical_point(act, float(sb), nodes=nodes)
        except NoExactForm:
            continue
        sw[i], qs[i] = point.sigma_w2, point.q_star
    return CriticalLine(act.name, sbs, sw, qs)
