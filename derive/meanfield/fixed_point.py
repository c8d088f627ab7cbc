"""The mean-field fixed point: q*, c*, the chi's there, depth scales and the phase.

One vectorised engine over arrays of (sigma_w2, sigma_b2, q0) (docs/conventions.md §3):
Newton on the length map for every point (:func:`_solve_q`), then the correlation fixed
point c* in the chaotic phase (:func:`_solve_c`, on the Mehler series of the same
Gauss-Hermite rule where there is no closed-form kernel).  :func:`fixed_point` is one point;
:func:`nnqft.derive.meanfield.phase.phase_diagram` a grid; :mod:`.criticality` the edge of
chaos.

>>> from nnqft.rules.network import Network
>>> fixed_point(Network("feedforward", "relu", sigma_w2=1.0, sigma_b2=0.5)).q_star
1.0
"""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass, field

import numpy as np

from ...errors import InvalidParameter
from ...rules.activations import Activation
from ...rules.network import Network, numeric_variances, require_network
from ..gaussian import expect, gaussian_tail, mehler_coefficients, method_name, node_counts
from ._inputs import _moments
from .maps import length_map

__all__ = ["CRITICAL_TOL", "QUADRATURE_TOL", "MeanField", "fixed_point"]

#: |chi - 1| below this counts as exactly 1: the critical phase and infinite depth scales
CRITICAL_TOL = 1e-9


#: a q beyond this is taken as unbounded growth (no finite fixed point)
_Q_DIVERGED = 1e12


#: grid points per vectorised chunk (keeps quadrature arrays in cache)
_CHUNK = 4096


@functools.lru_cache(maxsize=256)
def _traits(act: Activation) -> tuple[bool, bool, float, float]:
    """(is_odd, is_scale_invariant, phi(0), phi'(0)) of an activation, cached."""
    # at_zero: exact before rounding; NaN where phi'(0) is undefined (a kink at 0)
    return act.is_odd, act.is_scale_invariant, act.at_zero(0), act.at_zero(1)


def _method(act: Activation, nodes: int | None) -> str:
    if act.has_closed_form and nodes is None:
        return "closed-form"
    if act.kink_points == (0,):
        return "quadrature: polar gauss-legendre split at the kink"
    return f"quadrature: {method_name(act, nodes)}; c-map by its Mehler (Hermite) series"


def _solve_q(act: Activation, sw, sb, q1, nodes, moments=None):
    """q* reached from q(1) = q1 by the length map, vectorised over equal-shape 1-d arrays.

    Returns (q*, E phi^2, E phi'^2, dE phi^2/dq) at q*.  q* = inf where q grows without
    bound; q* = 0 where (phi(0) = 0, sigma_b2 = 0) the length map contracts to 0, which it
    does algebraically slowly at chi = 1 (docs/conventions.md §3), so it is decided, not iterated.
    ``moments(q)`` gives the three integrals (default: direct quadrature; a phase diagram
    passes its :class:`~nnqft.derive.meanfield.tabulated.MomentTable`).
    """
    if moments is None:
        moments = functools.partial(_moments, act, nodes=nodes)
    odd, scale_inv, phi0, dphi0 = _traits(act)
    q = q1.astype(float).copy()
    zero_branch = (sb == 0) & (phi0 == 0)
    if scale_inv:
        # E phi^2 = kappa q exactly: the map is affine, q' = a q + sigma_b2
        m0, m1, mp = _moments(act, np.ones(1), nodes)
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
        m0[idx], m1[idx], mp[idx] = moments(q[idx])
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
        t0, t1, tp = moments(trial)
        better = np.abs(swa * t0 + sba - trial) <= np.abs(g)
        q[idx] = np.where(better, trial, mapped)
        m0[idx], m1[idx], mp[idx] = t0, t1, tp
        redo = idx[~better]  # map steps taken instead: their moments are still to compute
        if redo.size:
            m0[redo], m1[redo], mp[redo] = moments(q[redo])
    q = np.where(q > _Q_DIVERGED, np.inf, q)
    # a Newton step may still land on an unstable root the map never reaches from q(1):
    # redo those points by plain iteration of the map
    unstable = np.isfinite(q) & (np.abs(sw * mp) > 1 + CRITICAL_TOL)
    if unstable.any():
        idx = np.flatnonzero(unstable)
        q[idx] = _iterate_map(act, sw[idx], sb[idx], q1[idx].astype(float), nodes, moments)
    # q -> 0 found by Newton (e.g. sigma_w2 phi'(0)^2 < 1 without the test above)
    q = np.where(zero_branch & (s0 <= 1 + CRITICAL_TOL) & (q <= 1e-12 * q1), 0.0, q)
    fix = np.flatnonzero(unstable | (q == 0))
    if fix.size:
        m0[fix], m1[fix], mp[fix] = moments(q[fix])
    unbounded = np.flatnonzero(~np.isfinite(q))
    if unbounded.size:  # no fixed point: nothing is evaluated "at q*"
        m0[unbounded], m1[unbounded], mp[unbounded] = np.inf, np.nan, np.nan
    return q, m0, m1, mp


