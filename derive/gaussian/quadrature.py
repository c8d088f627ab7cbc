"""Quadrature rules for Gaussian expectations E f(u), u ~ N(0, var), and E f(u1) g(u2).

The engines behind :func:`nnqft.derive.gaussian.expect` (docs/conventions.md §3, §7):

- :func:`gaussian_mean`: Gauss-Hermite with a node count graded by the variance
  (:data:`NODE_BANDS`), composite Gauss-Legendre panels (:func:`panel_rule`) above
  :data:`PANEL_ABOVE`;
- :func:`bivariate_gaussian_mean`: a tensor product of graded Gauss-Hermite rules;
- :func:`polar_gaussian_mean`: Gauss-Legendre on the arcs of the whitened plane, for
  functions smooth except at u = 0 (the ReLU family);
- :class:`PlaneRule`: panels in u1, conditional panels in u2, ~1e-12 at any variance;
- :func:`orthonormal_hermite`, :func:`mehler_coefficients`: the discrete Hermite transform
  and the Mehler series E[f(u1) f(u2)] = sum_n b_n c^n at equal variances;
- :func:`gaussian_tail`: why a Gaussian integral is beyond the rules (divergent, ...).

>>> round(float(gaussian_mean(lambda u: u**4, 2.0)), 10)   # 3 var^2
12.0
"""

from __future__ import annotations

import functools
import math
import numbers
from collections.abc import Callable

import numpy as np

from ...errors import InvalidParameter

__all__ = [
    "DEFAULT_NODES",
    "NODE_BANDS",
    "PANEL_NODES",
    "PANEL_ABOVE",
    "hermite_rule",
    "node_counts",
    "hermite_groups",
    "by_rule",
    "legendre_rule",
    "panel_rule",
    "gaussian_tail",
    "gaussian_mean",
    "bivariate_gaussian_mean",
    "polar_gaussian_mean",
    "PlaneRule",
    "hermite_e",
    "orthonormal_hermite",
    "mehler_coefficients",
]

#: Gauss-Hermite nodes used when an activation has no closed-form kernel.
DEFAULT_NODES = 201


