"""The stationary law and depth scale of a recurrent net (shared W) at finite width, through
1/N, for any activation (docs/conventions.md §9, recurrent).

The 1/N coefficient c1(t) of E Q(t) = E|z(t)|^2/N comes from the collective-field diagrams
(:func:`~nnqft.derive.fluctuations.recurrent.recurrent_correlators`) step by step; the
stationary value is its limit in t, taken order by order:

    K*(N) = lim_t E Q(t) = K0* + K1*/N,    K0* = q* (the mean-field fixed point),

with K1* extrapolated from the tail of c1(t) (Aitken's delta-squared on the even and the odd
steps, so that modes (-r)^t are handled) and null, with the reason, where c1(t) grows or has
not settled by the last step.  The approach to K*(N) defines

    E Q(t) - K*(N) ~ A chi^t (1 + t delta/(chi N)),    chi_parallel(N) = chi + delta/N,

chi = chi_parallel of mean-field theory, A the mean-field amplitude of q(t) - q*: delta is
the coefficient of the secular term t chi^t of c1(t).  It exists where c1(t) - K1* decays
no slower than chi^t; a recurrent net's shared W often adds slower modes at 1/N (the linear
net: sqrt(sigma_w2)^t, from the overlaps of different times), and then chi_parallel(N) is
null with the measured rate of the 1/N term (``rate_1``) as the reason.

>>> from nnqft.rules.network import Network
>>> net = Network("recurrent", "linear", 0.25, 0.2, bias="shared", width=64)
>>> r = recurrent_depth_scales(net, steps=24)
>>> round(r["fixed_point"]["K_star"]["coefficient_1"], 6)   # 2 s sigma_b2/(1 - s)^3
0.237037
"""

from __future__ import annotations

import math

import numpy as np

from ...errors import InvalidParameter
from ...rules.network import Network, numeric_variances, require_network

__all__ = ["recurrent_depth_scales", "tail_limit", "RECURRENT_SCALE_NOTES", "DEFAULT_STEPS",
           "MAX_STEPS"]

#: steps of the diagrams by default, and at most (the cost grows like T^4: tanh takes
#: about 2 s at 12 steps, 40 s at 30 on one core)
DEFAULT_STEPS = 12
MAX_STEPS = 40
#: the extrapolated limit counts as converged when its estimates agree to this fraction
CONVERGED = 1e-3
#: the smallest eigenvalue of four consecutive times' kernel, relative to C0(t, t), below
#: which a step is not used (the diagrams' rounding error grows like 1e-16 over it)
DEGENERATE = 1e-9
#: a rate of the 1/N term above chi_parallel by more than this is a slower mode
RATE_MARGIN = 0.02

RECURRENT_SCALE_NOTES = {
    "K_star": "lim_t E|z(t)|^2/N of the recurrent net taken order by order in 1/N and "
    "truncated after 1/N (K0* = q*, K1* the limit of the diagrams' 1/N coefficient)",
    "rate_1": "the decay per step of c1(t) - K1*, from the tail of the 1/N coefficient",
    "chi_parallel": "E Q(t) - K*(N) ~ A chi^t (1 + t delta/(chi N)): chi(N) = chi + delta/N; "
    "null where the 1/N term decays more slowly than chi^t",
    "xi_q": "-1/ln chi_parallel(N) through 1/N",
    "lyapunov_exponent": "typical growth per step of a small perturbation: (1/2) ln chi_1 "
    "at N = oo; at finite N the log spectral radius of W diag(phi'(z*)), no 1/N series",
    "sigma_w2_critical": "where the exponent vanishes at this sigma_b2: chi_1 = 1 at N = oo; "
    "no 1/N series at finite N",
}


def tail_limit(x, *, tol: float = CONVERGED, scale: float = 0.0) -> dict:
    """The limit of a sequence from its tail: Aitken's delta-squared on the even and the odd
    terms separately, at the last two windows; ``{"limit", "error", "rate", "reason"}``
    (``rate``: the decay per step of the differences; ``reason`` not None where the sequence
    grows or its estimates differ by more than ``tol`` relative to the limit and 1e-8 of
    ``scale``, the size below which a change is rounding).

    >>> s = [2 + 0.5**t + (-0.7)**t for t in range(1, 60)]
    >>> r = tail_limit(s)
    >>> round(r["limit"], 9), round(r["rate"], 3), r["reason"]
    (2.0, 0.7, None)
    """
    x = np.asarray(x, dtype=float)
    if len(x) < 9:
        return {"limit": None, "error": None, "rate": None, "rate_at": None,
                "reason": "too few steps to extrapolate (at least 9)"}
    noise = 1e-8 * max(scale, 1e-300)

    def aitken(y):
        d1, d2 = y[-1] - y[-2], y[-2] - y[-3]
        den = d1 - d2
        return y[-1] if den == 0 else y[-1] - d1 * d1 / den

    ests = []
    for end in (len(x), len(x) - 1, len(x) - 2, len(x) - 3):  # both parities, two windows
        ests.append(aitken(x[:end][::-1][::2][::-1]))
    d = x[2:] - x[:-2]  # two-step differences, d[j] = x[j+2] - x[j]
    a = abs(d[-1])
    # the rate where the differences stand well above rounding (a tail near rounding
    # gives no rate); rate_at: the step t of that estimate
    resolved = np.nonzero(np.abs(d) > 1e3 * noise)[0]
    resolved = resolved[resolved >= 2]
    rate = rate_at = None
    if len(resolved):
        j = resolved[-1]
        if abs(d[j - 2]) > 0:
            rate, rate_at = math.sqrt(abs(d[j]) / abs(d[j - 2])), int(j + 3)
    limit = ests[0]
    error = float(max(abs(e - limit) for e in ests))
    reason = None
    if rate is not None and rate >= 1 and a > noise:
        reason = (f"grows with t (its two-step differences grow by {rate:.4g} per step at "
                  f"t = {len(x)}): no stationary limit at this order")
    elif error > tol * abs(limit) and error > noise:
        reason = (f"not converged by t = {len(x)} (rate {rate or 0:.4g} per step; the "
                  f"extrapolations differ by {error:.2g}): give more steps")
    return {"limit": float(limit), "error": error, "rate": rate, "rate_at": rate_at,
            "reason": reason}


