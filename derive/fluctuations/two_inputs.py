"""The collective-field fluctuations of a feedforward net with two inputs: the kernel
matrix and the correlation through 1/N (docs/conventions.md §8).

The collective field of layer t is the 2x2 covariance of its pre-activations given the
layer below, Q_ab(t) = C_b + (C_W/N) sum_j phi(z_j,a(t-1)) phi(z_j,b(t-1)), three
components ab = 11, 22, 12 with conjugates Qt_ab.  The weight is exp(N E),

    E = sum_t [ sum_ab (-Qt_ab Q_ab + C_b Qt_ab) + W(C_W Qt; Q(t-1)) ],
    W(J; K) = ln E_{(u1, u2) ~ N(0, K)} exp(J_11 phi1^2 + J_22 phi2^2 + J_12 phi1 phi2),

expanded about the saddle point (the mean-field kernel map) by the same generating
function as one input.  The moment derivatives d^beta_K E[phi1^p phi2^r] are Gaussian
integrals in the plane; the covariance derivatives act as the heat equation does,
d/dK_11 = (1/2) d^2/du1^2, d/dK_22 = (1/2) d^2/du2^2, d/dK_12 = d^2/du1 du2 (Price's
theorem), so smooth activations need derivatives of phi^p only.

E[z_a z_b] = E Q_ab: the tadpole gives K1_ab; the correlation
c = E[z1 z2]/sqrt(E z1^2 E z2^2) = c0 + c1/N follows by expanding the ratio.

>>> from nnqft.rules.network import Network
>>> rows = two_input_correlators(Network("feedforward", "tanh", 1.5, 0.05, q0=1.0), 0.5, 4)
>>> [round(c, 6) for c in rows[-1]["correlation"]]        # c0(4), c1(4)
[0.567041, 0.045157]
"""

from __future__ import annotations

import functools
import math

import numpy as np

from ...errors import InvalidParameter, NoExactForm
from ...rules.network import Network, numeric_variances, require_network, resolve_depth
from ..gaussian import PlaneRule
from .theory import FluctuationTheory, add_derivative, one_point, sparse_symmetric, two_point

__all__ = ["two_input_layer_action", "two_input_theory", "two_input_correlators"]

PAIRS = ("11", "22", "12")


@functools.lru_cache(maxsize=4)
def two_input_layer_action(degree: int = 3):
    """E_t for two inputs, expanded about the saddle point:
    ``(expr, Qt, dQ, dQ_prev, saddle)`` with ``Qt``, ``dQ``, ``dQ_prev`` tuples over
    (11, 22, 12) and ``saddle`` the solved K0_ab(t).

    >>> expr, Qt, dQ, dQp, saddle = two_input_layer_action(3)
    >>> saddle[2]
    sigma_b2 + sigma_w2*m((0, 0, 1), (0, 0, 0))
    """
    import sympy as sp

    from ...rules import symbols as S
    from .cumulants import generating_function

    Qt = sp.symbols("Qt11 Qt22 Qt12")
    dQ = sp.symbols("dQ11 dQ22 dQ12")
    dQp = sp.symbols("dQp11 dQp22 dQp12")
    K0 = sp.symbols("K011 K022 K012")
    J = sp.symbols("J11 J22 J12")
    W = generating_function(J, dQp, degree).subs({j: S.sigma_w2 * q for j, q in zip(J, Qt)})
    E = sp.expand(sum(-q * (k + d) + S.sigma_b2 * q for q, k, d in zip(Qt, K0, dQ)) + W)
    zero = {v: 0 for v in (*dQ, *dQp)}
    saddle = []
    for q, k in zip(Qt, K0):
        linear = E.coeff(q, 1).subs({o: 0 for o in Qt if o != q}).subs(zero)
        saddle.append(sp.expand(-linear.subs(k, 0) / linear.coeff(k)))
    E = sp.expand(E.subs(dict(zip(K0, saddle))))
    return E, Qt, dQ, dQp, tuple(saddle)


class _PowerDerivatives:
    """(phi^p)^(k) on a grid, computed on demand from phi^(j) there by the Leibniz rule
    (phi^p)^(k) = sum_j C(k, j) phi^(j) (phi^(p-1))^(k-j)."""

    def __init__(self, act, grid):
        self.act, self.grid = act, grid
        self.d: dict = {}
        self.table: dict = {}

    def phi(self, j: int):
        if j not in self.d:
            with np.errstate(over="ignore", invalid="ignore"):
                self.d[j] = self.act.numeric(j)(self.grid)
        return self.d[j]

    def __call__(self, p: int, k: int):
        key = (p, k)
        if key not in self.table:
            if p == 0:
                self.table[key] = np.ones_like(self.grid) if k == 0 else np.zeros_like(self.grid)
            else:
                self.table[key] = sum(
                    math.comb(k, j) * self.phi(j) * self(p - 1, k - j) for j in range(k + 1)
                )
        return self.table[key]


class _PlaneMoments:
    """d^beta_K E[phi1^p phi2^r] at one covariance, by Price's theorem on the plane rule:
    the outer nodes u1 and, for each, the inner sum over u2 of (phi^r)^(k)(u2)."""

    def __init__(self, act, k11: float, k22: float, k12: float):
        rule = PlaneRule(k11, k22, k12, act.kink_points)
        self.w1, self.w2 = rule.w1, rule.w2
        self.outer = _PowerDerivatives(act, rule.u1)
        self.inner_values = _PowerDerivatives(act, rule.u2)
        self.inner: dict = {}

    def value(self, alpha, beta) -> float:
        a11, a22, a12 = alpha
        b11, b22, b12 = beta
        p, r = 2 * a11 + a12, 2 * a22 + a12
        k1, k2 = 2 * b11 + b12, 2 * b22 + b12
        if (r, k2) not in self.inner:
            self.inner[(r, k2)] = np.einsum("jk,jk->j", self.inner_values(r, k2), self.w2)
        scale = 0.5 ** (b11 + b22)
        with np.errstate(over="ignore", invalid="ignore"):
            return scale * float(self.w1 @ (self.outer(p, k1) * self.inner[(r, k2)]))


