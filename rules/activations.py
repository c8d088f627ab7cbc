"""Activations: a registry of small pieces, each carrying its own Gaussian kernel.

An :class:`Activation` holds the sympy expression phi(z) and, where they exist in closed
form, its two Gaussian kernels (docs/conventions.md §3)::

    kernel            = E[phi(u1)  phi(u2)]
    derivative_kernel = E[phi'(u1) phi'(u2)],   (u1, u2) ~ N(0, [[q11, q12], [q12, q22]])

as sympy expressions in the symbols ``q11, q22, q12``.  Everything else (mean-field maps,
chi's, finite-width recursions, export) is derived from these by the other packages.
Where no closed form exists the numbers come from vectorised Gauss-Hermite quadrature
with a stated node count (:data:`DEFAULT_NODES`).

>>> relu = get_activation("relu")
>>> diagonal_kernel(relu)                      # E[relu(u)^2], u ~ N(0, q)
q/2
>>> float(mean_square(get_activation("tanh"), 1.0))     # quadrature, 201 nodes
0.3942944903978...

Register your own with :func:`register` or pass an expression of ``z``:

>>> get_activation("z*tanh(z)").name
'z*tanh(z)'
"""

from __future__ import annotations

import functools
import math
import numbers
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import sympy as sp

from ..errors import InvalidParameter, ParseError, UnknownActivation, unknown_name
from .symbols import q, q11, q12, q22, z

__all__ = [
    "DEFAULT_NODES",
    "Activation",
    "register",
    "get_activation",
    "known_activations",
    "diagonal_kernel",
    "numeric_function",
    "NODE_BANDS",
    "hermite_rule",
    "node_counts",
    "hermite_groups",
    "PANEL_NODES",
    "legendre_rule",
    "panel_rule",
    "gaussian_mean",
    "bivariate_gaussian_mean",
    "gaussian_kernel",
    "mean_square",
    "method_name",
]

#: Gauss-Hermite nodes used when an activation has no closed-form kernel.
DEFAULT_NODES = 201


@dataclass(frozen=True)
class Activation:
    """One activation function phi(z) with its closed-form Gaussian kernels, if any.

    ``kernel`` and ``derivative_kernel`` are sympy expressions in ``q11, q22, q12`` (see the
    module docstring) or ``None`` where no closed form is known.

    >>> act = get_activation("erf")
    >>> act.expr
    erf(z)
    >>> act.has_closed_form, act.is_odd
    (True, True)
    """

    name: str
    expr: sp.Expr
    kernel: sp.Expr | None = None
    derivative_kernel: sp.Expr | None = None
    description: str = ""

    @property
    def has_closed_form(self) -> bool:
        """True when both kernels are known in closed form."""
        return self.kernel is not None and self.derivative_kernel is not None

    @property
    def is_odd(self) -> bool:
        """phi(-z) = -phi(z): then c* = 0 is a correlation fixed point at sigma_b2 = 0."""
        return _identity_holds(lambda x: self.expr.subs(z, -x) + self.expr.subs(z, x))

    @property
    def is_scale_invariant(self) -> bool:
        """phi(a z) = a phi(z) for a > 0: PDLT's scale-invariant class (linear, ReLU, ...)."""
        a = sp.Rational(5, 2)
        return _identity_holds(lambda x: self.expr.subs(z, a * x) - a * self.expr.subs(z, x))

    @functools.cached_property
    def kinks(self) -> tuple:
        """Points where phi is not smooth (from Max/Min/Abs/Heaviside/Piecewise in ``expr``).

        Quadrature splits the integration domain there, so kinked activations keep
        near machine accuracy.
        """
        return _kinks(self.expr)

    def derivative(self, k: int = 1) -> sp.Expr:
        """The k-th derivative of phi as a sympy expression of z."""
        return sp.diff(self.expr, z, k)

    def numeric(self, k: int = 0) -> Callable[[np.ndarray], np.ndarray]:
        """A vectorised numpy function for the k-th derivative of phi."""
        return numeric_function(self.derivative(k) if k else self.expr)

    def _repr_latex_(self) -> str:
        return f"$\\phi(z) = {sp.latex(self.expr)}$"

    def __repr__(self) -> str:
        return f"Activation({self.name!r}, {sp.sstr(self.expr)})"


