"""The mean-field engine's single-variance integrals tabulated once per activation.

E[phi(u)^2], E[phi'(u)^2] and d E[phi(u)^2]/dq, u ~ N(0, q), depend on q alone.  A phase
diagram asks for them at every grid point in every Newton step, and the critical line
at every step of Brent's method; :class:`MomentTable` computes them once, at Chebyshev
points, and interpolates (docs/conventions.md §3).

Each panel of the table lies inside one Gauss-Hermite band of
:data:`~nnqft.derive.gaussian.quadrature.NODE_BANDS`, so the table interpolates exactly
the function the direct route computes there: a sum of analytic functions of q, on which
Chebyshev interpolation converges geometrically.  The panels are geometric in q (ratio 2)
from :data:`Q_LO` to :data:`Q_HI`; a panel whose last Chebyshev coefficients exceed
:data:`TAIL` (relative to the panel's largest value) is halved.  That tail is the stated
interpolation error (:attr:`MomentTable.error_bound`); tests/derive/meanfield/
test_tabulated.py checks the table against direct quadrature to 1e-10 relative at random
q.  Outside [Q_LO, Q_HI] the direct route answers.

>>> from nnqft.rules.activations import get_activation
>>> table = MomentTable(get_activation("tanh"))
>>> m0, m1, mp = table(np.array([0.5, 2.0]))
>>> [round(float(v), 10) for v in m0]                  # E[tanh(u)^2], u ~ N(0, q)
[0.2736763079, 0.5199757457]
>>> from nnqft.derive.gaussian import expect
>>> bool(np.allclose(m0, expect(table.act, "phi^2", [0.5, 2.0]), rtol=1e-12, atol=0))
True
>>> table.error_bound < 1e-12
True
"""

from __future__ import annotations

import functools
import math

import numpy as np

from ...rules.activations import Activation
from ..gaussian import NODE_BANDS
from ._inputs import _moments

__all__ = ["MomentTable", "Q_LO", "Q_HI", "DEGREE", "TAIL", "moment_table"]

#: the table's range of q; outside it the direct quadrature is used
Q_LO, Q_HI = 1e-3, 1024.0
#: Chebyshev points per panel
DEGREE = 28
#: a panel's last two Chebyshev coefficients must be below this, relative to its values
TAIL = 1e-14
#: most halvings of one panel
_MAX_SPLITS = 4


def _chebyshev_points(n: int) -> np.ndarray:
    """Chebyshev points of the first kind on [-1, 1] (interior: never a band edge)."""
    return np.cos(np.pi * (np.arange(n) + 0.5) / n)


@functools.lru_cache(maxsize=4)
def _transform(n: int) -> np.ndarray:
    """Matrix taking values at the Chebyshev points to Chebyshev coefficients."""
    k = np.arange(n)[:, None]
    j = np.arange(n)[None, :]
    m = (2.0 / n) * np.cos(np.pi * k * (j + 0.5) / n)
    m[0] /= 2
    return m


