"""The collective-field fluctuations of a feedforward network, one input
(docs/conventions.md §8).

In a feedforward net the collective field of layer t is the variance of its
pre-activations, Q(t) = sigma_b2 + (sigma_w2/N) sum_j phi(z_j(t-1))^2 (Q(1) = sigma_b2 +
sigma_w2 q0 is fixed by the input), with conjugate Qt(t).  Integrating out the neurons
leaves the weight exp(N E) with

    E = sum_{t >= 2} [ -Qt(t) Q(t) + sigma_b2 Qt(t) + W(sigma_w2 Qt(t); Q(t-1)) ],

W the cumulant generating function of phi(u)^2, u ~ N(0, Q(t-1))
(:func:`~nnqft.derive.fluctuations.cumulants.generating_function`).  dE/dQt = 0 at
Qt = 0 is the saddle point Q(t) = K0(t), the mean-field length map; :func:`layer_action`
solves it and expands E about it in dQ = Q - K0 and Qt.  The quadratic part gives the
response line <dQ(t) Qt(s)> = prod_{u=s}^{t-1} chi_parallel(u) / N and the correlator
<dQ dQ>; the cubic part the vertices, e.g. (sigma_w2/2) d^2<phi^2>/dK^2 Qt(t) dQ(t-1)^2.

E[z_i(t)^2] = E[Q(t)] and Cov(z_i(t)^2, z_j(t)^2) = Var Q(t) (i != j), so the 1/N
expansion of the one- and two-point functions of dQ gives K1 (the tadpole) and V (the
tree correlator), and at the next order K2 and V1.

>>> from nnqft.rules.network import Network
>>> rows = feedforward_correlators(Network("feedforward", "tanh", 1.0, 0.0, q0=1.0), 6)
>>> round(rows[-1]["mean"][0], 6), round(rows[-1]["mean"][1], 6)
(0.103441, -0.079861)
"""

from __future__ import annotations

import functools
import math

import numpy as np

from ...errors import InvalidParameter
from ...rules.network import Network, numeric_variances, require_network, resolve_depth
from ..gaussian import expect
from .theory import FluctuationTheory, add_derivative, one_point, sparse_symmetric, two_point

__all__ = ["layer_action", "layer_couplings", "feedforward_theory", "feedforward_correlators"]


@functools.lru_cache(maxsize=8)
def layer_action(degree: int = 3):
    """The fluctuation action of one layer, E_t, expanded about the saddle point to total
    degree ``degree`` in (Qt(t), dQ(t), dQ(t-1)): ``(expr, (Qt, dQ, dQ_prev), saddle)``
    with ``saddle`` the solved saddle-point value K0(t) in the moments at K0(t-1).

    >>> import sympy as sp
    >>> expr, (Qt, dQ, dQp), K0 = layer_action(3)
    >>> K0
    sigma_b2 + sigma_w2*m((1,), (0,))
    >>> sp.factor(expr.coeff(Qt, 1).coeff(dQp, 1))       # chi_parallel(t-1)
    sigma_w2*m((1,), (1,))
    """
    import sympy as sp

    from ...rules import symbols as S
    from .cumulants import generating_function

    Qt, dQ, dQp, K0 = sp.symbols("Qt dQ dQ_prev K0")
    J = sp.Symbol("J")
    W = generating_function([J], [dQp], degree).subs(J, S.sigma_w2 * Qt)
    E = sp.expand(-Qt * (K0 + dQ) + S.sigma_b2 * Qt + W)
    # the saddle point: the part linear in Qt with no fluctuation must vanish
    linear = E.coeff(Qt, 1).subs({dQ: 0, dQp: 0})
    # linear in K0 (the field's own value): solved directly
    saddle = sp.expand(-linear.subs(K0, 0) / linear.coeff(K0))
    E = sp.expand(E.subs(K0, saddle))
    if E.subs({dQ: 0, dQp: 0}).coeff(Qt, 1) != 0:
        raise AssertionError("the saddle point does not cancel the tadpole of Qt")
    return E, (Qt, dQ, dQp), saddle