def _iterate_map(act: Activation, sw, sb, q, nodes, moments=None, steps: int = 20000):
    """Plain iteration of the length map (vectorised) until it settles or diverges.

    Points still rising after ``steps`` steps count as unbounded (e.g. GELU at sigma_w2 = 2,
    whose map tends to q' = q + const: q grows linearly, there is no fixed point).
    """
    if moments is None:
        moments = functools.partial(_moments, act, nodes=nodes)
    active = np.ones(q.shape, dtype=bool)
    rising = np.zeros(q.shape, dtype=bool)
    for _ in range(steps):
        m0, _, _ = moments(q[active])
        new = sw[active] * m0 + sb[active]
        settled = np.abs(new - q[active]) <= 1e-14 * np.maximum(1.0, new)
        rising[active] = new > q[active]
        q[active] = new
        active[np.flatnonzero(active)[settled | (new > _Q_DIVERGED)]] = False
        if not active.any():
            break
    return np.where((q > _Q_DIVERGED) | (active & rising), np.inf, q)


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
    m0, _, _ = _moments(act, small, nodes)
    return bool(np.all(m0 / dphi0**2 - small < 0))


def _correlation_map_at(act: Activation, sw, sb, q, nodes, compact: bool = False):
    """(c, sel) -> (C(c), C'(c)) for the points ``sel``, with C(c) = (sigma_w2 E[phi(u1)
    phi(u2)] + sigma_b2)/q at equal variances q and correlation c; C'(c) = chi_c (Price's
    theorem).  Closed-form kernels where they exist, polar quadrature for kinks at 0, else
    the Mehler series of the Gauss-Hermite rule (cheap to re-evaluate in c)."""
    if (act.has_closed_form and nodes is None) or act.kink_points:

        def cmap(c, sel):
            qs = q[sel]
            k, d = (expect(act, w, qs, qs, qs * c, nodes=nodes) for w in ("phi phi", "phi' phi'"))
            return (sw[sel] * k + sb[sel]) / qs, sw[sel] * d

        return cmap
    b = mehler_coefficients(act.numeric(0), q, nodes)
    if compact:
        return _compact_series(b, sw, sb, q, odd=_traits(act)[0])

    def cmap(c, sel):
        bs = b[sel]
        val = np.zeros_like(c)
        der = np.zeros_like(c)
        for k in range(bs.shape[1] - 1, -1, -1):  # Horner, value and derivative together
            der = der * c + val
            val = val * c + bs[:, k]
        return (sw[sel] * val + sb[sel]) / q[sel], sw[sel] * der / q[sel]

    return cmap


