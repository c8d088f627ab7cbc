"""The collective-field fluctuations of a recurrent network (shared W; bias shared or fresh),
one input, through 1/N (docs/conventions.md §1-§2, §8).

The fields are the two-time overlaps Q(t,s) = (sigma_w2/N) sum_j phi(z_j(t-1)) phi(z_j(s-1)),
t <= s (``phi(z(0))`` is the input ``x``), one conjugate Qt(t,s) per unordered pair.  Given
the fields the neurons decouple, and the weight is exp(N E) with

    E = - sum_{t<=s} Qt(t,s) Q(t,s) + W(sigma_w2 Qt; C),
    W(J; C) = ln E[exp(sum_{t<=s} J(t,s) X(t,s))],   X(t,s) = phi(z(t-1)) phi(z(s-1)),

the expectation over z(1..T) ~ N(0, C), C(t,s) = Q(t,s) + sigma_b2 B(t,s), and over the input
coordinate x ~ N(0, q0), independent of z (the coordinates of an isotropic input of size
|x|^2 = N q0).  Q(1,1) = sigma_w2 q0 is fixed by the input: it is no field.  Its Lagrange
multiplier (the constraint |x|^2 = N q0) decouples through 1/N -- x is independent of z
at the saddle, so it has no quadratic coupling to the other fields and no cubic vertex
with two legs on it and one on them -- so it is left out; the linear net's exact Var Q,
which the constraint changes, checks this (tests).

The saddle point (Qt = 0) is the two-time mean-field kernel
C0(t,s) = sigma_b2 B(t,s) + sigma_w2 E[phi(z(t-1)) phi(z(s-1))] (C0(1,s) = sigma_b2 B(1,s) for
s > 1: E[x phi] = 0).  E is expanded about it to cubic order with the moment derivatives
d^beta_C E[prod X^alpha] (the logic of
:func:`~nnqft.derive.fluctuations.cumulants.generating_function`), computed as Gaussian
expectations with the score polynomials of the density (no derivatives of phi: relu works):
for a symmetric perturbation E^c of C at the pair c,

    d ln p / dC_c = (y.E^c.y - tr(P E^c)) / 2,
    d^2 ln p / dC_c dC_d = tr(P E^c P E^d) / 2 - y.E^c.P.E^d.y,     y = P z, P = C^{-1},

on a Gauss-Hermite product rule in the eigenbasis of the sub-covariance of the times the
moment involves (at most four: exact for polynomial integrands).

The observables Y(s,t) = z(s).z(t) / N enter as sink fields (conjugate Yt(s,t),
X_Y = z(s) z(t)): E[Y] = C0(s,t) + <dY(s,t)>/N and N Var Y(t,t) = N <dY(t,t) dY(t,t)> at the
tree, which holds the conditional chi-square part 2 C0(t,t)^2, the fluctuation of the
field C(t,t) and the response of z(t)^2 to the conjugate fields (:func:`recurrent_correlators`).
E|z(t)|^2/N is not E[Q(t,t)] + sigma_b2 beyond mean-field theory: the single-neuron
measure is tilted by the conjugate fields (the shared W correlates z(t) with the fields).

>>> from nnqft.rules.network import Network
>>> net = Network("recurrent", "linear", 0.5, 0.2, bias="shared", q0=1.0)
>>> rows = recurrent_correlators(net, 3)
>>> [round(r["mean"][1], 10) + 0.0 for r in rows]      # exact: 0, 0, 2 sigma_w2 sigma_b2
[0.0, 0.0, 0.2]
"""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass

import numpy as np

from ...errors import InvalidParameter, OrderTooHigh
from ...rules.network import Network, numeric_variances, require_network, resolve_depth
from .theory import FluctuationTheory, sparse_symmetric

__all__ = [
    "recurrent_theory",
    "recurrent_correlators",
    "saddle_kernel",
    "GaussianRule",
    "default_nodes",
]

#: weights below this fraction of the largest are dropped from a product rule
_PRUNE = 1e-16
#: points per block of the pair moments (arrays of 96 kB, under the allocator's mmap
#: threshold: the heap reuses them, no fresh pages per temporary)
_CHUNK = 12000


# --- quadrature ---------------------------------------------------------------------------


def default_nodes(activation) -> dict:
    """Gauss-Hermite nodes per dimension, by the dimension of the integral: few for a
    polynomial activation (exact), more for a smooth one, most for a kinked one.

    >>> from nnqft.rules.activations import get_activation
    >>> default_nodes(get_activation("linear"))
    {1: 8, 2: 8, 3: 8, 4: 8, 5: 8, 6: 8}
    """
    if activation.name == "linear":
        return {d: 8 for d in range(1, 7)}
    if activation.kinks:
        return {1: 150, 2: 150, 3: 48, 4: 24, 5: 12, 6: 8}
    return {1: 150, 2: 150, 3: 40, 4: 22, 5: 12, 6: 8}


