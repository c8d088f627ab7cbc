"""The edge of chaos: chi_1(q*) = 1 (docs/conventions.md §3), and the point where also
chi_parallel = 1 (both depth scales infinite; docs/conventions.md §7).

>>> critical_point("relu").sigma_w2
2.0
"""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass

import numpy as np

from ...errors import InvalidParameter, InvalidType, NoExactForm
from ...rules.activations import Activation, get_activation
from ._inputs import _array, _moments
from .fixed_point import CRITICAL_TOL, _method, _traits, _zero_attracts

__all__ = ["CriticalPoint", "CriticalLine", "critical_point", "critical_line"]


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


def _direct(act: Activation, nodes):
    """The three integrals at q by direct quadrature (the default of ``moments``)."""
    return functools.partial(_moments, act, nodes=nodes)


@functools.lru_cache(maxsize=64)
def _ratio_scan(act: Activation, nodes, moments=None):
    """r(q) = E[phi^2]/E[phi'^2] - q as a function, and its values on the scan grid."""
    moments = moments or _direct(act, nodes)

    def ratio(qv):
        m0, m1, _ = moments(np.atleast_1d(np.asarray(qv, dtype=float)))
        with np.errstate(invalid="ignore", divide="ignore"):
            return m0 / m1 - np.atleast_1d(qv)

    return ratio, ratio(_Q_SCAN)


def _critical_at_bias(act: Activation, sb: float, nodes, moments=None):
    """(sigma_w2, q*) with chi_1(q*) = 1 at a stable q* = sigma_w2 E phi^2 + sigma_b2, or None.

    Eliminating sigma_w2 = 1/E[phi'^2] leaves one equation for q:
    G(q) = E[phi^2]/E[phi'^2] + sigma_b2 - q = 0, bracketed on a scan and solved by Brent.
    Roots where the length map is unstable there (chi_parallel > 1: no network sits at
    them, e.g. GELU at small sigma_b2) are skipped.
    """
    odd, scale_inv, phi0, dphi0 = _traits(act)
    ratio, base = _ratio_scan(act, nodes, moments)
    for root in _roots(lambda x: float(ratio(x)[0] + sb), _Q_SCAN, base + sb):
        _, m1, mp = (moments or _direct(act, nodes))(np.array([root]))
        if mp[0] / m1[0] <= 1 + CRITICAL_TOL:
            return 1.0 / m1[0], root
    if sb == 0 and _zero_attracts(act, nodes):
        return _inverse_slope_squared(act), 0.0  # the line ends at q* -> 0 (erf: pi/4)
    return None


@functools.lru_cache(maxsize=64)
def _inverse_slope_squared(act: Activation) -> float:
    """1/phi'(0)^2, evaluated exactly (erf: pi/4) before rounding to a float."""
    return act.at_zero(-1)


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
    return _critical_point(get_activation(activation), sigma_b2, nodes)


def _critical_point(act: Activation, sigma_b2, nodes, moments=None) -> CriticalPoint:
    """:func:`critical_point` with the integrals from ``moments(q)`` (default: direct)."""
    sb = None if sigma_b2 is None else _variance("sigma_b2", sigma_b2)
    odd, scale_inv, phi0, dphi0 = _traits(act)
    method = _method(act, nodes).replace("; c-map by its Mehler (Hermite) series", "")
    if scale_inv:
        m0, m1, mp = _moments(act, np.ones(1), nodes)
        sw = 1.0 / m1[0]
        sb_ = 0.0 if sb is None else sb
        q_star = float("nan") if sb_ == 0 else float("inf")
        condition = "chi_1 = sigma_w2 E[phi'^2] = 1, independent of q (scale-invariant phi)"
        return CriticalPoint(
            act.name, float(sw), sb_, q_star, 1.0, float(sw * mp[0]), condition, method
        )
    if sb is not None:
        found = _critical_at_bias(act, sb, nodes, moments)
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
    m0, m1, mp = (moments or _direct(act, nodes))(np.array([q_star]))
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
        _, m1, mp = _moments(act, np.atleast_1d(np.asarray(qv, dtype=float)), nodes)
        return mp - m1

    grid = _Q_SCAN[1:]
    for q_star in _roots(lambda x: float(gap(x)[0]), grid, gap(grid)):
        m0, m1, _ = _moments(act, np.array([q_star]), nodes)
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
    return _critical_line(get_activation(activation), sigma_b2_values, nodes)


def _critical_line(act: Activation, sigma_b2_values, nodes, moments=None) -> CriticalLine:
    """:func:`critical_line` with the integrals from ``moments(q)`` (default: direct)."""
    sbs = _array("sigma_b2", sigma_b2_values).ravel()
    if moments is not None and not _traits(act)[1]:
        return _line_on_table(act, sbs, nodes, moments)
    sw = np.full(sbs.shape, np.nan)
    qs = np.full(sbs.shape, np.nan)
    for i, sb in enumerate(sbs):
        try:
            point = _critical_point(act, float(sb), nodes, moments)
        except NoExactForm:
            continue
        sw[i], qs[i] = point.sigma_w2, point.q_star
    return CriticalLine(act.name, sbs, sw, qs)


def _line_on_table(act: Activation, sbs: np.ndarray, nodes, moments) -> CriticalLine:
    """:func:`critical_line` for every sigma_b2 at once, on a moment table: the same scan,
    brackets and stability test as :func:`_critical_at_bias`, each bracket's root by a
    vectorised bisection to rounding (where Brent's method stops at 1e-15 relative)."""
    for sb in sbs:
        _variance("sigma_b2", sb)
    ratio, base = _ratio_scan(act, nodes, moments)
    keep = np.isfinite(base)
    grid, scan = _Q_SCAN[keep], base[keep]
    values = scan[None, :] + sbs[:, None]  # G(q) on the scan, one row per sigma_b2
    pos = values > 0
    change = pos[:, :-1] != pos[:, 1:]
    sw = np.full(sbs.shape, np.nan)
    qs = np.full(sbs.shape, np.nan)
    pending = np.ones(sbs.shape, dtype=bool)
    for i in np.flatnonzero(change.any(axis=0)):  # brackets in the order of the scan
        sel = np.flatnonzero(change[:, i] & pending)
        at_edge = values[sel, i + 1] == 0
        sel = sel[at_edge | (values[sel, i] != 0)]
        if sel.size == 0:
            continue
        root = np.full(sel.size, grid[i + 1])
        inner = values[sel, i + 1] != 0
        root[inner] = _bisect(ratio, sbs[sel[inner]], grid[i], grid[i + 1])
        _, m1, mp = moments(root)
        stable = mp / m1 <= 1 + CRITICAL_TOL
        sw[sel[stable]], qs[sel[stable]] = 1.0 / m1[stable], root[stable]
        pending[sel[stable]] = False
    if pending.any() and _zero_attracts(act, nodes):
        zero = pending & (sbs == 0)
        sw[zero], qs[zero] = _inverse_slope_squared(act), 0.0
    return CriticalLine(act.name, sbs, sw, qs)


def _bisect(ratio, sb: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Roots of ratio(q) + sb in [lo, hi] (a sign change there), vectorised over sb."""
    lo, hi = np.full(sb.shape, lo), np.full(sb.shape, hi)
    f_lo = ratio(lo) + sb
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        done = (mid <= lo) | (mid >= hi)
        if done.all():
            break
        f_mid = ratio(mid) + sb
        left = np.sign(f_mid) == np.sign(f_lo)
        lo, f_lo = np.where(left, mid, lo), np.where(left, f_mid, f_lo)
        hi = np.where(left, hi, mid)
    return 0.5 * (lo + hi)