def _compact_series(b, sw, sb, q, odd: bool = False):
    """The Mehler-series c-map of :func:`_correlation_map_at` for many points at once:
    each point's series cut where its own tail is below 1e-17 of its sum (not the longest
    of its Gauss-Hermite group), summed on groups of points of similar length; for odd phi
    (b_n = 0 for even n, up to rounding ~1e-33) C(c) = c P(c^2) over the odd terms only.
    The values differ from the full series by those tails (~1e-17 relative)."""
    tail = np.cumsum(b[:, ::-1], axis=1)[:, ::-1]
    length = np.maximum(1, (tail > 1e-17 * tail[:, :1]).sum(axis=1))
    if odd:
        b = b[:, 1::2]
        length = np.maximum(1, length // 2)

    def cmap(c, sel):
        val, der = np.zeros_like(c), np.zeros_like(c)
        ranked = np.argsort(length[sel], kind="stable")
        for lo in range(0, sel.size, 1024):
            part = ranked[lo : lo + 1024]
            rows, x = sel[part], c[part]
            bs = b[rows, : int(length[rows].max())]
            y = x * x if odd else x
            # the powers y^0 .. y^(L-1) at once (one array operation, not one per term)
            powers = np.ones(bs.shape)
            if bs.shape[1] > 1:
                repeated = np.broadcast_to(y[:, None], (y.size, bs.shape[1] - 1))
                powers[:, 1:] = np.cumprod(repeated, axis=1)
            v = np.einsum("ij,ij->i", bs, powers)
            d = np.einsum("ij,ij,j->i", bs[:, 1:], powers[:, :-1], np.arange(1.0, bs.shape[1]))
            if odd:  # C = c P(c^2), C' = P(c^2) + 2 c^2 P'(c^2)
                v, d = x * v, v + 2 * y * d
            val[part], der[part] = v, d
        return (sw[sel] * val + sb[sel]) / q[sel], sw[sel] * der / q[sel]

    return cmap


def _solve_c(act: Activation, sw, sb, q, chi1, nodes, compact: bool = False):
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
        cmap = _correlation_map_at(act, sub_sw, sub_sb, sub_q, nodes, compact)
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
    return expect(act, "phi'", q, nodes=nodes, rule="hermite")


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


def _mean_field_arrays(act: Activation, sw, sb, q0, nodes=None, moments=None) -> dict:
    """Every mean-field quantity on broadcast arrays of (sigma_w2, sigma_b2, q0); ``moments``
    as in :func:`_solve_q`."""
    sw, sb, q0 = (np.asarray(v, dtype=float) for v in (sw, sb, q0))
    shape = np.broadcast_shapes(sw.shape, sb.shape, q0.shape)
    sw, sb, q0 = (np.broadcast_to(v, shape).ravel() for v in (sw, sb, q0))
    qs, m0, m1, mp = _solve_q(act, sw, sb, sw * q0 + sb, nodes, moments)
    chi1 = sw * m1
    chipar = sw * mp
    cs, chic = _solve_c(act, sw, sb, qs, chi1, nodes, compact=moments is not None)
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


def _ratio(num: float, den: float) -> float:
    """|num/den|, 0 where den vanishes (a chi that underflowed to 0: the quantity is a
    limit, e.g. lyapunov -> -inf, with no quadrature error to speak of)."""
    with np.errstate(all="ignore"):
        value = abs(num / den) if den != 0 and np.isfinite(den) else 0.0
    return float(value) if np.isfinite(value) else 0.0


def _quadrature_error(net: Network, values: dict, nodes) -> dict | None:
    """Estimated relative error of each number from the Gauss-Hermite rule (None for closed
    forms and for the polar rule at a kink at 0, whose node counts are fixed).

    At the fixed point only: the moments (and, in the chaotic phase, the Mehler series of the
    c-map) are recomputed with 1.5x the nodes used at q*, and the differences carried to
    each quantity to first order (dq* = sigma_w2 dE[phi^2]/(1 - chi_parallel), one Newton
    step for c*, dxi/xi = dchi/(chi |ln chi|)).
    """
    act = net.activation
    if (act.has_closed_form and nodes is None) or act.kink_points == (0,):
        return None
    q = values["q_star"]
    if not np.isfinite(q):
        return {}
    sw, sb = float(net.sigma_w2), float(net.sigma_b2)
    more = int(node_counts(q, nodes)) * 3 // 2
    qa = np.array([q])
    with np.errstate(all="ignore"):
        a = [float(v[0]) for v in _moments(act, qa, nodes)]
        b = [float(v[0]) for v in _moments(act, qa, more)]
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
            "lyapunov_exponent": _ratio(d1, 2 * chi1),
            "xi_q": _ratio(dp, chipar * np.log(abs(chipar))) * abs(values["xi_q"]),
            "xi_c": _ratio(dchic, chic * np.log(abs(chic))) * abs(values["xi_c"]),
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
    require_network(net)
    numeric_variances(net, "fixed_point")
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