class MomentTable:
    """E[phi^2], E[phi'^2], dE[phi^2]/dq of ``act`` as piecewise Chebyshev series in q.

    Calling the table with an array of q returns the three arrays, as
    :func:`nnqft.derive.meanfield._inputs._moments` does for the same ``nodes``.
    """

    def __init__(self, act: Activation, nodes: int | None = None):
        self.act, self.nodes = act, nodes
        edges = [Q_LO * 2.0**k for k in range(int(round(math.log2(Q_HI / Q_LO))) + 1)]
        if nodes is None:  # panels never straddle a change of the Gauss-Hermite rule
            edges += [b for b, _ in NODE_BANDS[:-1] if Q_LO < b < Q_HI]
        edges = sorted(set(edges))
        panels = list(zip(edges[:-1], edges[1:]))
        # where the integrals overflow (exp-type phi at large q) the table ends: direct there
        _, tails = self._fit(panels)
        finite = np.isfinite(tails)
        if not finite.all():
            panels = panels[: int(np.argmin(finite))]
        if not panels:
            raise ValueError(f"no finite table for {act.name}")
        done, cut = [], np.inf
        for depth in range(_MAX_SPLITS + 1):
            coeffs, tails = self._fit(panels)
            keep = [t <= TAIL for t in tails]
            done += [(p, c, t) for p, c, t, k in zip(panels, coeffs, tails, keep) if k]
            panels = [p for p, k in zip(panels, keep) if not k]
            if depth == _MAX_SPLITS and panels:  # still not resolved: direct from there on
                cut = min(lo for lo, _ in panels)
                break
            panels = [
                half for lo, hi in panels for half in ((lo, (lo + hi) / 2), ((lo + hi) / 2, hi))
            ]
            if not panels:
                break
        done = sorted((d for d in done if d[0][1] <= cut), key=lambda d: d[0][0])
        if not done:
            raise ValueError(f"no table for {act.name}: the integrals are not smooth enough")
        worst = max(t for _, _, t in done)
        self.edges = np.array([p[0][0] for p in done] + [done[-1][0][1]])
        self.coefficients = np.stack([c for _, c, _ in done])  # (panel, 3, DEGREE)
        self._by_degree = np.ascontiguousarray(self.coefficients.transpose(2, 1, 0))
        #: the largest relative Chebyshev tail over the panels: the interpolation error
        self.error_bound = float(worst)

    def _fit(self, panels):
        lo, hi = (np.array(v) for v in zip(*panels))
        x = _chebyshev_points(DEGREE)
        q = (lo[:, None] + hi[:, None]) / 2 + (hi[:, None] - lo[:, None]) / 2 * x
        with np.errstate(all="ignore"):
            values = _moments(self.act, q.ravel(), self.nodes)
        values = np.stack(values).reshape(3, len(panels), -1)
        coeffs = np.einsum("kj,fpj->pfk", _transform(DEGREE), values)
        scale = np.maximum(np.abs(values).max(axis=2), 1e-300)  # (3, panel)
        tail = np.abs(coeffs[:, :, -2:]).max(axis=2).T / scale
        tail = np.where(np.isfinite(values).all(axis=2), tail, np.inf)
        return coeffs, tail.max(axis=0)

    def __call__(self, q):
        q = np.asarray(q, dtype=float)
        flat = q.ravel()
        out = np.empty((3, flat.size))
        inside = (flat >= self.edges[0]) & (flat <= self.edges[-1])
        if (~inside).any():
            out[:, ~inside] = np.stack(_moments(self.act, flat[~inside], self.nodes))
        if inside.any():
            out[:, inside] = self._interpolate(flat[inside])
        return tuple(o.reshape(q.shape) for o in out)

    def _interpolate(self, q: np.ndarray) -> np.ndarray:
        # side="left": q on an edge belongs to the panel below, as in node_counts
        panel = np.clip(np.searchsorted(self.edges, q, side="left") - 1, 0, len(self.edges) - 2)
        lo, hi = self.edges[panel], self.edges[panel + 1]
        t = (2 * q - lo - hi) / (hi - lo)
        c = self._by_degree[:, :, panel]  # (DEGREE, 3, points)
        b1 = np.zeros((3, q.size))
        b2 = np.zeros((3, q.size))
        for k in range(DEGREE - 1, 0, -1):  # Clenshaw
            b1, b2 = 2 * t * b1 - b2 + c[k], b1
        return t * b1 - b2 + c[0]


@functools.lru_cache(maxsize=32)
def moment_table(act: Activation, nodes: int | None = None) -> MomentTable:
    """The table of ``act`` (made once per activation and node count).

    >>> from nnqft.rules.activations import get_activation
    >>> moment_table(get_activation("tanh")) is moment_table(get_activation("tanh"))
    True
    """
    return MomentTable(act, nodes)
