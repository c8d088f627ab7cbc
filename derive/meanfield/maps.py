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
count that grows with q (``NODE_BANDS`` of :mod:`nnqft.derive.gaussian.quadrature`), or a polar
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

import numpy as np

from ...errors import InvalidParameter
from ...rules import symbols as S
from ...rules.activations import Activation
from ...rules.network import Network, numeric_variances, require_network, resolve_depth
from ..gaussian import closed_form, expect
from ._inputs import _array, _moments, _no_closed_form, _out, _sym, _symbolic

__all__ = [
    "length_map",
    "correlation_map",
    "q_trajectory",
    "correlation_trajectory",
    "chi_1",
    "chi_c",
    "chi_parallel",
]


def _pair(act: Activation, v1, v2, cov, derivative: int, nodes: int | None):
    """E[phi^(k)(u1) phi^(k)(u2)], vectorised: closed form, polar rule at kinks, or a tensor
    Gauss-Hermite rule graded by the variances, so the maps agree with the fixed points at
    large q (see :func:`~nnqft.derive.gaussian.expect`)."""
    return expect(act, "phi' phi'" if derivative else "phi phi", v1, v2, cov, nodes=nodes)


def _moment(act: Activation, q: np.ndarray, which: int, nodes: int | None) -> np.ndarray:
    """E phi^2 (which=0), E phi'^2 (1) or d E phi^2/dq (2) for an array of any shape."""
    return _moments(act, np.asarray(q, dtype=float), nodes)[which]


#: single-variance maps: closed-form key of derive.gaussian, index into _moments, the name
#: an error uses
_ONE_VARIANCE = {
    "length": ("phi^2", 0, "the length map"),
    "chi_1": ("phi'^2", 1, "chi_1"),
    "chi_parallel": ("d/dq phi^2", 2, "chi_parallel"),
}


def _one_variance(net: Network, q, which: str, nodes: int | None, offset=0):
    """sigma_w2 times E phi^2, E phi'^2 or d E phi^2/dq at variance q, plus ``offset``: the
    activation's closed form for a symbolic q or symbolic variances, quadrature (any array
    shape) otherwise."""
    require_network(net)
    act = net.activation
    key, index, name = _ONE_VARIANCE[which]
    if _symbolic(net, q):
        expr = closed_form(act, key)
        if expr is None:
            raise _no_closed_form(act, name)
        return net.sigma_w2 * expr.subs(S.q, _sym(q)) + offset
    return _out(net.sigma_w2 * _moment(act, _array("q", q), index, nodes) + offset)


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
    require_network(net)
    return _one_variance(net, q, "length", nodes, offset=net.sigma_b2)


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
    require_network(net)
    act = net.activation
    if _symbolic(net, q11, q22, q12):
        kernel = closed_form(act, "phi phi")
        if kernel is None:
            raise _no_closed_form(act, "the correlation map")
        sub = {S.q11: _sym(q11), S.q22: _sym(q22), S.q12: _sym(q12)}
        return net.sigma_w2 * kernel.subs(sub, simultaneous=True) + net.sigma_b2
    v1, v2 = _array("q11", q11), _array("q22", q22)
    cov = _array("q12", q12, nonnegative=False)
    if (np.abs(cov) > np.sqrt(v1 * v2) * (1 + 1e-9) + 1e-300).any():
        raise InvalidParameter("q12 must satisfy |q12| <= sqrt(q11 q22) (a covariance)")
    return _out(net.sigma_w2 * _pair(act, v1, v2, cov, 0, nodes) + net.sigma_b2)


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
    return _one_variance(net, q, "chi_1", nodes)


def chi_c(net: Network, q, c, *, nodes: int | None = None):
    """chi_c = sigma_w2 E[phi'(u1) phi'(u2)] for equal variances q and correlation c.

    The slope of the normalised correlation map c -> q12'/q* at the length fixed point
    (Price's theorem), so xi_c = -1/ln chi_c at c* (docs/conventions.md §3).  At c = 1 it equals
    chi_1.

    >>> from nnqft.rules.network import Network
    >>> import sympy as sp
    >>> c = sp.Symbol("c")
    >>> chi_c(Network("feedforward", "erf"), S.q, c)
    4*sigma_w2/(pi*sqrt(-4*c**2*q**2 + (2*q + 1)**2))
    """
    require_network(net)
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
        out[off] = _pair(act, q[off], q[off], q[off] * c[off], 1, nodes)
    return _out(net.sigma_w2 * out)


def chi_parallel(net: Network, q, *, nodes: int | None = None):
    """chi_parallel = sigma_w2 d E[phi(u)^2]/dq, the slope of the length map (PDLT's chi_par).

    Equal to chi_1 + sigma_w2 E[phi''(u) phi(u)]; xi_q = -1/ln chi_parallel at q*
    (docs/conventions.md §3, §7).

    >>> from nnqft.rules.network import Network
    >>> chi_parallel(Network("feedforward", "erf"), S.q)
    4*sigma_w2/(pi*(2*q + 1)*sqrt(4*q + 1))
    """
    return _one_variance(net, q, "chi_parallel", nodes)


# --- trajectories -------------------------------------------------------------------------


def q_trajectory(net: Network, depth: int | None = None, *, nodes: int | None = None):
    """Mean-field q(t) for t = 1..T: q(1) = sigma_w2 q0 + sigma_b2, then the length map.

    phi is not applied to the input (docs/conventions.md §1), so q(1) is the same for every
    activation.  ``depth`` defaults to the network's depth.

    >>> from nnqft.rules.network import Network
    >>> q_trajectory(Network("feedforward", "linear", sigma_w2=2.0, sigma_b2=1.0, depth=4))
    array([ 3.,  7., 15., 31.])
    """
    require_network(net)
    numeric_variances(net, "q_trajectory")
    T = resolve_depth(net, depth)
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
    require_network(net)
    numeric_variances(net, "correlation_trajectory")
    c0 = float(_array("c0", c0, nonnegative=False))
    if abs(c0) > 1:
        raise InvalidParameter(f"input correlation c0 must lie in [-1, 1], got {c0}")
    T = resolve_depth(net, depth)
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