@dataclass(frozen=True)
class GaussianRule:
    """A product Gauss-Hermite rule for z ~ N(0, C) in the eigenbasis of C: points ``z``
    (m x d), weights ``w`` (sum 1), and ``y = C^{-1} z`` for the score polynomials.

    >>> rule = GaussianRule.of(np.array([[2.0, 0.5], [0.5, 1.0]]), 6)
    >>> round(float(rule.w @ (rule.z[:, 0] * rule.z[:, 1])), 12)
    0.5
    """

    z: np.ndarray
    w: np.ndarray
    y: np.ndarray
    precision: np.ndarray

    @classmethod
    def of(cls, cov: np.ndarray, nodes: int) -> GaussianRule:
        cov = np.atleast_2d(np.asarray(cov, dtype=float))
        d = cov.shape[0]
        lam, vec = np.linalg.eigh(cov)
        if lam.min() <= 0:
            raise InvalidParameter(
                "a sub-covariance of the two-time kernel is singular (eigenvalue "
                f"{lam.min():.3g}); the fluctuations are degenerate there"
            )
        g, w = _standard_grid(d, nodes)
        root = vec * np.sqrt(lam)
        z = g @ root.T
        precision = (vec / lam) @ vec.T
        y = g @ (vec / np.sqrt(lam)).T  # = P z
        return cls(z, w, y, precision)

    def score(self, i: int, j: int) -> np.ndarray:
        """d ln p / dC at the symmetric pair (i, j) (local positions), per point."""
        if i == j:
            return 0.5 * (self.y[:, i] ** 2 - self.precision[i, i])
        return self.y[:, i] * self.y[:, j] - self.precision[i, j]

    def score2(self, c: tuple, e: tuple) -> np.ndarray:
        """(d^2 p / dC_c dC_e) / p = s_c s_e + d^2 ln p / dC_c dC_e, per point."""
        d = self.precision.shape[0]
        Ec, Ee = _pair_matrix(c, d), _pair_matrix(e, d)
        P = self.precision
        hess = 0.5 * np.trace(P @ Ec @ P @ Ee) - np.einsum(
            "mi,ij,mj->m", self.y, Ec @ P @ Ee, self.y
        )
        return self.score(*c) * self.score(*e) + hess


@functools.lru_cache(maxsize=32)
def _standard_grid(d: int, nodes: int):
    """The pruned product Gauss-Hermite rule for N(0, I_d): points (m x d), weights."""
    g1, w1 = np.polynomial.hermite_e.hermegauss(nodes)
    w1 = w1 / math.sqrt(2 * math.pi)
    grids = np.meshgrid(*([g1] * d), indexing="ij")
    weights = np.meshgrid(*([w1] * d), indexing="ij")
    g = np.stack([x.ravel() for x in grids], axis=1)
    w = np.prod(np.stack([x.ravel() for x in weights], axis=1), axis=1)
    keep = w > _PRUNE * w.max()
    g, w = g[keep], w[keep]
    g.setflags(write=False)
    w.setflags(write=False)
    return g, w


def _pair_matrix(pair: tuple, d: int) -> np.ndarray:
    i, j = pair
    out = np.zeros((d, d))
    out[i, j] = 1.0
    out[j, i] = 1.0
    return out


# --- the saddle point ---------------------------------------------------------------------


def _bias_kernel(bias: str, T: int) -> np.ndarray:
    return np.ones((T, T)) if bias == "shared" else np.eye(T)


def saddle_kernel(net: Network, steps: int, nodes: dict | None = None) -> np.ndarray:
    """The two-time mean-field kernel C0(t, s), t, s = 1..T (a T x T array, index t-1):
    C0 = sigma_b2 B + sigma_w2 E[phi(z(t-1)) phi(z(s-1))] with phi(z(0)) = x.

    >>> from nnqft.rules.network import Network
    >>> saddle_kernel(Network("recurrent", "linear", 0.5, 0.2, bias="shared"), 3).round(6).tolist()
    [[0.7, 0.2, 0.2], [0.2, 0.55, 0.3], [0.2, 0.3, 0.475]]
    """
    cw, cb, q0 = _variances(net)
    T = resolve_depth(net, steps)
    nodes = nodes or default_nodes(net.activation)
    phi = net.activation.numeric()
    B = _bias_kernel(net.bias, T)
    C0 = np.zeros((T, T))
    C0[0, 0] = cb + cw * q0
    for s in range(1, T):
        C0[0, s] = C0[s, 0] = cb * B[0, s]  # E[x phi(z(s-1))] = 0
    for s in range(2, T + 1):  # fill column s from the kernel at times < s
        for t in range(2, s + 1):
            u, v = t - 1, s - 1  # the times of phi
            idx = sorted({u, v})
            rule = GaussianRule.of(C0[np.ix_([i - 1 for i in idx], [i - 1 for i in idx])],
                                   nodes[len(idx)])
            col = {time: k for k, time in enumerate(idx)}
            value = rule.w @ (phi(rule.z[:, col[u]]) * phi(rule.z[:, col[v]]))
            C0[t - 1, s - 1] = C0[s - 1, t - 1] = cb * B[t - 1, s - 1] + cw * value
    return C0