#: probe points for identities of phi: exact rationals, so piecewise activations decide exactly
_PROBES = [sp.Rational(k, 7) for k in (-19, -10, -3, -1, 1, 2, 5, 11, 23)]


def _identity_holds(residual) -> bool:
    """True when residual(x) vanishes (to 1e-12) at every probe point."""
    return all(abs(complex(sp.N(residual(x), 20))) < 1e-12 for x in _PROBES)


def _kinks(expr: sp.Expr) -> tuple:
    zeros = []
    for node in sp.preorder_traversal(expr):
        if isinstance(node, (sp.Max, sp.Min)) and len(node.args) == 2:
            zeros.append(node.args[0] - node.args[1])
        elif isinstance(node, (sp.Abs, sp.Heaviside, sp.sign)):
            zeros.append(node.args[0])
        elif isinstance(node, sp.Piecewise):
            for _, cond in node.args:
                if isinstance(cond, sp.core.relational.Relational):
                    zeros.append(cond.lhs - cond.rhs)
    points = set()
    for f in zeros:
        if z in f.free_symbols:
            points.update(r for r in sp.solve(f, z) if r.is_real)
    return tuple(sorted(points, key=float))


# --- numerics -------------------------------------------------------------------------

_MODULES = ["scipy", "numpy"]  # scipy first: erf must map to scipy.special.erf, not math.erf


@functools.lru_cache(maxsize=512)
def numeric_function(expr: sp.Expr, args: tuple = (z,)) -> Callable:
    """Lambdify ``expr`` of ``args`` to a vectorised numpy/scipy function (cached)."""
    f = sp.lambdify(args, expr, modules=_MODULES)
    if not expr.free_symbols & set(args):
        # a constant expression (e.g. phi' = 1 for the linear activation) must still broadcast
        const = float(expr)
        return lambda *xs: np.full(np.broadcast(*xs).shape, const)
    return f


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


def _kinked_at_zero(act: Activation) -> bool:
    return act.kinks == (0,)


@functools.lru_cache(maxsize=256)
def diagonal_kernel(act: Activation, derivative: int = 0) -> sp.Expr | None:
    """The single-variable kernel E[phi^(k)(u)^2], u ~ N(0, q), as an expression in ``q``.

    ``None`` when the activation has no closed form.
    """
    kern = act.kernel if derivative == 0 else act.derivative_kernel
    if kern is None or derivative not in (0, 1):
        return None
    return sp.simplify(kern.subs({q11: q, q22: q, q12: q}))


@functools.lru_cache(maxsize=256)
def _kernel_function(expr: sp.Expr) -> Callable:
    return numeric_function(expr, (q11, q22, q12))


def gaussian_kernel(
    act: Activation, var1, var2, cov, derivative: int = 0, nodes: int | None = None
):
    """E[phi^(k)(u1) phi^(k)(u2)] (k = ``derivative`` in 0, 1), vectorised.

    Uses the closed form when there is one and ``nodes`` is None; otherwise quadrature with
    ``nodes`` Gauss-Hermite nodes per dimension (default: graded by variance,
    :data:`NODE_BANDS`), or the polar rule for activations kinked at 0.
    """
    var1, var2, cov = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in (var1, var2, cov)))
    bound = np.sqrt(var1 * var2)
    cov = np.clip(cov, -bound, bound)  # rounding can push |c| past 1 and break acos/asin
    kern = act.kernel if derivative == 0 else act.derivative_kernel
    if derivative not in (0, 1):
        kern = None
    if kern is not None and nodes is None:
        return np.asarray(_kernel_function(kern)(var1, var2, cov), dtype=float) + 0.0 * cov
    f = act.numeric(derivative)
    if _kinked_at_zero(act):
        return polar_gaussian_mean(f, f, var1, var2, cov)
    return bivariate_gaussian_mean(f, f, var1, var2, cov, nodes)