@functools.lru_cache(maxsize=4)
def _compiled(degree: int):
    """The layer action's monomials (powers of Qt, dQ, dQ_prev) with their coefficients and
    the saddle point as numeric functions of (sigma_w2, sigma_b2, moments...)."""
    import sympy as sp

    from ...rules import symbols as S

    E, (Qt, dQ, dQp), saddle = layer_action(degree)
    terms = sp.Poly(E, Qt, dQ, dQp).terms()
    moments = sorted(
        {mo for _, c in terms for mo in c.atoms(sp.Function) if mo.func.__name__ == "m"},
        key=sp.default_sort_key,
    )
    args = [S.sigma_w2, S.sigma_b2, *moments]
    coefficients = sp.lambdify(args, [c for _, c in terms], "math")
    return [p for p, _ in terms], coefficients, sp.lambdify(args, saddle, "math"), moments


def _moment_name(moment) -> str:
    (p,), (k,) = moment.alpha, moment.beta
    body = f"phi^{2 * p}"
    return body if k == 0 else (f"d/dq {body}" if k == 1 else f"d^{k}/dq^{k} {body}")


def _moments_at(act, K: float, moments, quadrature: bool) -> dict:
    from ..finite_width.recursions import quadrature_method

    names = tuple(_moment_name(mo) for mo in moments)
    # closed forms where every moment closes, else one panel rule for all (~1e-13)
    closed = "integrate" if not quadrature and quadrature_method(act) == "closed-form" else "none"
    values = expect(act, names, K, rule="panel", closed=closed)
    out = {mo: float(v) for mo, v in zip(moments, values)}
    bad = [n for n, v in zip(names, out.values()) if not np.isfinite(v)]
    if bad:
        raise InvalidParameter(
            f"the Gaussian moment E[{bad[0]}] of phi = {act.name} is not finite at variance "
            f"{K:g}; use a smaller depth or sigma_w2"
        )
    return out


def layer_couplings(activation, sigma_w2: float, sigma_b2: float, K: float, degree: int = 4):
    """The couplings of one layer's fluctuation action at the saddle-point variance ``K`` of
    the layer below, keyed by the monomial's powers of (Qt(t), dQ(t), dQ(t-1)), as the
    derivative of E (coefficient times the factorials), and ``"saddle"``: K0(t).

    Read as maps of the layer variance F(K) = C_b + C_W <phi^2>_K: (1, 0, k) is the k-th
    derivative of F, (2, 0, 0) the noise C_W^2 Var(phi^2), (2, 0, 1) its K-derivative.

    >>> c = layer_couplings("relu", 2.0, 0.0, 1.5)
    >>> c["saddle"], c[(1, 0, 1)], c[(2, 0, 0)]      # F = K, chi = 1, 4 * (5/4) K^2
    (1.5, 1.0, 11.25)
    """
    from ...rules.activations import get_activation

    act = get_activation(activation)
    powers_list, coefficients, saddle_f, moments = _compiled(degree)
    values = _moments_at(act, float(K), moments, False)
    args = [float(sigma_w2), float(sigma_b2), *(values[mo] for mo in moments)]
    out = {"saddle": float(saddle_f(*args))}
    for (a, b, c), coeff in zip(powers_list, coefficients(*args)):
        out[(a, b, c)] = float(coeff) * math.factorial(a) * math.factorial(b) * math.factorial(c)
    return out