def _variances(net: Network):
    net = require_network(
        net, arch="recurrent", what="the recurrent fluctuation theory (docs/conventions.md §8)"
    )
    cw, cb, q0 = numeric_variances(
        net, "the recurrent fluctuation diagrams", "give sigma_w2, sigma_b2 and q0 as numbers"
    )
    if cb + cw * q0 <= 0:
        raise InvalidParameter(
            "the first-step variance sigma_b2 + sigma_w2*q0 must be positive "
            f"(got {cb + cw * q0:g}); a zero input with no bias gives z = 0 exactly"
        )
    return cw, cb, q0


# --- the fluctuation theory ---------------------------------------------------------------


@dataclass(frozen=True)
class _Source:
    """One conjugate (response) field and its pair product X = x^xpow * prod_u f_u(z_u):
    ``factors`` maps a z time to (power of phi, power of z)."""

    label: tuple
    scale: float
    xpow: int
    factors: tuple  # ((time, phi power, z power), ...)

    @property
    def times(self) -> frozenset:
        return frozenset(t for t, _, _ in self.factors)


def _sources(T: int, cw: float) -> list[_Source]:
    out = []
    for t, s in _sites(T):
        if (t, s) == (1, 1):
            continue
        times = [u for u in (t - 1, s - 1) if u >= 1]
        fac = {}
        for u in times:
            fac[u] = fac.get(u, 0) + 1
        out.append(_Source(("Qt", (t, s)), cw, 2 - len(times),
                           tuple((u, p, 0) for u, p in sorted(fac.items()))))
    for s_, t in _sites(T):
        factors = ((t, 0, 2),) if s_ == t else ((s_, 0, 1), (t, 0, 1))
        out.append(_Source(("Yt", (s_, t)), 1.0, 0, factors))
    return out


def _sites(T: int):
    return [(t, s) for s in range(1, T + 1) for t in range(1, s + 1)]