def mean_square(act: Activation, var, derivative: int = 0, nodes: int | None = None):
    """E[phi^(k)(u)^2], u ~ N(0, var), vectorised; closed form where known.

    >>> float(mean_square(get_activation("relu"), 3.0))
    1.5
    """
    var = np.asarray(var, dtype=float)
    diag = diagonal_kernel(act, derivative) if nodes is None else None
    if diag is not None:
        return np.asarray(numeric_function(diag, (q,))(var), dtype=float) + 0.0 * var
    f = act.numeric(derivative)
    if _kinked_at_zero(act):
        return polar_gaussian_mean(lambda u: f(u) ** 2, lambda u: 1.0, var, var, var)
    return gaussian_mean(lambda u: f(u) ** 2, var, nodes)


def method_name(act: Activation, nodes: int | None = None) -> str:
    """How nnqft evaluates this activation's Gaussian integrals, for reports."""
    if act.has_closed_form and nodes is None:
        return "closed-form"
    if _kinked_at_zero(act):
        return "polar gauss-legendre (4 arcs x 24 angular x 168 radial nodes)"
    if nodes is None:
        bands = f"{NODE_BANDS[0][1]}-{NODE_BANDS[-1][1]}"
        return f"gauss-hermite({bands} nodes, more at larger variance)"
    return f"gauss-hermite({nodes} nodes)"


# --- the registry -----------------------------------------------------------------------

_theta = sp.acos(q12 / sp.sqrt(q11 * q22))
#: the arc-cosine kernels of order 1 and 0 (Cho & Saul 2009): E[relu relu], E[step step]
_ARCCOS_1 = sp.sqrt(q11 * q22) / (2 * sp.pi) * (sp.sin(_theta) + (sp.pi - _theta) * sp.cos(_theta))
_ARCCOS_0 = (sp.pi - _theta) / (2 * sp.pi)


def _linear() -> Activation:
    return Activation("linear", z, q12, sp.Integer(1), "phi(z) = z")


def _relu() -> Activation:
    return Activation("relu", sp.Max(0, z), _ARCCOS_1, _ARCCOS_0, "max(0, z); arc-cosine kernel")


def _exact(value) -> sp.Expr:
    """A parameter as an exact number: text through the safe number parser (never
    ``sympify``), floats through ``nsimplify`` (0.1 -> 1/10)."""
    if isinstance(value, str):
        from .parse import parse_number

        return parse_number(value, what="activation parameter")
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, sp.Basic)):
        raise InvalidParameter(f"activation parameter {value!r} is not a real number")
    value = sp.nsimplify(value)
    if not (value.is_number and value.is_real and value.is_finite):
        raise InvalidParameter(f"activation parameter {value} is not a finite real number")
    return value


def _abrelu(a, b, name: str) -> Activation:
    # phi = b relu(z) - a relu(-z); with X = E[relu(u1) relu(-u2)] = J - q12/2 this gives
    # E[phi phi] = (a-b)^2 J1 + ab q12 and E[phi' phi'] = (a-b)^2 J0 + ab.
    a, b = _exact(a), _exact(b)
    expr = sp.Piecewise((b * z, z > 0), (a * z, True))
    return Activation(
        name,
        expr,
        (a - b) ** 2 * _ARCCOS_1 + a * b * q12,
        (a - b) ** 2 * _ARCCOS_0 + a * b,
        f"slope {a} for z < 0, {b} for z > 0; arc-cosine kernel",
    )


def _leaky_relu(alpha=sp.Rational(1, 100)) -> Activation:
    alpha = _exact(alpha)
    return _abrelu(alpha, 1, "relu" if alpha == 0 else f"leaky_relu({alpha})")


def _erf() -> Activation:
    det = (1 + 2 * q11) * (1 + 2 * q22)
    return Activation(
        "erf",
        sp.erf(z),
        2 / sp.pi * sp.asin(2 * q12 / sp.sqrt(det)),
        4 / sp.pi / sp.sqrt(det - 4 * q12**2),
        "arcsine kernel (Williams 1997)",
    )


def _sin() -> Activation:
    damp = sp.exp(-(q11 + q22) / 2)
    return Activation("sin", sp.sin(z), damp * sp.sinh(q12), damp * sp.cosh(q12), "sin(z)")


def _cos() -> Activation:
    damp = sp.exp(-(q11 + q22) / 2)
    return Activation("cos", sp.cos(z), damp * sp.cosh(q12), damp * sp.sinh(q12), "cos(z)")