@functools.lru_cache(maxsize=4)
def _compiled(degree: int):
    """The layer action's monomials with numeric coefficient functions of
    (sigma_w2, sigma_b2, moments...), compiled once per degree."""
    import sympy as sp

    from ...rules import symbols as S

    E, Qt, dQ, dQp, saddle = two_input_layer_action(degree)
    poly = sp.Poly(E, *Qt, *dQ, *dQp)
    terms = poly.terms()
    moments = sorted(
        {mo for _, c in terms for mo in c.atoms(sp.Function) if mo.func.__name__ == "m"},
        key=sp.default_sort_key,
    )
    args = [S.sigma_w2, S.sigma_b2, *moments]
    powers = [p for p, _ in terms]
    coefficients = sp.lambdify(args, [c for _, c in terms], "math")
    saddle_f = sp.lambdify(args, list(saddle), "math")
    keys = [(mo.alpha, mo.beta) for mo in moments]
    return powers, coefficients, saddle_f, keys


def _smooth_enough(act) -> bool:
    import sympy as sp

    return not (act.kinks or act.derivative(2).has(sp.DiracDelta, sp.Heaviside, sp.Piecewise))


def two_input_theory(net: Network, c0: float, depth: int | None = None, *, degree: int = 3):
    """The two-input fluctuation theory through ``depth`` layers: ``(theory, K0)`` with
    ``K0`` the mean-field kernel (K11, K22, K12) per layer.

    Raises :class:`~nnqft.errors.NoExactForm` for kinked activations (Price's theorem
    differentiates phi^p up to 2 degree - 2 times).
    """
    net = require_network(
        net, arch="feedforward", what="the two-input fluctuation theory (docs/conventions.md §8)"
    )
    if isinstance(c0, bool) or not isinstance(c0, (int, float)) or not -1 < c0 < 1:
        raise InvalidParameter(f"input correlation c0 must be a number in (-1, 1), got {c0!r}")
    cw, cb, q0 = (
        float(v)
        for v in numeric_variances(
            net, "the two-input fluctuation diagrams", "give sigma_w2, sigma_b2, q0 as numbers"
        )
    )
    act = net.activation
    if not _smooth_enough(act):
        raise NoExactForm(
            f"two-input fluctuations for {act.name!r} need a smooth activation (Price's theorem "
            "differentiates phi^p); one input works for every activation"
        )
    T = resolve_depth(net, depth)
    powers_list, coefficients, saddle_f, keys = _compiled(degree)
    K = [(cb + cw * q0, cb + cw * q0, cb + cw * q0 * float(c0))]
    labels = tuple((f, ab, t) for t in range(2, T + 1) for f in ("dQ", "Qt") for ab in PAIRS)
    position = {lab: i for i, lab in enumerate(labels)}
    n = len(labels)
    hessian = np.zeros((n, n))
    entries: dict = {}
    for t in range(2, T + 1):
        plane = _PlaneMoments(act, *K[-1])
        args = [cw, cb, *(plane.value(a, b) for a, b in keys)]
        K.append(tuple(float(v) for v in saddle_f(*args)))
        for powers, coeff in zip(powers_list, coefficients(*args)):
            if t == 2 and any(powers[6:]):
                continue  # the first layer's kernel is fixed by the inputs
            coeff = float(coeff)
            if coeff == 0:
                continue
            legs = []
            multiplicity = 1
            for j, k in enumerate(powers):
                if not k:
                    continue
                field, ab = ("Qt", "dQ", "dQ")[j // 3], PAIRS[j % 3]
                layer = t - 1 if j >= 6 else t
                legs += [position[(field, ab, layer)]] * k
                multiplicity *= math.factorial(k)
            add_derivative(hessian, entries, legs, coeff * multiplicity)
    theory = FluctuationTheory(
        labels,
        hessian,
        {k: sparse_symmetric(e, k) for k, e in entries.items()},
        description=f"feedforward {act.name}, two inputs (c0 = {c0:g}), {T} layers",
    )
    return theory, K[:T]


def two_input_correlators(net: Network, c0: float, depth: int | None = None) -> list[dict]:
    """Per layer the kernel E[z_a z_b] = K0_ab + K1_ab/N (``"K0"``, ``"K1"`` over 11, 22, 12),
    ``"V"`` (N Cov of the kernel components, 3x3) and the correlation
    ``"correlation": [c0, c1]`` of E z1 z2 / sqrt(E z1^2 E z2^2), from the diagrams."""
    theory, K0 = two_input_theory(net, c0, depth)
    mean = one_point(theory, 1)
    cov = two_point(theory, 0)
    rows = []
    for t, k in enumerate(K0, start=1):
        if t == 1:
            k1, V = [0.0, 0.0, 0.0], [[0.0] * 3 for _ in range(3)]
        else:
            idx = [theory.index(("dQ", ab, t)) for ab in PAIRS]
            k1 = [float(mean[i]) for i in idx]
            V = [[float(cov[i, j]) for j in idx] for i in idx]
        k11, k22, k12 = k
        rho0 = k12 / math.sqrt(k11 * k22)
        rho1 = k1[2] / math.sqrt(k11 * k22) - rho0 * (k1[0] / k11 + k1[1] / k22) / 2
        rows.append({"layer": t, "K0": list(k), "K1": k1, "V": V, "correlation": [rho0, rho1]})
    return rows