def _x_moment(k: int, q0: float) -> float:
    if k % 2:
        return 0.0
    return q0 ** (k // 2) * float(math.prod(range(k - 1, 0, -2)) if k > 1 else 1)


def _product(sources, columns, phis) -> np.ndarray:
    """prod over sources of their z-factors on a rule's points."""
    out = None
    for src in sources:
        for time, p, q in src.factors:
            col = columns[time]
            f = phis[col] ** p if p else 1.0
            if q:
                f = f * columns["z"][:, col] ** q
            out = f if out is None else out * f
    return out


class _Moments:
    """Gaussian expectations of products of the sources' z-factors and their covariance
    derivatives at C0, grouped by the set of times (one rule per set)."""

    def __init__(self, C0, phi, nodes):
        self.C0, self.phi, self.nodes = C0, phi, nodes
        self._rules = {}

    def rule(self, times: tuple):
        if times not in self._rules:
            idx = [t - 1 for t in times]
            rule = GaussianRule.of(self.C0[np.ix_(idx, idx)], self.nodes[len(times)])
            phis = self.phi(rule.z)
            columns = {t: k for k, t in enumerate(times)}
            columns["z"] = rule.z
            self._rules[times] = (rule, columns, phis.T)
            if len(self._rules) > 64:  # keep memory bounded: rules are used in sweeps
                self._rules.pop(next(iter(self._rules)))
        return self._rules[times]

    def group(self, times: tuple, members, pairs):
        """For each member (a list of sources over ``times``): E[F] and d_c E[F] for the
        pairs c, as arrays (members,) and (pairs, members)."""
        rule, columns, phis = self.rule(times)
        loc = {t: k for k, t in enumerate(times)}
        scores = np.empty((len(pairs), len(rule.w)))
        for k, (u, v) in enumerate(pairs):
            scores[k] = rule.score(loc[u], loc[v])
        wF = np.empty((len(rule.w), len(members)))
        for k, m in enumerate(members):
            wF[:, k] = rule.w * _product(m, columns, phis)
        return wF.sum(axis=0), scores @ wF

    def evaluate(self, sources, derivatives=(), second=()):
        """E[F], {c: d_c E[F]} for the pairs c, {(c, e): d_c d_e E[F]} (c, e pairs of
        times within the sources' times)."""
        times = tuple(sorted(set().union(*(s.times for s in sources))))
        rule, columns, phis = self.rule(times)
        F = _product(sources, columns, phis)
        F = np.broadcast_to(F, rule.w.shape) if np.ndim(F) == 0 else F
        wF = rule.w * F
        value = float(wF.sum())
        loc = {t: k for k, t in enumerate(times)}
        first = {c: float(wF @ rule.score(loc[c[0]], loc[c[1]])) for c in derivatives}
        sec = {
            (c, e): float(wF @ rule.score2((loc[c[0]], loc[c[1]]), (loc[e[0]], loc[e[1]])))
            for c, e in second
        }
        return value, first, sec


def recurrent_theory(net: Network, steps: int | None = None, degree: int = 3, *,
                     nodes: dict | None = None, complete: bool = False):
    """The fluctuation theory of a recurrent net through ``steps`` time steps, its action
    expanded to cubic order (``degree=3``, the 1/N one-point and the tree two-point):
    ``(theory, C0)`` with ``C0`` the saddle-point kernel (T x T, index t-1).

    Components: ``("dQ", (t, s))`` and ``("Qt", (t, s))`` for the pairs t <= s except
    (1, 1), and the observables' ``("dY", (s, t))``, ``("Yt", (s, t))``, s <= t.  Only
    entries that can be nonzero are computed: a derivative in C at a pair outside a
    moment's times vanishes, moments odd in x vanish.  Vertices with three response legs
    (Qt, Yt) are left out unless ``complete=True``: <response response> = 0 (the dQ-dQ
    block of the Hessian vanishes), so no diagram through 1/N uses them.  ``nodes`` maps
    an integral's dimension to its Gauss-Hermite nodes per dimension
    (:func:`default_nodes`).

    >>> from nnqft.rules.network import Network
    >>> theory, C0 = recurrent_theory(Network("recurrent", "tanh", 1.0, 0.1, bias="fresh"), 2)
    >>> theory.labels[:4]
    (('dQ', (1, 2)), ('Qt', (1, 2)), ('dQ', (2, 2)), ('Qt', (2, 2)))
    """
    cw, cb, q0 = _variances(net)
    T = resolve_depth(net, steps)
    if degree != 3:
        raise OrderTooHigh(
            f"degree {degree}: the recurrent fluctuation theory is expanded to cubic order "
            "(1/N); beyond it the input's constraint field no longer decouples"
        )
    nodes = {**default_nodes(net.activation), **(nodes or {})}
    C0 = saddle_kernel(net, T, nodes)
    sources = _sources(T, cw)
    fields = [s for s in _sites(T) if s != (1, 1)]
    labels = []
    for site in fields:
        labels += [("dQ", site), ("Qt", site)]
    for site in _sites(T):
        labels += [("dY", site), ("Yt", site)]
    labels = tuple(labels)
    pos = {lab: i for i, lab in enumerate(labels)}
    n = len(labels)
    response = np.zeros((n, n))  # the response-position block (rows: responses)
    hessian = np.zeros((n, n))  # the response-response block
    cubic: dict = {}
    moments = _Moments(C0, net.activation.numeric(), nodes)

    def pairs_in(times):
        ts = sorted(times)
        return [(u, v) for i, u in enumerate(ts) for v in ts[i:] if (u, v) != (1, 1)]

    # one source: E F, d E F, d d E F
    single = {}
    for src in sources:
        cs = pairs_in(src.times)
        second = [(c, e) for i, c in enumerate(cs) for e in cs[i:]]
        single[src.label] = moments.evaluate([src], cs, second if src.xpow == 0 else ())
    for src in sources:
        r = pos[src.label]
        if src.label[0] == "Qt":
            response[r, pos[("dQ", src.label[1])]] -= 1.0
        else:
            response[r, pos[("dY", src.label[1])]] -= 1.0
        if src.xpow:  # E[x] = 0: no linear response, no second derivative
            continue
        _, first, sec = single[src.label]
        for c, v in first.items():
            response[r, pos[("dQ", c)]] += src.scale * v
        for (c, e), v in sec.items():
            key = tuple(sorted((r, pos[("dQ", c)], pos[("dQ", e)])))
            cubic[key] = cubic.get(key, 0.0) + src.scale * v
    # two sources: Cov and its first derivatives, grouped by the times they involve
    groups: dict = {}
    for i, a in enumerate(sources):
        for b in sources[i:]:
            if (a.xpow + b.xpow) % 2:
                continue
            if a.label[0] == b.label[0] == "Yt":
                _isserlis(a, b, C0, pos, hessian, cubic)
                continue
            groups.setdefault(tuple(sorted(a.times | b.times)), []).append((a, b))
    for times, members in groups.items():
        cs = pairs_in(times)
        values, firsts = moments.group(times, members, cs)
        for k, (a, b) in enumerate(members):
            xab = _x_moment(a.xpow + b.xpow, q0)
            xa, xb = _x_moment(a.xpow, q0), _x_moment(b.xpow, q0)
            Ea, da, _ = single[a.label]
            Eb, db, _ = single[b.label]
            scale = a.scale * b.scale
            ra, rb = pos[a.label], pos[b.label]
            cov = scale * (xab * values[k] - xa * xb * Ea * Eb)
            hessian[ra, rb] += cov
            if ra != rb:
                hessian[rb, ra] += cov
            for j, c in enumerate(cs):
                dcov = xab * firsts[j, k] - xa * xb * (da.get(c, 0.0) * Eb + Ea * db.get(c, 0.0))
                if dcov == 0.0:
                    continue
                key = tuple(sorted((ra, rb, pos[("dQ", c)])))
                cubic[key] = cubic.get(key, 0.0) + scale * dcov
    hessian = hessian + response + response.T
    if complete:
        _three_sources(sources, single, moments, q0, pos, cubic)
    vertices = {3: sparse_symmetric(cubic, 3)}
    act = net.activation
    theory = FluctuationTheory(
        labels, hessian, vertices,
        description=(f"recurrent {act.name}, {net.bias} bias, sigma_w2 = {cw:g}, "
                     f"sigma_b2 = {cb:g}, q0 = {q0:g}, {T} steps"),
    )
    return theory, C0


def _isserlis(a, b, C0, pos, hessian, cubic):
    """Cov(z_s z_t, z_u z_v) = C_su C_tv + C_sv C_tu for two observables, and its
    derivatives in the symmetric pairs of C (Isserlis' theorem, exact)."""
    (s, t), (u, v) = a.label[1], b.label[1]

    def C(i, j):
        return C0[i - 1, j - 1]

    def unit(i, j, c):
        return 1.0 if tuple(sorted((i, j))) == c else 0.0

    ra, rb = pos[a.label], pos[b.label]
    cov = C(s, u) * C(t, v) + C(s, v) * C(t, u)
    hessian[ra, rb] += cov
    if ra != rb:
        hessian[rb, ra] += cov
    pairs = {tuple(sorted(p)) for p in ((s, u), (t, v), (s, v), (t, u))} - {(1, 1)}
    for c in pairs:
        d = (unit(s, u, c) * C(t, v) + C(s, u) * unit(t, v, c)
             + unit(s, v, c) * C(t, u) + C(s, v) * unit(t, u, c))
        if d:
            key = tuple(sorted((ra, rb, pos[("dQ", c)])))
            cubic[key] = cubic.get(key, 0.0) + d


def _three_sources(sources, single, moments, q0, pos, cubic):
    """The third cumulants of three pair products: the vertices with three response legs."""
    for a, b, c in itertools.combinations_with_replacement(sources, 3):
        if (a.xpow + b.xpow + c.xpow) % 2:
            continue
        trio = (a, b, c)

        def m(*group):
            k = sum(s.xpow for s in group)
            xk = _x_moment(k, q0)
            return 0.0 if xk == 0.0 else xk * moments.evaluate(list(group))[0]

        kappa = (m(a, b, c) - m(a, b) * m(c) - m(a, c) * m(b) - m(b, c) * m(a)
                 + 2 * m(a) * m(b) * m(c))
        if kappa == 0.0:
            continue
        key = tuple(sorted(pos[s.label] for s in trio))
        cubic[key] = cubic.get(key, 0.0) + a.scale * b.scale * c.scale * kappa


# --- the direct route: the tadpole and the tree from the blocks of the Hessian -------------
#
# In the (positions dQ/dY, responses Qt/Yt) split the Hessian is [[0, A^T], [A, Sigma]]: A
# the responses' linear couplings (from the single sources' first derivatives), Sigma the
# covariance of the sources' pair products.  Its inverse is block triangular, so
#
#     Dhat = -D2^{-1} = [[G, -A^{-1}], [-A^{-T}, 0]],     G = A^{-1} Sigma A^{-T},
#
# and the tadpole (1/2) Dhat_IJ D3_JKL Dhat_KL needs only the contractions of the two
# kinds of cubic vertex with Dhat, accumulated while the vertices are computed: the
# symmetric tensor D3 is never stored (recurrent_theory builds it; the tests compare).


def _parity(phi) -> int | None:
    """1 for an odd phi, 0 for an even one (to rounding), None otherwise."""
    x = np.linspace(0.05, 8.0, 97)
    a, b = np.asarray(phi(x), float), np.asarray(phi(-x), float)
    if np.allclose(b, -a, rtol=1e-14, atol=1e-300):
        return 1
    if np.allclose(b, a, rtol=1e-14, atol=1e-300):
        return 0
    return None


@functools.lru_cache(maxsize=32)
def _half_grid(d: int, nodes: int):
    """One point of each pair (g, -g) of the pruned product rule, its weight doubled (a
    point at the origin keeps its own): the rule for integrands even under z -> -z."""
    g, w = _standard_grid(d, nodes)
    nonzero = g != 0
    first = g[np.arange(len(g)), np.argmax(nonzero, axis=1)]
    origin = ~nonzero.any(axis=1)
    keep = (first > 0) | origin
    g2, w2 = g[keep], np.where(origin, w, 2 * w)[keep]
    g2.setflags(write=False)
    w2.setflags(write=False)
    return g2, w2


@functools.lru_cache(maxsize=32)
def _grid_products(d: int, nodes: int, half: bool):
    """The rule (points as rows of coordinates, d x m; weights) and the products
    g_k g_l (k <= l) of its points (m x pairs)."""
    g, w = _half_grid(d, nodes) if half else _standard_grid(d, nodes)
    kl = [(k, ll) for k in range(d) for ll in range(k, d)]
    gg = np.stack([g[:, k] * g[:, ll] for k, ll in kl], axis=1)
    gT = np.ascontiguousarray(g.T)
    for a in (gT, gg):
        a.setflags(write=False)
    return gT, w, gg, kl


class _GroupIntegrals:
    """E[F] and d_c E[F] for several products F = prod_u phi(z_u)^p z_u^q over one set of
    times, on the product rule of :class:`GaussianRule` (the same points): the derivatives
    through the second moments of the standard points, sum w F g_k g_l, rotated into the
    score polynomials (no per-point scores).  For an odd or even phi the rule is halved
    by the symmetry z -> -z, and products odd under it are zero."""

    def __init__(self, C0, phi, nodes):
        self.C0, self.phi, self.nodes = C0, phi, nodes
        self.parity = _parity(phi)

    def _products(self, z, w, integrands, out):
        """w times each product of factors phi(z_i)^p z_i^q, into the rows of ``out``."""
        d = z.shape[0]
        cols = {}

        def column(i, p, q):
            key = (i, p, q)
            if key not in cols:
                if p == 0:
                    cols[key] = z[i] if q == 1 else z[i] ** q
                elif q == 0:
                    base = cols.get((i, 1, 0))
                    if base is None:
                        base = cols[(i, 1, 0)] = self.phi(z[i])
                    cols[key] = base if p == 1 else base**p
                else:
                    cols[key] = column(i, p, 0) * column(i, 0, q)
            return cols[key]

        prefix = {(): w}  # w times the leading columns' factors, shared by the products

        def product(ex):
            if ex not in prefix:
                head, (p, q) = product(ex[:-1]), ex[-1]
                prefix[ex] = head * column(len(ex) - 1, p, q) if p or q else head
            return prefix[ex]

        for j, ex in enumerate(integrands):
            head, (p, q) = product(ex[:-1]), ex[-1]
            if p or q:
                np.multiply(head, column(d - 1, p, q), out=out[j])
            else:
                out[j] = head

    def __call__(self, times: tuple, integrands: list, pairs: list):
        d = len(times)
        idx = [t - 1 for t in times]
        lam, vec = np.linalg.eigh(self.C0[np.ix_(idx, idx)])
        if lam.min() <= 0:
            raise InvalidParameter(
                "a sub-covariance of the two-time kernel is singular (eigenvalue "
                f"{lam.min():.3g}); the fluctuations are degenerate there"
            )
        K = len(integrands)
        values = np.zeros(K)
        firsts = np.zeros((len(pairs), K))
        if self.parity is None:
            live = list(range(K))
        else:
            live = [k for k, ex in enumerate(integrands)
                    if sum(p * self.parity + q for p, q in ex) % 2 == 0]
        if not live:
            return values, firsts
        gT, w, gg, kl = _grid_products(d, self.nodes[d], self.parity is not None)
        root = vec * np.sqrt(lam)
        vals = np.zeros(len(live))
        mom = np.zeros((len(live), len(kl)))
        buffer = np.empty((len(live), _CHUNK))
        # blocks of points small enough for the heap: no fresh pages per temporary
        for start in range(0, len(w), _CHUNK):
            stop = min(start + _CHUNK, len(w))
            wF = buffer[:, : stop - start]
            self._products(root @ gT[:, start:stop], w[start:stop],
                           [integrands[k] for k in live], wF)
            vals += wF.sum(axis=1)
            mom += wF @ gg[start:stop]  # (live, pairs of standard coordinates)
        M = np.zeros((len(live), d, d))
        for j, (k, ll) in enumerate(kl):
            M[:, k, ll] = M[:, ll, k] = mom[:, j]
        U = vec / np.sqrt(lam)
        Y2 = np.einsum("ik,nkl,jl->nij", U, M, U)  # sum w F y_i y_j
        P = (vec / lam) @ vec.T
        loc = {t: i for i, t in enumerate(times)}
        live = np.array(live)
        values[live] = vals
        for c, (u, v) in enumerate(pairs):
            i, j = loc[u], loc[v]
            if i == j:
                firsts[c, live] = 0.5 * (Y2[:, i, i] - P[i, i] * vals)
            else:
                firsts[c, live] = Y2[:, i, j] - P[i, j] * vals
        return values, firsts


def _pairs_in(times):
    ts = sorted(times)
    return [(u, v) for i, u in enumerate(ts) for v in ts[i:] if (u, v) != (1, 1)]


def _exponents(sources, times) -> tuple:
    """The product of the sources' z-factors as (phi power, z power) per time of ``times``."""
    acc = {t: [0, 0] for t in times}
    for src in sources:
        for t, p, q in src.factors:
            acc[t][0] += p
            acc[t][1] += q
    return tuple((acc[t][0], acc[t][1]) for t in times)


@dataclass(frozen=True)
class _Blocks:
    """The blocks of the Hessian and the tadpole and tree of the direct route, over the
    positions and responses in the order of :func:`_sources` (position k pairs with
    response k)."""

    C0: np.ndarray
    sources: list
    A: np.ndarray
    Ainv: np.ndarray
    Sigma: np.ndarray
    G: np.ndarray
    mean_positions: np.ndarray
    mean_responses: np.ndarray

    def labels(self) -> tuple:
        out = []
        for src in self.sources:
            field = "dQ" if src.label[0] == "Qt" else "dY"
            out += [(field, src.label[1]), src.label]
        return tuple(out)

    def interleave(self, pp, pr, rp, rr) -> np.ndarray:
        n = len(self.sources)
        out = np.empty((2 * n, 2 * n))
        out[0::2, 0::2], out[0::2, 1::2] = pp, pr
        out[1::2, 0::2], out[1::2, 1::2] = rp, rr
        return out


def _direct_blocks(net: Network, steps: int, nodes: dict | None = None) -> _Blocks:
    """The tree and the tadpole of the recurrent theory without its vertex tensor."""
    cw, cb, q0 = _variances(net)
    T = resolve_depth(net, steps)
    nodes = {**default_nodes(net.activation), **(nodes or {})}
    C0 = saddle_kernel(net, T, nodes)
    phi = net.activation.numeric()
    sources = _sources(T, cw)
    n = len(sources)
    index = {src.label: k for k, src in enumerate(sources)}
    posQ = np.full((T + 1, T + 1), -1, dtype=int)  # the position of dQ(u, v), u <= v
    for src in sources:
        if src.label[0] == "Qt":
            posQ[src.label[1]] = index[src.label]

    def pos(c):
        return posQ[c]

    moments = _Moments(C0, phi, nodes)
    E1 = np.zeros(n)
    D1 = np.zeros((n, n))  # d_c E[X_a] (unscaled), position columns
    seconds = []  # (response, position c, position e, scale * d_c d_e E[X_a])
    for k, src in enumerate(sources):
        cs = _pairs_in(src.times)
        second = [(c, e) for i, c in enumerate(cs) for e in cs[i:]]
        value, first, sec = moments.evaluate([src], cs, second if src.xpow == 0 else ())
        E1[k] = value
        if src.xpow:
            continue
        for c, v in first.items():
            D1[k, pos(c)] = v
        for (c, e), v in sec.items():
            seconds.append((k, pos(c), pos(e), src.scale * v))
    scale = np.array([s.scale for s in sources])
    xpow = np.array([s.xpow for s in sources])
    A = -np.eye(n) + scale[:, None] * D1
    Ainv = np.linalg.solve(A, np.eye(n))
    Dhat_rp = -Ainv.T  # Dhat[response r, position p] = -Ainv[p, r]
    Sigma = np.zeros((n, n))
    vR = np.zeros(n)
    xm = np.array([_x_moment(k, q0) for k in range(5)])

    def add_vertex(ra, rb, cpos, dcov):
        """D3[ra, rb, c] = dcov[c, k] (members k): its contraction with Dhat into vR."""
        vR_a = 2 * np.einsum("ck,ck->k", dcov, Dhat_rp[rb[None, :], cpos[:, None]])
        np.add.at(vR, ra, vR_a)
        other = ra != rb
        if other.any():
            vR_b = 2 * np.einsum("ck,ck->k", dcov[:, other],
                                 Dhat_rp[ra[None, other], cpos[:, None]])
            np.add.at(vR, rb[other], vR_b)

    groups: dict = {}
    yt = []
    for i, a in enumerate(sources):
        for j in range(i, n):
            b = sources[j]
            if (a.xpow + b.xpow) % 2:
                continue
            if a.label[0] == b.label[0] == "Yt":
                yt.append((i, j))
                continue
            groups.setdefault(tuple(sorted(a.times | b.times)), []).append((i, j))
    integrals = _GroupIntegrals(C0, phi, nodes)
    for times, members in groups.items():
        cs = _pairs_in(times)
        keys, which = {}, []
        for i, j in members:
            key = _exponents((sources[i], sources[j]), times)
            which.append(keys.setdefault(key, len(keys)))
        values, firsts = integrals(times, list(keys), cs)
        which = np.array(which)
        ra = np.array([i for i, _ in members])
        rb = np.array([j for _, j in members])
        values, firsts = values[which], firsts[:, which]
        xab, xa, xb = xm[xpow[ra] + xpow[rb]], xm[xpow[ra]], xm[xpow[rb]]
        sc = scale[ra] * scale[rb]
        Ea, Eb = E1[ra], E1[rb]
        cov = sc * (xab * values - xa * xb * Ea * Eb)
        np.add.at(Sigma, (ra, rb), cov)
        off = ra != rb
        np.add.at(Sigma, (rb[off], ra[off]), cov[off])
        if not cs:
            continue
        cpos = np.array([pos(c) for c in cs])
        Da, Db = D1[ra][:, cpos].T, D1[rb][:, cpos].T
        dcov = sc * (xab * firsts - xa * xb * (Da * Eb + Ea * Db))
        add_vertex(ra, rb, cpos, dcov)
    if yt:  # Isserlis for two observables: Cov(z_s z_t, z_u z_v) = C_su C_tv + C_sv C_tu
        yt = np.array(yt)
        ra, rb = yt[:, 0], yt[:, 1]
        st = np.array([sources[k].label[1] for k in range(n)])
        s, t = st[ra, 0], st[ra, 1]
        u, v = st[rb, 0], st[rb, 1]

        def C(x, y):
            return C0[x - 1, y - 1]

        cov = C(s, u) * C(t, v) + C(s, v) * C(t, u)
        np.add.at(Sigma, (ra, rb), cov)
        off = ra != rb
        np.add.at(Sigma, (rb[off], ra[off]), cov[off])
        for (x1, y1), coef in (((s, u), C(t, v)), ((t, v), C(s, u)),
                               ((s, v), C(t, u)), ((t, u), C(s, v))):
            lo, hi = np.minimum(x1, y1), np.maximum(x1, y1)
            p = posQ[lo, hi]
            ok = p >= 0
            if ok.any():
                _add_diagonal(vR, ra[ok], rb[ok], p[ok], coef[ok], Dhat_rp)
    G = Ainv @ Sigma @ Ainv.T
    vP = np.zeros(n)
    for r, pc, pe, val in seconds:
        if pc == pe:
            vR[r] += val * G[pc, pc]
            vP[pc] += 2 * val * Dhat_rp[r, pc]
        else:
            vR[r] += 2 * val * G[pc, pe]
            vP[pc] += 2 * val * Dhat_rp[r, pe]
            vP[pe] += 2 * val * Dhat_rp[r, pc]
    mean_positions = 0.5 * (G @ vP - Ainv @ vR)
    mean_responses = 0.5 * (Dhat_rp @ vP)
    return _Blocks(C0, sources, A, Ainv, Sigma, G, mean_positions, mean_responses)


def _add_diagonal(vR, ra, rb, p, coef, Dhat_rp):
    """D3[ra, rb, p] = coef per member (one position each): its contraction into vR."""
    np.add.at(vR, ra, 2 * coef * Dhat_rp[rb, p])
    other = ra != rb
    np.add.at(vR, rb[other], 2 * coef[other] * Dhat_rp[ra[other], p[other]])


# --- the correlators ----------------------------------------------------------------------


def recurrent_correlators(net: Network, steps: int | None = None, order: int = 1, *,
                          nodes: dict | None = None, terms: bool = False):
    """Per step t, the mean E[Q(t)] = E|z(t)|^2/N through 1/N, N Var Q(t) at leading
    order and the two-time overlaps E[z(s).z(t)/N] (s <= t) through 1/N, from the diagrams
    of the fluctuation theory: ``{"t", "mean": [C0(t,t), c1], "variance": [V],
    "two_time": {s: [C0(s,t), c1(s,t)]}, "collective": [.., ..]}``, E Q = sum_k mean[k]/N^k,
    Var Q = V/N + O(1/N^2).

    The observables are the sink fields Y(s,t) = z(s).z(t)/N: the 1/N coefficient is
    <dY(s,t)> (the tadpoles), N Var Y(t,t) the tree <dY dY>.  ``"collective"`` is the mean of
    the collective field Q(t+1,t+1) = sigma_w2 |phi(z(t))|^2/N itself (for a linear net
    sigma_w2 times ``"mean"``; in general E|z(t)|^2/N is *not* E Q(t,t) + sigma_b2: the
    shared W correlates z(t) with the fields, the response terms of the tilt).
    ``terms=True`` returns ``(rows, {"mean": TermValues, "variance": TermValues, "theory"})``.

    >>> from nnqft.rules.network import Network
    >>> net = Network("recurrent", "linear", 0.5, 0.0, bias="fresh", q0=1.0)
    >>> [round(r["variance"][0], 10) for r in recurrent_correlators(net, 2)]   # 2 T s^(2T) q0^2
    [0.5, 0.25]
    """
    from ...rules.network import check_order

    order = check_order(order, 1, what="the recurrent fluctuation diagrams (cubic order)")
    blocks = _direct_blocks(net, steps, nodes)
    C0, G = blocks.C0, blocks.G
    T = C0.shape[0]
    index = {src.label[1] if src.label[0] == "Yt" else None: k
             for k, src in enumerate(blocks.sources) if src.label[0] == "Yt"}
    field = {src.label[1]: k for k, src in enumerate(blocks.sources) if src.label[0] == "Qt"}
    mean1 = blocks.mean_positions
    rows = []
    for t in range(1, T + 1):
        two = {}
        for s in range(1, t + 1):
            entry = [float(C0[s - 1, t - 1])]
            if order:
                entry.append(float(mean1[index[(s, t)]]))
            two[s] = entry
        y = index[(t, t)]
        row = {"t": t, "mean": list(two[t]), "variance": [float(G[y, y])], "two_time": two}
        if t < T:
            q = field[(t + 1, t + 1)]
            nxt = float(C0[t, t]) - float(net.sigma_b2)
            row["collective"] = [nxt] + ([float(mean1[q])] if order else [])
        rows.append(row)
    if terms:
        return rows, _term_values(blocks, order, net)
    return rows


def _term_values(blocks: _Blocks, order: int, net: Network) -> dict:
    """The tadpole's and the tree's values over every component (the labels of
    :func:`recurrent_theory`), and a :class:`FluctuationTheory` that holds the labels, the
    Hessian and its propagator (its cubic vertex is not stored: see recurrent_theory)."""
    from .theory import TermValue, diagrams_at

    n = len(blocks.sources)
    zero = np.zeros((n, n))
    hessian = blocks.interleave(zero, blocks.A.T, blocks.A, blocks.Sigma)
    dhat = blocks.interleave(blocks.G, -blocks.Ainv, -blocks.Ainv.T, zero)
    theory = FluctuationTheory(
        blocks.labels(), hessian, {},
        description=(f"recurrent {net.activation.name}, {net.bias} bias, {n // 2} steps: "
                     "Hessian and propagator only (the tadpole is contracted directly)"),
    )
    theory.__dict__["_propagator"] = dhat  # the block inverse, exact
    means = []
    if order:
        (tadpole,) = diagrams_at(1, 1)
        value = np.empty(2 * n)
        value[0::2], value[1::2] = blocks.mean_positions, blocks.mean_responses
        means.append(TermValue(tadpole, -1, value))
    (tree,) = diagrams_at(2, 0)
    trees = [TermValue(tree, -1, float(tree.symmetry_factor) * dhat)]
    return {"mean": means, "variance": trees, "theory": theory}