def _gelu() -> Activation:
    # phi = z/2 + g with g = (z/2) erf(z/sqrt2) even, so E[phi phi] = q12/4 + E[g g]; Stein's
    # lemma twice reduces E[u1 h1 u2 h2] (h = erf(z/sqrt2)) to the arcsine kernel
    # A = (2/pi) asin(q12/sqrt(P)) and E[h' h'] = (2/pi)/sqrt(R); Price's theorem
    # (d/dq12 E[phi phi] = E[phi' phi']) gives the second kernel.  Checked against
    # quadrature to 1e-10 in tests/derive/test_mft.py.
    P = (1 + q11) * (1 + q22)
    R = 1 + q11 + q22 + q11 * q22 - q12**2  # = P - q12^2, expanded: 1 + 2q on the diagonal
    asin = sp.asin(q12 / sp.sqrt(P))
    kernel = (
        q12 / 4 + q12 * asin / (2 * sp.pi) + (q11 * q22 * R + q12**2) / (2 * sp.pi * P * sp.sqrt(R))
    )
    derivative_kernel = (
        sp.Rational(1, 4)
        + asin / (2 * sp.pi)
        + q12 / (2 * sp.pi) * ((2 + q11 + q22) / (P * sp.sqrt(R)) + R ** sp.Rational(-3, 2))
    )
    return Activation(
        "gelu",
        z * (1 + sp.erf(z / sp.sqrt(2))) / 2,
        kernel,
        derivative_kernel,
        "z Phi(z); closed-form kernels via Stein's lemma",
    )


def _tanh() -> Activation:
    return Activation("tanh", sp.tanh(z), description="no closed-form kernel: quadrature")


def _sigmoid() -> Activation:
    return Activation("sigmoid", 1 / (1 + sp.exp(-z)), description="logistic; quadrature")


def _swish() -> Activation:
    return Activation("swish", z / (1 + sp.exp(-z)), description="z sigmoid(z) (SiLU); quadrature")


def _softplus() -> Activation:
    return Activation("softplus", sp.log(1 + sp.exp(z)), description="log(1 + e^z); quadrature")


_REGISTRY: dict[str, Callable[..., Activation]] = {
    "linear": _linear,
    "relu": _relu,
    "leaky_relu": _leaky_relu,
    "abrelu": lambda a=0, b=1: _abrelu(a, b, f"abrelu({_exact(a)}, {_exact(b)})"),
    "erf": _erf,
    "tanh": _tanh,
    "sigmoid": _sigmoid,
    "gelu": _gelu,
    "swish": _swish,
    "sin": _sin,
    "cos": _cos,
    "softplus": _softplus,
}
_ALIASES = {"silu": "swish", "identity": "linear", "logistic": "sigmoid"}


def register(name: str, factory: Callable[..., Activation] | Activation) -> None:
    """Add an activation (or a factory taking its parameters) to the registry.

    >>> register("softsign", Activation("softsign", z / (1 + abs(z))))
    >>> get_activation("softsign").has_closed_form
    False
    """
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise InvalidParameter(f"activation name {name!r} must be an identifier")
    _REGISTRY[name] = (
        factory if callable(factory) and not isinstance(factory, Activation) else (lambda: factory)
    )


def known_activations() -> list[str]:
    """The registered activation names (aliases excluded), sorted."""
    return sorted(_REGISTRY)


@functools.lru_cache(maxsize=256)
def _build(name: str, args: tuple, kwargs: tuple = ()) -> Activation:
    return _REGISTRY[name](*args, **dict(kwargs))