def _network(net) -> Network:
    net = require_network(
        net, arch="recurrent",
        what="the recurrent finite-width depth scales (docs/conventions.md §9)",
    )
    numeric_variances(net, "the recurrent finite-width depth scales")
    if not isinstance(net.width, int):
        raise InvalidParameter("the finite-width depth scales need a numeric width N")
    return net


def recurrent_depth_scales(net: Network, steps: int | None = None, *,
                           nodes: dict | None = None) -> dict:
    """The finite-width fixed point K*(N) and chi_parallel(N), xi_q(N) of a recurrent net,
    through 1/N, from the collective-field diagrams over ``steps`` steps.

    Parameters
    ----------
    net : Network
        Recurrent, any activation, numeric sigma_w2, sigma_b2, q0 and width N; its bias
        convention (shared or fresh).
    steps : int, optional
        How many steps of the diagrams (default :data:`DEFAULT_STEPS`); K1* is extrapolated
        from their tail.
    nodes : dict, optional
        Gauss-Hermite nodes per dimension (see :func:`recurrent_correlators`).

    Returns
    -------
    dict
        ``mean_field`` (q*, chi_parallel, chi_1, phase), ``fixed_point`` ({K_star: series,
        reason}), ``rate_1``, ``chi_parallel``, ``xi_q`` (each a series {mean_field,
        coefficient_1, value_at_N, ...} of docs/conventions.md §9, or nulls and its
        ``reason``), ``trajectory`` (t, q(t), c1(t)), ``lyapunov_exponent`` and
        ``sigma_w2_critical`` (mean field, null 1/N coefficient with the reason:
        :mod:`nnqft.derive.finite_width.recurrent_lyapunov`), ``reasons`` and ``notes``.

    Examples
    --------
    >>> from nnqft.rules.network import Network
    >>> r = recurrent_depth_scales(Network("recurrent", "linear", 0.25, 0.2, width=64), 24)
    >>> round(r["rate_1"], 2)                  # sqrt(sigma_w2): slower than chi = 0.25
    0.5
    >>> r["chi_parallel"]["value_at_N"] is None
    True
    """
    from ..finite_width.depth_scales import _depth_from_slope, _null, _series
    from ..meanfield.fixed_point import fixed_point
    from .recurrent import recurrent_correlators, saddle_kernel

    net = _network(net)
    n = net.width
    T = DEFAULT_STEPS if steps is None else int(steps)
    if T < 9:
        raise InvalidParameter(f"--steps {T}: the tail extrapolation needs at least 9 steps")
    mf = fixed_point(net)
    chi = mf.chi_parallel
    xi = max((abs(v) for v in (mf.xi_q, mf.xi_c) if math.isfinite(v)), default=math.inf)
    out = {
        "activation": net.activation.name,
        "arch": "recurrent",
        "bias": net.bias,
        "sigma_w2": float(net.sigma_w2),
        "sigma_b2": float(net.sigma_b2),
        "q0": float(net.q0),
        "width": n,
        "steps": T,
        "mean_field": {
            "q_star": mf.q_star if math.isfinite(mf.q_star) else None,
            "chi_parallel": chi if math.isfinite(chi) else None,
            "chi_1": mf.chi_1 if math.isfinite(mf.chi_1) else None,
            "phase": mf.phase,
        },
    }
    if not math.isfinite(mf.q_star):
        why = f"no mean-field fixed point q* ({mf.phase}): q(t) grows"
        out |= {"fixed_point": {"K_star": _null(why), "reason": why},
                "rate_1": None, "chi_parallel": _null(why), "xi_q": _null(why),
                "trajectory": None}
        return _finish(out, net)
    usable = _usable_steps(saddle_kernel(net, T, nodes))
    out["steps_used"] = usable
    if usable < 9:
        why = (f"the two-time kernel C0(t, s) is degenerate to rounding by step {usable + 1} "
               "(z(t) settles onto its fixed point) before the 1/N coefficient can be "
               "extrapolated")
        out |= {"fixed_point": {"K_star": _null(why, mf.q_star), "reason": why},
                "rate_1": None, "chi_parallel": _null(why, chi), "xi_q": _null(why),
                "trajectory": None}
        return _finish(out, net)
    rows = recurrent_correlators(net, usable, nodes=nodes)
    q = np.array([r["mean"][0] for r in rows])
    c1 = np.array([r["mean"][1] for r in rows])
    out["trajectory"] = {"t": [r["t"] for r in rows], "mean_field": q.tolist(),
                         "coefficient_1": c1.tolist()}
    lim = tail_limit(c1, scale=mf.q_star)
    if lim["reason"] is not None:
        why = f"the 1/N coefficient of E Q(t) {lim['reason']}"
        out["fixed_point"] = {"K_star": _null(why, mf.q_star), "reason": why}
        out["rate_1"] = lim["rate"]
        out["chi_parallel"] = _null(why, chi)
        out["xi_q"] = _null(why)
        return _finish(out, net)
    K1 = lim["limit"]
    out["fixed_point"] = {
        "K_star": _series(mf.q_star, K1, n, None, xi,
                          {"extrapolation_error": lim["error"]}),
        "reason": None,
    }
    out["rate_1"] = lim["rate"]
    lam1, why = _secular(q, c1, mf.q_star, K1, chi, lim)
    out["chi_parallel"] = _series(chi, lam1, n, why, xi)
    out["xi_q"] = _depth_from_slope(chi, lam1, n, why, xi, "chi_parallel")
    return _finish(out, net)