@functools.lru_cache(maxsize=64)
def hermite_rule(nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Probabilists' Gauss-Hermite nodes and weights normalised to the N(0, 1) measure."""
    if isinstance(nodes, bool) or not isinstance(nodes, numbers.Integral) or nodes < 2:
        raise InvalidParameter(f"quadrature needs an integer number of nodes >= 2, got {nodes!r}")
    from scipy.special import roots_hermitenorm  # stable for thousands of nodes (hermegauss is not)

    x, w = roots_hermitenorm(int(nodes))
    return x, w / w.sum()


#: Gauss-Hermite node counts by variance, used when no count is forced.  phi(sqrt(var) x)
#: sharpens as the variance grows and a fixed rule loses digits (tanh against 6001 nodes:
#: 201 nodes are off by 1e-6 at var = 3 and 2e-4 at var = 5); each band keeps E phi^2,
#: E phi'^2 and d E phi^2/dq of tanh within 1e-10 up to var = 10 (1e-8 at var = 16).
NODE_BANDS = ((1.2, DEFAULT_NODES), (2.8, 401), (6.0, 801), (np.inf, 1601))


def node_counts(var, nodes: int | None = None) -> np.ndarray:
    """Gauss-Hermite nodes per point: ``nodes`` if given, else graded by :data:`NODE_BANDS`."""
    var = np.asarray(var, dtype=float)
    if nodes is not None:
        hermite_rule(nodes)  # validates
        return np.full(var.shape, int(nodes))
    edges = np.array([b for b, _ in NODE_BANDS[:-1]])
    counts = np.array([n for _, n in NODE_BANDS])
    return counts[np.searchsorted(edges, var, side="left")]


def hermite_groups(var, nodes: int | None = None):
    """Yield ``(index, x, w)``: the flat indices of ``var`` that share one Gauss-Hermite rule."""
    counts = node_counts(np.ravel(var), nodes)
    for n in np.unique(counts):
        x, w = hermite_rule(int(n))
        yield np.flatnonzero(counts == n), x, w


#: Gauss-Legendre nodes per panel of :func:`panel_rule`
PANEL_NODES = 16
#: above this variance :func:`gaussian_mean` leaves the graded Gauss-Hermite rules for
#: :func:`panel_rule` (graded Gauss-Hermite: 1e-10 up to var = 10, 1e-8 at 16, then worse)
PANEL_ABOVE = 10.0


@functools.lru_cache(maxsize=8)
def legendre_rule(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Legendre nodes and weights on [-1, 1]."""
    return np.polynomial.legendre.leggauss(n)


def panel_rule(var: float, kinks: tuple = ()) -> tuple[np.ndarray, np.ndarray]:
    """Nodes u and weights (Gaussian density included) for E f(u), u ~ N(0, var).

    Composite Gauss-Legendre on |u| <= 13 sqrt(var) (the tail beyond is e^-84), panels no
    wider than 1 in u (where activations vary; beyond var ~ 2e4 only for |u| <= 20) nor
    sqrt(var)/2 (where the Gaussian does), with the integers in [-20, 20] and the
    activation's kinks as panel edges: ~1e-13 relative for smooth and kinked phi alike,
    also at large variance, where Gauss-Hermite loses accuracy (tanh at var = 20: 4e-4
    with 201 nodes).

    >>> u, w = panel_rule(50.0)
    >>> round(float(w @ np.tanh(u) ** 2), 12) == round(float(w @ np.tanh(-u) ** 2), 12)
    True
    """
    s = math.sqrt(var)
    h = min(1.0, s / 2)
    m = min(int(math.ceil(13.0 * s / h)), 2000)
    edges = np.linspace(-13.0 * s, 13.0 * s, 2 * m + 1)
    extra = [float(k) for k in range(-20, 21)] + [float(k) for k in kinks]
    inner = [k for k in extra if abs(k) < 13.0 * s]
    if inner:
        edges = np.unique(np.concatenate([edges, inner]))
    t, w = legendre_rule(PANEL_NODES)
    lo, hi = edges[:-1, None], edges[1:, None]
    u = ((lo + hi) / 2 + (hi - lo) / 2 * t).ravel()
    wu = ((hi - lo) / 2 * w).ravel() * np.exp(-(u**2) / (2 * var)) / math.sqrt(2 * math.pi * var)
    return u, wu


#: standard-normal units probed by :func:`gaussian_tail`: up to the panel rule's edge (13) and
#: beyond it, to tell a divergent integral from one the rules cannot reach
_TAIL_X = np.concatenate([np.linspace(0.0, 13.0, 53), [16.0, 20.0, 25.0, 30.0, 40.0]])


def gaussian_tail(f: Callable, var: float) -> str | None:
    """Why ``E f(u)``, u ~ N(0, var), cannot be computed by the quadrature rules, or None.

    Looks at the log of the integrand, h(x) = ln|f(sqrt(var) x)| - x^2/2, on both sides:
    ``'diverges'`` where h does not fall off beyond the rules' edge |x| = 13 (e.g.
    exp(z^2)^2 at var >= 1/4), ``'unresolved'`` where it is still within e^-36 of its peak
    at that edge (the mass lies beyond the nodes: exp(z) at var ~ 30), ``'overflows'``
    where f itself overflows inside the edge.  A cheap check (58 evaluations per side).

    >>> gaussian_tail(lambda u: np.exp(2 * u**2), 1.0)
    'diverges'
    >>> gaussian_tail(lambda u: np.tanh(u) ** 2, 50.0) is None
    True
    """
    var = float(var)
    if not var > 0:
        return None
    inside = _TAIL_X <= 13.0
    for sign in (1.0, -1.0):
        with np.errstate(all="ignore"):
            vals = np.abs(np.broadcast_to(f(sign * math.sqrt(var) * _TAIL_X), _TAIL_X.shape))
            h = np.log(vals) - _TAIL_X**2 / 2
        if not np.isfinite(vals[inside]).all():
            return "overflows"
        finite = np.isfinite(h)  # beyond the edge f may overflow: those points say nothing
        if not finite[inside].any():
            continue
        edge = h[inside][-1]
        beyond = h[~inside & finite]
        if np.isfinite(edge) and beyond.size and beyond.max() >= edge:
            return "diverges"
        if np.isfinite(edge) and edge > np.max(h[inside & finite]) - 36.0:
            return "unresolved"
    return None


def gaussian_mean(f: Callable, var, nodes: int | None = None) -> np.ndarray:
    """E[f(u)] for u ~ N(0, var), vectorised over ``var``, by Gauss-Hermite quadrature.

    ``nodes`` forces one rule; by default the count grows with the variance
    (:data:`NODE_BANDS`), and above :data:`PANEL_ABOVE` the :func:`panel_rule` is used.

    >>> round(float(gaussian_mean(lambda u: u**4, 2.0)), 10)   # 3 var^2
    12.0
    """
    var = np.asarray(var, dtype=float)
    flat = var.ravel()
    out = np.empty(flat.shape)
    wide = np.flatnonzero(flat > PANEL_ABOVE) if nodes is None else np.array([], dtype=int)
    for i in wide:
        u, wu = panel_rule(float(flat[i]))
        with np.errstate(over="ignore", invalid="ignore"):
            out[i] = np.broadcast_to(f(u), u.shape) @ wu
    narrow = np.setdiff1d(np.arange(flat.size), wide)
    for idx, x, w in hermite_groups(flat[narrow], nodes):
        idx = narrow[idx]
        with np.errstate(over="ignore", invalid="ignore"):
            vals = np.broadcast_to(f(np.sqrt(flat[idx])[:, None] * x), (idx.size, x.size))
        # einsum, not BLAS: a threaded matvec is ~20x slower on a busy machine
        out[idx] = np.einsum("ij,j->i", vals, w)
    return out.reshape(var.shape)


def bivariate_gaussian_mean(
    f: Callable, g: Callable, var1, var2, cov, nodes: int | None = None
) -> np.ndarray:
    """E[f(u1) g(u2)] for (u1, u2) ~ N(0, [[var1, cov], [cov, var2]]), vectorised.

    Written as u1 = sqrt(var1) x1, u2 = sqrt(var2) (c x1 + sqrt(1 - c^2) x2) with a tensor
    product of Gauss-Hermite rules whose node counts follow the variances (outer:
    max(var1, var2); inner: var2 (1 - c^2)) unless ``nodes`` forces one; memory is
    nodes^2 per point, so large batches are processed in slices.

    >>> round(float(bivariate_gaussian_mean(lambda u: u, lambda u: u, 1.0, 2.0, 0.5)), 10)
    0.5
    """
    var1, var2, cov = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in (var1, var2, cov)))
    shape = var1.shape
    v1, v2, cv = (a.ravel() for a in (var1, var2, cov))
    s1, s2 = np.sqrt(v1), np.sqrt(v2)
    with np.errstate(invalid="ignore", divide="ignore"):
        c = np.clip(np.where(s1 * s2 > 0, cv / (s1 * s2), 0.0), -1.0, 1.0)
    r = np.sqrt(1.0 - c * c)
    outer, inner = node_counts(np.maximum(v1, v2), nodes), node_counts(v2 * r * r, nodes)
    out = np.empty(v1.shape)
    for n1, n2 in np.unique(np.stack([outer, inner], axis=1), axis=0):
        sel = np.flatnonzero((outer == n1) & (inner == n2))
        (x1, w1), (x2, w2) = hermite_rule(int(n1)), hermite_rule(int(n2))
        step = max(1, 2_000_000 // (int(n1) * int(n2)))
        for lo in range(0, sel.size, step):
            i = sel[lo : lo + step]
            with np.errstate(over="ignore", invalid="ignore"):
                fu = np.broadcast_to(f(s1[i, None] * x1), (i.size, x1.size))
                u2 = s2[i, None, None] * (
                    c[i, None, None] * x1[None, :, None] + r[i, None, None] * x2[None, None, :]
                )
                gu = np.einsum("mab,b->ma", np.broadcast_to(g(u2), u2.shape), w2)
            out[i] = np.einsum("ma,ma,a->m", fu, gu, w1)
    return out.reshape(shape)


@functools.lru_cache(maxsize=8)
def _polar_rules(angular: int, radial: int):
    """Gauss-Legendre rules: ``angular`` nodes on [-1, 1]; radial nodes on [0, 12] in panels."""
    xa, wa = np.polynomial.legendre.leggauss(angular)
    xr, wr = np.polynomial.legendre.leggauss(radial)
    edges = np.array([0.0, 1.0, 2.0, 3.5, 5.0, 7.0, 9.0, 12.0])  # e^{-72} beyond 12
    r = np.concatenate([(a + b) / 2 + (b - a) / 2 * xr for a, b in zip(edges, edges[1:])])
    w = np.concatenate([(b - a) / 2 * wr for a, b in zip(edges, edges[1:])])
    return xa, wa, r, w * r * np.exp(-(r**2) / 2)


def polar_gaussian_mean(
    f: Callable, g: Callable, var1, var2, cov, angular: int = 24, radial: int = 24
) -> np.ndarray:
    """E[f(u1) g(u2)] for functions smooth except at u = 0 (ReLU-like), vectorised.

    In the whitened plane x = r (cos a, sin a), the integrand is smooth on every arc between
    the four angles where u1 or u2 vanishes; Gauss-Legendre on each arc and in r gives
    near machine precision where tensor Gauss-Hermite converges only algebraically.
    """
    xa, wa, r, wr = _polar_rules(angular, radial)
    var1, var2, cov = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in (var1, var2, cov)))
    shape = var1.shape
    s1, s2 = np.sqrt(var1.ravel()), np.sqrt(var2.ravel())
    with np.errstate(invalid="ignore", divide="ignore"):
        c = np.clip(np.where(s1 * s2 > 0, cov.ravel() / (s1 * s2), 0.0), -1.0, 1.0)
    beta = np.arccos(c)  # u2 = s2 r cos(a - beta)
    cuts = np.sort(
        np.mod(
            np.stack(
                [
                    np.full_like(beta, np.pi / 2),
                    np.full_like(beta, 3 * np.pi / 2),
                    beta + np.pi / 2,
                    beta + 3 * np.pi / 2,
                ]
            ),
            2 * np.pi,
        ),
        axis=0,
    )
    cuts = np.concatenate([cuts, cuts[:1] + 2 * np.pi])  # (5, m): four arcs covering the circle
    lo, hi = cuts[:-1], cuts[1:]
    a = (lo + hi)[..., None] / 2 + (hi - lo)[..., None] / 2 * xa  # (4, m, na)
    wa_ = (hi - lo)[..., None] / 2 * wa
    ca, cb = np.cos(a), np.cos(a - beta[None, :, None])
    u1 = s1[None, :, None, None] * ca[..., None] * r
    u2 = s2[None, :, None, None] * cb[..., None] * r
    vals = (f(u1) * g(u2)) @ wr  # (4, m, na)
    return (np.einsum("kma,kma->m", vals, wa_) / (2 * np.pi)).reshape(shape)


def by_rule(q: np.ndarray, nodes: int | None, evaluate, outputs: int):
    """Apply ``evaluate(x, w, q_sub) -> tuple of arrays`` per Gauss-Hermite rule group of the
    1-d array ``q`` (graded by :data:`NODE_BANDS` unless ``nodes`` forces one rule)."""
    out = [np.empty(q.shape) for _ in range(outputs)]
    for idx, x, w in hermite_groups(q, nodes):
        for o, v in zip(out, evaluate(x, w, q[idx])):
            o[idx] = v
    return tuple(out)


class PlaneRule:
    """E[f(u1) g(u2)] for (u1, u2) ~ N(0, [[var1, cov], [cov, var2]]), to ~1e-12.

    Outer integral over u1 by the one-variable panel rule; inner over u2 given u1
    (conditional mean mu, standard deviation sd) by 10-node Gauss-Legendre panels in
    x2 = (u2 - mu)/sd of width <= 1/2 on [-13, 13], split also where u2 crosses the
    integers in [-20, 20] and the kinks, so features of phi near u2 = 0 are resolved at any
    variance (tensor Gauss-Hermite is not: 40% error in K1 for tanh at K ~ 3).  At
    |c| = 1 the inner integral is the point u2 = mu.  Inner sums are cached per function.

    >>> rule = PlaneRule(1.0, 2.0, 0.5, ())
    >>> round(rule.mean(lambda u: u, lambda u: u), 12)
    0.5
    """

    def __init__(self, var1: float, var2: float, cov: float, kinks: tuple):
        self.u1, self.w1 = panel_rule(var1, kinks)
        s1, s2 = math.sqrt(var1), math.sqrt(var2)
        rho = min(1.0, max(-1.0, cov / (s1 * s2)))
        mu = rho * s2 / s1 * self.u1
        sd = s2 * math.sqrt(max(0.0, 1.0 - rho * rho))
        if sd <= 1e-12 * s2:
            self.u2, self.w2 = mu[:, None], np.ones((mu.size, 1))
        else:
            t, w = legendre_rule(10)
            features = np.array([float(k) for k in range(-20, 21)] + list(kinks))
            mapped = np.clip((features[None, :] - mu[:, None]) / sd, -13.0, 13.0)
            uniform = np.broadcast_to(np.linspace(-13.0, 13.0, 53), (mu.size, 53))
            edges = np.sort(np.concatenate([uniform, mapped], axis=1), axis=1)
            lo, hi = edges[:, :-1, None], edges[:, 1:, None]
            x2 = (lo + hi) / 2 + (hi - lo) / 2 * t
            w2 = (hi - lo) / 2 * w * np.exp(-(x2**2) / 2) / math.sqrt(2 * math.pi)
            self.u2 = (mu[:, None, None] + sd * x2).reshape(mu.size, -1)
            self.w2 = w2.reshape(mu.size, -1)
        self._inner = {}

    def mean(self, f, g) -> float:
        """E[f(u1) g(u2)]."""
        key = id(g)
        if key not in self._inner:
            with np.errstate(over="ignore", invalid="ignore"):
                self._inner[key] = (g, np.einsum("jk,jk->j", g(self.u2), self.w2))
        with np.errstate(over="ignore", invalid="ignore"):
            return float(self.w1 @ (f(self.u1) * self._inner[key][1]))


def hermite_e(k: int, x: np.ndarray) -> np.ndarray:
    """Probabilists' Hermite polynomial He_k(x) by the three-term recurrence.

    >>> hermite_e(2, np.array([0.0, 1.0, 2.0]))
    array([-1.,  0.,  3.])
    """
    h0, h1 = np.ones_like(x), x
    if k == 0:
        return h0
    for j in range(1, k):
        h0, h1 = h1, x * h1 - j * h0
    return h1


@functools.lru_cache(maxsize=16)
def orthonormal_hermite(nodes: int) -> np.ndarray:
    """sqrt(w_i) He_n(x_i)/sqrt(n!) for n < nodes at the Gauss-Hermite nodes: an orthogonal
    matrix (the discrete Hermite transform).  The recurrence carries sqrt(w) from the start,
    so the far nodes (tiny weights, huge He_n) neither overflow nor lose the small entries.

    >>> H = orthonormal_hermite(8)
    >>> bool(np.allclose(H @ H.T, np.eye(8)))
    True
    """
    x, w = hermite_rule(nodes)
    H = np.empty((nodes, x.size))
    H[0] = np.sqrt(w)
    H[1] = x * H[0]
    for n in range(1, nodes - 1):
        H[n + 1] = (x * H[n] - np.sqrt(n) * H[n - 1]) / np.sqrt(n + 1)
    return H


def mehler_coefficients(phi: Callable, q: np.ndarray, nodes: int | None) -> np.ndarray:
    """b_n(q) with E[phi(u1) phi(u2)] = sum_n b_n c^n at equal variances q (Mehler).

    b_n = (E[phi(sqrt(q) x) He_n(x)])^2 / n!, by the same Gauss-Hermite rule as the
    single-variable integrals, so sum_n b_n = E[phi^2] exactly (the discrete transform is
    orthogonal).  Coefficients past the point where the tail is below 1e-17 are dropped.

    >>> b = mehler_coefficients(lambda u: u, np.array([2.0]), None)   # phi = z: b_1 = q
    >>> [round(float(v), 12) for v in b[0, :2]]
    [0.0, 2.0]
    """
    groups = []
    for sel, x, w in hermite_groups(q, nodes):
        basis = orthonormal_hermite(x.size)  # (n, nodes), rows sqrt(w) He_n/sqrt(n!)
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