def get_activation(spec) -> Activation:
    """Look up an activation by name, ``name(params)`` or an expression of ``z``.

    Parameters are numbers (``leaky_relu(0.1)``, ``leaky_relu(alpha=0.2)``, ``1/3``);
    expressions are read by the safe parser :func:`nnqft.rules.parse.parse_expression`,
    never evaluated as Python.

    >>> get_activation("leaky_relu(0.1)").name
    'leaky_relu(1/10)'
    >>> get_activation("tnah")
    Traceback (most recent call last):
    ...
    nnqft.errors.UnknownActivation: unknown activation 'tnah'; known: ... (did you mean 'tanh'?)
    >>> get_activation("lambda z: z")
    Traceback (most recent call last):
    ...
    nnqft.errors.InvalidParameter: activation 'lambda z: z' is neither a known name nor ...
    """
    if isinstance(spec, Activation):
        return spec
    if isinstance(spec, sp.Expr):
        return _custom(spec, str(spec))
    if not isinstance(spec, str):
        raise UnknownActivation(f"activation must be a name or an expression of z, got {spec!r}")
    text = spec.strip()
    m = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)\s*(?:\((.*)\))?", text, flags=re.DOTALL)
    if m:
        name = _ALIASES.get(m.group(1).lower(), m.group(1).lower())
        if name in _REGISTRY:
            args, kwargs = _parse_params(name, m.group(2))
            try:
                return _build(name, args, kwargs)
            except TypeError:
                shown = ", ".join([sp.sstr(a) for a in args] + [f"{k}={v}" for k, v in kwargs])
                raise InvalidParameter(
                    f"activation {name!r} does not take parameters ({shown})"
                ) from None
    # not a registered name: maybe an expression of z
    from .parse import parse_expression

    try:
        expr, reason = parse_expression(text, {"z": z}), None
    except ParseError as exc:
        expr, reason = None, getattr(exc, "reason", str(exc))
    if expr is not None and expr.free_symbols == {z}:
        return _custom(expr, text)
    if m is None and expr is not None:
        return _custom(expr, text)  # says which symbols are not allowed
    if m is None:
        raise InvalidParameter(
            f"activation {text[:80]!r} is neither a known name nor an expression of z: {reason}"
        )
    raise unknown_name("activation", text, list(_REGISTRY) + list(_ALIASES), cls=UnknownActivation)


def _parse_params(name: str, text: str | None) -> tuple[tuple, tuple]:
    """``0.1, b=2`` -> ((1/10,), (("b", 2),)): numbers only, through the safe parser."""
    if text is None or not text.strip():
        return (), ()
    args, kwargs = [], []
    for piece in text.split(","):
        key, eq, value = piece.partition("=")
        if eq:
            key = key.strip()
            if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", key):
                raise InvalidParameter(
                    f"activation parameter name {key[:40]!r} of {name!r} must be an identifier"
                )
            kwargs.append((key, _parse_param(value)))
        else:
            if kwargs:
                raise InvalidParameter(f"positional parameter after a named one in {name!r}")
            args.append(_parse_param(piece))
    return tuple(args), tuple(kwargs)


def _parse_param(text: str):
    from .parse import parse_number

    return parse_number(text.strip(), what="activation parameter")


def _custom(expr: sp.Expr, name: str) -> Activation:
    undefined = sorted(str(f.func) for f in expr.atoms(sp.core.function.AppliedUndef))
    if undefined:
        raise InvalidParameter(
            f"activation expression {name!r} uses unknown function(s) {', '.join(undefined)}; "
            "use sympy functions of z (tanh, exp, erf, log, ...)"
        )
    if expr.free_symbols - {z}:
        extra = ", ".join(sorted(str(s) for s in expr.free_symbols - {z}))
        raise InvalidParameter(f"activation expression {name!r} may depend on z only, not {extra}")
    if z not in expr.free_symbols:
        raise InvalidParameter(
            f"activation expression {name!r} does not depend on z: a constant phi carries no "
            "signal (chi_1 = 0); use an expression of z"
        )
    _check_real_and_finite(expr, name)
    return Activation(name, expr, description="user expression; quadrature")


#: where a user's phi is probed: both signs, zero, and the scale of typical pre-activations
_PROBES = (-3.7, -1.3, -0.2, 0, 0.45, 1.1, 2.9)


def _check_real_and_finite(expr: sp.Expr, name: str) -> None:
    """Refuse a phi that is complex or infinite somewhere on the real line (log(z), 1/z):
    every Gaussian expectation integrates over all real z."""
    import math

    f = sp.lambdify(z, expr, "mpmath")
    for point in _PROBES:
        try:
            value = complex(f(point))
        except (ZeroDivisionError, ValueError, OverflowError, TypeError):
            value = complex("nan")
        if value.imag != 0 or not math.isfinite(value.real):
            shown = "not finite" if not math.isfinite(abs(value)) else f"{value:.3g}"
            raise InvalidParameter(
                f"activation expression {name!r} must be real and finite for every real z; "
                f"at z = {point} it is {shown}"
            )