def _usable_steps(C0: np.ndarray) -> int:
    """The last step whose four latest times have a sub-covariance of C0 conditioned above
    :data:`DEGENERATE` (relative): beyond it the score polynomials (C^{-1}) lose the digits
    (in the ordered phase z(t) settles onto a fixed point and C0(t, s) -> q* for all t, s)."""
    T = C0.shape[0]
    for t in range(4, T + 1):
        block = C0[t - 4:t, t - 4:t]
        if np.linalg.eigvalsh(block)[0] < DEGENERATE * C0[t - 1, t - 1]:
            return t - 1
    return T


def _secular(q, c1, q_star, K1, chi, lim):
    """delta of c1(t) - K1* = (a + (A delta/chi) t) chi^t + faster modes, A the amplitude
    of q(t) - q* ~ A chi^t: ``(delta, None)`` or ``(None, reason)``.  The fit of
    (c1 - K1*)/chi^t = a + b t over the last six resolved steps must agree with the fit two
    steps earlier (to 10%): otherwise other modes near chi^t spoil it and it is null."""
    if not 0 < chi < 1:
        return None, f"chi_parallel = {chi:.6g} is not in (0, 1): no approach to a fixed point"
    rate, at = lim["rate"], lim["rate_at"]
    # t chi^t has the apparent two-step rate chi sqrt(t/(t-2))
    if rate is not None and rate > chi * math.sqrt(at / (at - 2)) + RATE_MARGIN:
        return None, (f"the 1/N term of E Q(t) decays as {rate:.4g}^t, more slowly than "
                      f"chi_parallel^t = {chi:.4g}^t: E Q(t) - K*(N) is not A chi(N)^t with "
                      "chi(N) = chi + delta/N at this order")
    t = np.arange(1, len(q) + 1, dtype=float)
    eq, e1 = q - q_star, c1 - K1
    keep = np.nonzero((np.abs(eq) > 1e-9 * max(abs(q_star), 1.0)) & (t >= 3))[0]
    if len(keep) < 8:
        return None, "q(t) reaches q* within rounding too soon to resolve the chi^t mode"
    fits = []
    for window in (keep[-6:], keep[-8:-2]):
        tw = t[window]
        A = float(np.median(eq[window] / chi**tw))
        X = np.stack([np.ones_like(tw), tw], axis=1)
        (_, b), *_ = np.linalg.lstsq(X, e1[window] / chi**tw, rcond=None)
        fits.append(b * chi / A if A else math.nan)
    delta, earlier = fits
    if not math.isfinite(delta) or abs(delta - earlier) > 0.1 * abs(delta) + 1e-8:
        return None, (f"the secular term t chi^t of the 1/N coefficient is not resolved: "
                      f"fits over two windows give delta = {delta:.4g} and {earlier:.4g}")
    return float(delta), None


def _finish(out: dict, net: Network) -> dict:
    from ..finite_width.recurrent_lyapunov import recurrent_critical_weight, recurrent_lyapunov

    # a shared W: mean field only, the reason says why there is no 1/N series
    out["lyapunov_exponent"] = recurrent_lyapunov(net)
    out["sigma_w2_critical"] = recurrent_critical_weight(net)
    reasons = {}
    for k, v in out.items():
        if isinstance(v, dict) and v.get("reason"):
            reasons[k] = v["reason"]
    out["reasons"] = reasons
    out["notes"] = dict(RECURRENT_SCALE_NOTES)
    return out