def feedforward_theory(
    net: Network, depth: int | None = None, *, degree: int = 3, quadrature: bool = False
):
    """The fluctuation theory of a feedforward net through ``depth`` layers, its action
    expanded to ``degree`` (3 for 1/N, 5 for 1/N^2): ``(theory, K0)`` with ``K0`` the
    saddle-point trajectory K0(1..T).

    >>> from nnqft.rules.network import Network
    >>> theory, K0 = feedforward_theory(Network("feedforward", "relu", 2.0, 0.0, q0=1.0), 3)
    >>> theory.labels
    (('dQ', 2), ('Qt', 2), ('dQ', 3), ('Qt', 3))
    >>> K0
    [2.0, 2.0, 2.0]
    """
    import sympy as sp


    net = require_network(
        net, arch="feedforward", what="the feedforward fluctuation theory (docs/conventions.md §8)"
    )
    cw, cb, q0 = (
        float(v)
        for v in numeric_variances(
            net, "the fluctuation diagrams", "give sigma_w2, sigma_b2 and q0 as numbers"
        )
    )
    if cb + cw * q0 <= 0:
        raise InvalidParameter(
            "the first-layer variance sigma_b2 + sigma_w2*q0 must be positive "
            f"(got {cb + cw * q0:g}); a zero input with no bias gives z = 0 exactly"
        )
    T = resolve_depth(net, depth)
    act = net.activation
    powers_list, coefficients, saddle_f, moments = _compiled(degree)
    K0 = [cb + cw * q0]
    labels = tuple((f, t) for t in range(2, T + 1) for f in ("dQ", "Qt"))
    position = {lab: i for i, lab in enumerate(labels)}
    n = len(labels)
    hessian = np.zeros((n, n))
    entries: dict = {}
    for t in range(2, T + 1):
        values = _moments_at(act, K0[-1], moments, quadrature)
        args = [cw, cb, *(values[mo] for mo in moments)]
        K0.append(float(saddle_f(*args)))
        for (a, b, c), coeff in zip(powers_list, coefficients(*args)):
            if c and t == 2:
                continue  # Q(1) is fixed by the input: no fluctuation dQ(1)
            coeff = float(coeff)
            if coeff == 0:
                continue
            legs = [position[("Qt", t)]] * a + [position[("dQ", t)]] * b
            if c:
                legs += [position[("dQ", t - 1)]] * c
            derivative = coeff * float(sp.factorial(a) * sp.factorial(b) * sp.factorial(c))
            add_derivative(hessian, entries, legs, derivative)
    vertices = {k: sparse_symmetric(e, k) for k, e in entries.items()}
    theory = FluctuationTheory(
        labels,
        hessian,
        vertices,
        description=f"feedforward {act.name}, sigma_w2 = {cw:g}, sigma_b2 = {cb:g}, {T} layers",
    )
    return theory, K0[:T]


def feedforward_correlators(
    net: Network,
    depth: int | None = None,
    order: int = 1,
    *,
    quadrature: bool = False,
    terms: bool = False,
):
    """Per layer, E[z(t)^2] and N Cov(z_i(t)^2, z_j(t)^2) through 1/N^``order`` from the
    diagrams of the fluctuation theory: ``{"layer", "mean": [K0, K1, ...],
    "covariance": [V, V1, ...]}`` with E z^2 = sum_k mean[k]/N^k and
    Cov = sum_k covariance[k]/N^(k+1).  ``terms=True`` adds ``"diagrams"``: the
    :class:`~nnqft.derive.fluctuations.theory.TermValue` of every contributing diagram.

    >>> from nnqft.rules.network import Network
    >>> rows = feedforward_correlators(Network("feedforward", "relu", 2.0, 0.0, q0=1.0), 3)
    >>> [round(r["covariance"][0] / r["mean"][0] ** 2, 12) for r in rows]   # 5 (l - 1)
    [0.0, 5.0, 10.0]
    """
    from ...rules.network import check_order

    order = check_order(order)
    if order > 2:
        raise InvalidParameter(f"order {order}: the fluctuation diagrams are built through 1/N^2")
    theory, K0 = feedforward_theory(net, depth, degree=2 * order + 1, quadrature=quadrature)
    means = [one_point(theory, k, terms=True) for k in range(1, order + 1)]
    covs = [two_point(theory, k, terms=True) for k in range(0, order)]
    rows = []
    for t, k0 in enumerate(K0, start=1):
        row = {"layer": t, "mean": [k0], "covariance": []}
        if t == 1:
            row["mean"] += [0.0] * order
            row["covariance"] = [0.0] * order
        else:
            i = theory.index(("dQ", t))
            row["mean"] += [float(sum(p.value[i] for p in parts)) for parts in means]
            row["covariance"] = [float(sum(p.value[i, i] for p in parts)) for parts in covs]
        rows.append(row)
    if terms:
        return rows, {"mean": means, "covariance": covs, "theory": theory}
    return rows
