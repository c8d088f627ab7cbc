"""Depth scales of feedforward networks at finite width, through 1/N (docs/conventions.md §9).

Mean-field theory (§3) gives the slopes chi_parallel, chi_1, chi_c and the depth scales
xi_q, xi_c; at width N each is shifted by a term of order 1/N (Grosvenor and Jefferson,
SciPost Phys. 12, 081 (2022), for the field theory; PDLT for the 1/n recursions).  The
shifts are derived here from the per-layer 1/n maps of :mod:`.recursions` -- the layer
variance G of a feedforward net is a Markov chain, with mean map F and variance S/N --
for any registered activation:

* the **finite-width fixed point**: the stationary K* = K0* + K1*/N, V* of the mean map
  (K, V) -> (F(K) + F''(K) V/(2N), S(K) + F'(K)^2 V) (for two inputs the same with the
  3-vector K = (K11, K22, K12) and the 3x3 V);
* **chi_parallel(N)**: the eigenvalue of that map's Jacobian at its fixed point that
  continues chi_parallel, by first-order perturbation; ``xi_q(N) = -1/ln chi_parallel(N)``
  expanded in 1/N;
* **chi_1(N)** = sigma_w2 E[phi'(z)^2] under the finite-width law of z;
* **lambda_max(N)**, the typical growth rate of a perturbation per layer, and the
  finite-width edge of chaos **sigma_w2_c(N)** where it vanishes;
* **chi_c(N)**, **xi_c(N)**: the rate at which the correlation of two inputs approaches c*.

Every 1/N quantity comes as {mean_field, coefficient_1, value_at_N = mean_field +
coefficient_1/N, relative_correction = |coefficient_1/N| / |mean_field|, reliable} or null
with a reason.  All access to the per-layer 1/n theory goes through one function,
:func:`_one_over_n_maps`, so that its source can change.

>>> from nnqft.rules.network import Network
>>> r = depth_scales(Network("feedforward", "linear", 0.5, 0.2, width=64))
>>> r["chi_parallel"]["mean_field"], r["chi_parallel"]["coefficient_1"]
(0.5, 0.0)
>>> round(r["lyapunov_exponent"]["coefficient_1"], 12)     # (1/2)[psi(N/2) - ln(N/2)] ~ -1/(2N)
-0.5
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ...errors import InvalidParameter, NoExactForm
from ...rules.network import Network, numeric_variances, require_network
from ..gaussian import panel_rule
from ..gaussian.quadrature import hermite_e
from .recursions import two_input_layer

__all__ = [
    "depth_scales",
    "stationary_law",
    "lyapunov_exponent",
    "critical_weight",
    "slope_free_exponent",
    "DEPTH_SCALE_NOTES",
    "RELIABLE_RATIO",
]

#: a truncated series is flagged unreliable above this relative size of its 1/N term
RELIABLE_RATIO = 0.3
#: ... or when (depth scale)^2/N exceeds this (the 1/N terms grow like xi^2/N near criticality)
RELIABLE_DEPTH2_OVER_N = 1.0
#: ... or when the 1/N shift of an eigenvalue exceeds this fraction of its distance to the
#: nearest other eigenvalue of the finite-width map (Monte Carlo: the 1/N^2 terms of chi_c
#: are ~40% of the 1/N term at a ratio of 0.36, ~20% at 0.18)
RELIABLE_GAP_RATIO = 0.1
#: |chi| within this of 1 is critical (docs/conventions.md §3)
_CRITICAL = 1e-9

#: what each quantity of :func:`depth_scales` means (docs/conventions.md §9)
DEPTH_SCALE_NOTES = {
    "fixed_point": "stationary E[z^2] = K0* + K1*/N and N Var(G) = V* of the layer variance G "
    "(single input), from the per-layer 1/N maps at their fixed point",
    "chi_parallel": "relaxation rate of E Q(t) - K*(N): the eigenvalue continuing chi_parallel "
    "of the Jacobian of (K, V) -> (F(K) + F''(K) V/(2N), S(K) + F'(K)^2 V) at its fixed point",
    "xi_q": "-1/ln chi_parallel(N), expanded in 1/N: E Q(t) - K*(N) ~ exp(-t/xi_q)",
    "chi_1": "sigma_w2 E[phi'(z)^2] over the finite-width stationary law of z: the mean "
    "squared singular value of one layer's Jacobian (an averaged, not a typical, growth)",
    "lyapunov_exponent": "(1/2) E ln(|J delta|^2/|delta|^2) per layer at the finite-width "
    "stationary law: the typical (log) growth rate of a small perturbation",
    "sigma_w2_critical": "the sigma_w2 where lyapunov_exponent(N) = 0 at the given sigma_b2 "
    "(mean field: chi_1 = 1)",
    "chi_c": "relaxation rate of the averaged correlation of two inputs to c*: the eigenvalue "
    "continuing chi_c of the two-input (K: 3-vector, V: 3x3) finite-width map at its fixed point",
    "xi_c": "-1/ln|chi_c(N)|, expanded in 1/N: c(t) - c* ~ exp(-t/xi_c)",
    "value_at_N": "mean_field + coefficient_1/N (the series truncated after 1/N)",
    "reliable": f"false when |coefficient_1/N| / |mean_field| > {RELIABLE_RATIO} or when "
    f"xi^2/N > {RELIABLE_DEPTH2_OVER_N} (xi the largest mean-field depth scale)",
}


# --- the one door to the per-layer 1/n theory ----------------------------------------------


@dataclass(frozen=True)
class _LayerMaps:
    """One layer of the 1/n theory at kernel K (d = 1: single input; d = 3: K11, K22, K12).

    K0' = F(K0), K1' = J K1 + (1/2) H:V, V' = S + J V J^T, and the derivatives of H and S
    along the direction ``along`` of kernel space (dH_p = sum_a p_a dH/dK_a, likewise dS_p),
    the only derivatives the eigenvalue perturbation needs.
    """

    F: np.ndarray  # (d,)
    J: np.ndarray  # (d, d)
    H: np.ndarray  # (d, d, d): H[c, a, b] = d^2 F_c / dK_a dK_b
    S: np.ndarray  # (d, d)
    dH_p: np.ndarray | None = None  # (d, d, d)
    dS_p: np.ndarray | None = None  # (d, d)


def _one_over_n_maps(net: Network, K, *, inputs: int = 1, along=None) -> _LayerMaps:
    """The per-layer 1/n maps at kernel ``K`` (and, with ``along``, their derivatives).

    The one place the per-layer 1/n theory is read.  One input: the couplings of the
    collective-field fluctuation action of one layer
    (:func:`nnqft.derive.fluctuations.feedforward.layer_couplings`: the saddle point is F,
    the Qt dQ(t-1)^k vertices are the k-th derivatives of F, the Qt^2 dQ(t-1)^k ones the
    noise and its K-derivatives), exact (d^k<f>/dK^k = <f(sqrt(K) x) He_2k(x)>/(2K)^k).
    Two inputs from :func:`~.recursions.two_input_layer`, with dH_p, dS_p by second-order
    finite differences along ``along`` (one-sided where a step would leave the positive
    kernels, as at c = 1; relative error ~1e-6).
    """
    act = net.activation
    cw, cb = float(net.sigma_w2), float(net.sigma_b2)
    if inputs == 1:
        from ..fluctuations.feedforward import layer_couplings

        K = float(np.ravel(K)[0])
        c = layer_couplings(act, cw, cb, K, degree=4 if along is not None else 3)
        maps = _LayerMaps(
            F=np.full(1, c["saddle"]),
            J=np.full((1, 1), c[(1, 0, 1)]),
            H=np.full((1, 1, 1), c[(1, 0, 2)]),
            S=np.full((1, 1), c[(2, 0, 0)]),
        )
        if along is None:
            return maps
        p = float(np.ravel(along)[0])
        return _LayerMaps(
            maps.F,
            maps.J,
            maps.H,
            maps.S,
            dH_p=np.full((1, 1, 1), p * c[(1, 0, 3)]),
            dS_p=np.full((1, 1), p * c[(2, 0, 1)]),
        )
    k = np.asarray(K, dtype=float)
    F, J, H, S = two_input_layer(act, cw, cb, k)
    if along is None:
        return _LayerMaps(F, J, H, S)
    p = np.asarray(along, dtype=float)
    p = p / np.max(np.abs(p))
    scale = math.sqrt(k[0] * k[1])
    h = 2e-4 * scale

    def admissible(x):  # a positive semi-definite kernel
        return x[0] > 0 and x[1] > 0 and abs(x[2]) <= math.sqrt(x[0] * x[1]) * (1 - 1e-12)

    if admissible(k + h * p) and admissible(k - h * p):
        stencil = ((-1, -0.5), (1, 0.5))
    else:
        side = 1 if admissible(k + 2 * h * p) else -1
        if not admissible(k + 2 * side * h * p):
            raise InvalidParameter("no admissible finite-difference step along the direction")
        stencil = ((0, -1.5 * side), (side, 2.0 * side), (2 * side, -0.5 * side))
    dH = np.zeros_like(H)
    dS = np.zeros_like(S)
    for step, weight in stencil:
        if step == 0:
            Hs, Ss = H, S
        else:
            _, _, Hs, Ss = two_input_layer(act, cw, cb, k + step * h * p)
        dH = dH + weight * Hs
        dS = dS + weight * Ss
    scale_p = np.max(np.abs(np.asarray(along, dtype=float)))
    return _LayerMaps(F, J, H, S, dH * scale_p / h, dS * scale_p / h)


# --- the finite-width fixed point ------------------------------------------------------------


@dataclass(frozen=True)
class _Stationary:
    """The finite-width fixed point, or the reason there is none."""

    K0: np.ndarray | None = None
    K1: np.ndarray | None = None
    V: np.ndarray | None = None
    maps: _LayerMaps | None = None
    reason: str | None = None
    net: Network | None = None
    inputs: int = 1


def _mean_field(net: Network):
    from ..meanfield.fixed_point import fixed_point

    return fixed_point(net)


def _stationary(net: Network, mf, inputs: int = 1) -> _Stationary:
    """K0*, K1*, V* of the (K, V) map (one input, or two at the mean-field c*)."""
    if not math.isfinite(mf.q_star):
        why = mf.reasons.get("q_star")
        return _Stationary(reason=why or "no fixed point: q(t) grows without bound")
    if mf.q_star <= 0:
        return _Stationary(
            reason="q* = 0: the stationary law is the point G = 0, approached algebraically "
            "or geometrically with no finite-width fixed point to expand about"
        )
    chi = mf.chi_parallel
    if abs(chi - 1) < _CRITICAL:
        return _Stationary(reason="critical: chi_parallel = 1, V grows linearly in depth")
    if abs(chi) > 1:
        return _Stationary(reason="no finite-width fixed point: |chi_parallel| > 1")
    if inputs == 1:
        K = _polish(net, np.array([mf.q_star]), 1)
    else:
        if abs(mf.chi_c - 1) < _CRITICAL:
            return _Stationary(reason="critical: chi_c = 1 at c* (the correlation is marginal)")
        if abs(mf.chi_c) > 1:
            return _Stationary(reason="no stable correlation fixed point: |chi_c| > 1")
        q = float(_polish(net, np.array([mf.q_star]), 1)[0])
        c = mf.c_star
        # c* = 1 is exact (identical inputs stay identical); below 1 one Newton step or two
        K = np.array([q, q, q]) if c >= 1 - 1e-12 else _polish(net, np.array([q, q, q * c]), 2)
    maps = _one_over_n_maps(net, K, inputs=inputs)
    d = K.size
    JJ = np.kron(maps.J, maps.J)
    if np.max(np.abs(np.linalg.eigvals(JJ))) >= 1 - _CRITICAL:
        return _Stationary(reason="no finite-width fixed point: V grows (|eigenvalue| >= 1)")
    V = np.linalg.solve(np.eye(d * d) - JJ, maps.S.ravel()).reshape(d, d)
    source = 0.5 * np.einsum("cab,ab->c", maps.H, V)
    K1 = np.linalg.solve(np.eye(d) - maps.J, source)
    return _Stationary(K, K1, V, maps, net=net, inputs=inputs)


def _polish(net: Network, K: np.ndarray, inputs: int) -> np.ndarray:
    """Newton steps on F(K) = K with the maps' own quadrature (K12 = K11 kept at c = 1)."""
    for _ in range(6 if inputs == 1 else 2):
        maps = _one_over_n_maps_mean(net, K, inputs)
        step = np.linalg.solve(np.eye(K.size) - maps[1], maps[0] - K)
        K = K + step
        if inputs == 2 and K[2] > math.sqrt(K[0] * K[1]):
            K[2] = math.sqrt(K[0] * K[1])
        if np.max(np.abs(step)) < 1e-14 * np.max(np.abs(K)):
            break
    return K


def _one_over_n_maps_mean(net: Network, K: np.ndarray, inputs: int):
    """(F, J): the mean-field part of the maps."""
    maps = _one_over_n_maps(net, K, inputs=inputs)
    return maps.F, maps.J


def stationary_law(net: Network) -> dict:
    """The finite-width fixed point of a single input: K0*, K1*, V*, or a reason.

    E[z^2] -> K0* + K1*/N and Cov(z_i^2, z_j^2) -> V*/N deep in the net (docs/conventions.md
    §9), where the fixed point exists (|chi_parallel| < 1).

    >>> from nnqft.rules.network import Network
    >>> law = stationary_law(Network("feedforward", "linear", 0.5, 1.0))
    >>> law["K0"], law["K1"], round(law["V"], 12)      # V* = 2 K*^2 s^2/(1 - s^2), K* = 2
    (2.0, 0.0, 2.666666666667)
    """
    net = _network(net)
    st = _stationary(net, _mean_field(net))
    if st.reason is not None:
        return {"K0": None, "K1": None, "V": None, "reason": st.reason}
    return {"K0": float(st.K0[0]), "K1": float(st.K1[0]), "V": float(st.V[0, 0]), "reason": None}


# --- the eigenvalue continuing a mean-field slope --------------------------------------------


def _continued_eigenvalue(st: _Stationary, index: int) -> tuple:
    """(lambda0, lambda1, reason, gap): the eigenvalue lambda0 + lambda1/N of the finite-width
    (K, V) map's Jacobian that continues the mean-field eigenvalue J[index, index].

    The Jacobian at the finite-width fixed point is A0 + A1/N with A0 = [[J, 0], [C, J (x) J]]
    (block lower-triangular), so lambda1 = u.A1.v/(u.v) needs only the K rows of A1:
    A1_KK = dJ.K1* + (1/2) dH:V*, A1_KV = (1/2) H:; v = (p, X) with J p = lambda0 p and
    lambda0 X - J X J^T = C p, C p = dS.p + (H.p) V* J^T + J V* (H.p)^T; u = (p_L, 0).
    """
    m = st.maps
    J, H, d = m.J, m.H, m.J.shape[0]
    lam0 = float(J[index, index])
    # J is triangular in the basis (11, 22 | 12): its eigenvalues are its diagonal, those of
    # V -> J V J^T their products
    others = [J[i, i] for i in range(d) if i != index]
    products = [a * b for a in np.diag(J) for b in np.diag(J)]
    gaps = [abs(lam0 - o) for o in others + products]
    gap = min(gaps) if gaps else math.inf
    linear = not np.any(H)
    if linear:  # the maps are linear in K: the K rows never see V, no 1/N shift at all
        return lam0, 0.0, None, gap
    if gap < 1e-7 * max(1.0, abs(lam0)):
        return (
            lam0,
            math.nan,
            "degenerate: another eigenvalue of the finite-width map equals it",
            gap,
        )
    evals, right = np.linalg.eig(J)
    p = np.real(right[:, int(np.argmin(np.abs(evals - lam0)))])
    evals_l, left = np.linalg.eig(J.T)
    pl = np.real(left[:, int(np.argmin(np.abs(evals_l - lam0)))])
    m = _one_over_n_maps(st.net, st.K0, inputs=st.inputs, along=p)
    Hp = np.einsum("cab,a->cb", H, p)
    Cp = m.dS_p + Hp @ st.V @ J.T + J @ st.V @ Hp.T
    X = np.linalg.solve(lam0 * np.eye(d * d) - np.kron(J, J), Cp.ravel()).reshape(d, d)
    top = Hp @ st.K1 + 0.5 * np.einsum("cbe,be->c", m.dH_p, st.V)
    top = top + 0.5 * np.einsum("cab,ab->c", H, X)
    lam1 = float(pl @ top / (pl @ p))
    return lam0, lam1, None, gap


# --- tangent moments: <phi'^2> and its K-derivatives ------------------------------------------


def _tangent_moments(act, K: float) -> dict:
    """g = <phi'^2>_K, g1 = dg/dK, g2 = d^2g/dK^2, <phi'^4>, <phi^2 phi'^2> (panel rule)."""
    u, w = panel_rule(K, act.kink_points)
    phi, dphi = act.numeric(0)(u), act.numeric(1)(u)
    d2 = dphi**2
    x = u / math.sqrt(K)
    return {
        "g": float(w @ d2),
        "g1": float(w @ (d2 * hermite_e(2, x))) / (2 * K),
        "g2": float(w @ (d2 * hermite_e(4, x))) / (2 * K) ** 2,
        "d4": float(w @ d2**2),
        "p2d2": float(w @ (phi**2 * d2)),
    }


def _slope_free(act) -> bool:
    """True when <phi'^2>_K does not depend on K (linear and scale-invariant phi)."""
    return act.name == "linear" or act.is_scale_invariant


def slope_free_exponent(sigma_w2, g, d4, log=math.log) -> tuple:
    """(lambda0, lambda1) of lambda_max = lambda0 + lambda1/N when <phi'^2> = g does not
    depend on the variance (linear and scale-invariant phi; d4 = <phi'^4>): the bracket of
    :func:`_lyapunov_parts` without its g' and g'' terms, so no fixed point is needed.
    Plain arithmetic, so that sympy arguments (with ``log=sympy.log``) give the closed form.

    >>> slope_free_exponent(1.0, 1.0, 1.0)      # linear at sigma_w2 = 1: 0 - 1/(2N)
    (0.0, -0.5)
    """
    return log(sigma_w2 * g) / 2, -(3 * d4 - g * g) / (4 * g * g)


def _lyapunov_parts(net: Network, mf, st: _Stationary):
    """(lambda0, lambda1, reason) of the typical exponent (docs/conventions.md §9).

    Given the layer, |J delta|^2 = (sigma_w2/N) sum_i (sum_j g_ij phi'_j delta_j)^2 is
    a_N chi^2_N / N with a_N = sigma_w2 sum_j phi'_j^2 delta_j^2 / |delta|^2 ... so
    2 lambda = E ln chi^2_N/N + E ln mean_j(a_j) - E ln mean_j(delta_j^2) (a_j =
    sigma_w2 phi'_j^2 delta_j^2): the two -1/N's of chi^2_N/N and of |delta|^2 cancel,
    the delta method gives -Var(a)/(2N E[a]^2), the finite-width law of G gives
    K1* g'/g + (V*/2)(g''/g - g'^2/g^2), and the correlation rho of delta with z
    (E rho^2 = sigma_w2 <phi^2 phi'^2>/(N K <phi'^2> (1 - chi_par^2/chi_1))) adds
    2 K g' E rho^2 / g.
    """
    act = net.activation
    cw = float(net.sigma_w2)
    if _slope_free(act):
        K = 1.0 if not (math.isfinite(mf.q_star) and mf.q_star > 0) else mf.q_star
        t = _tangent_moments(act, K)
        return (*slope_free_exponent(cw, t["g"], t["d4"]), None)
    if st.reason is not None:
        return None, None, st.reason
    K, K1, V = float(st.K0[0]), float(st.K1[0]), float(st.V[0, 0])
    t = _tangent_moments(act, K)
    g, g1, g2 = t["g"], t["g1"], t["g2"]
    chi1, chipar = cw * g, mf.chi_parallel
    if chi1 - chipar**2 <= 1e-12 * chi1:
        return (
            None,
            None,
            "the longitudinal mode dominates: chi_parallel^2 >= chi_1, the perturbation aligns "
            "with z and the exponent is not (1/2) ln chi_1",
        )
    rho2 = cw**2 * t["p2d2"] / (K * (chi1 - chipar**2))  # N E rho^2
    lam0 = 0.5 * math.log(chi1)
    bracket = (
        K1 * g1 / g
        + 0.5 * V * (g2 / g - (g1 / g) ** 2)
        + 2 * K * g1 / g * rho2
        - 0.5 * (3 * t["d4"] - g * g) / (g * g)
    )
    return lam0, 0.5 * bracket, None


def lyapunov_exponent(net: Network) -> dict:
    """The typical Lyapunov exponent per layer through 1/N, {mean_field, coefficient_1, ...}.

    lambda_max(N) = (1/2) E ln(|J delta|^2/|delta|^2) at the finite-width stationary law
    (docs/conventions.md §9); for linear and scale-invariant phi it needs no fixed point.

    >>> from nnqft.rules.network import Network
    >>> r = lyapunov_exponent(Network("feedforward", "relu", 1.5, 0.0, width=100))
    >>> round(r["mean_field"], 12) == round(0.5 * math.log(0.75), 12), r["coefficient_1"]
    (True, -1.25)
    """
    net = _network(net, width=True)
    mf = _mean_field(net)
    st = _stationary(net, mf)
    lam0, lam1, why = _lyapunov_parts(net, mf, st)
    return _series(lam0, lam1, net.width, why, _largest_scale(mf))


# --- assembling -------------------------------------------------------------------------------


def _network(net, *, width: bool = False) -> Network:
    net = require_network(
        net, arch="feedforward", what="the finite-width depth scales (docs/conventions.md §9)"
    )
    numeric_variances(net, "the finite-width depth scales")
    if width and (not isinstance(net.width, int)):
        raise InvalidParameter("the finite-width depth scales need a numeric width N")
    return net


def _largest_scale(mf) -> float:
    scales = [abs(x) for x in (mf.xi_q, mf.xi_c) if math.isfinite(x)]
    return max(scales) if scales else math.inf


def _series(
    x0, x1, n: int, reason: str | None, xi: float, extra: dict | None = None, gap=None
) -> dict:
    """One quantity: {mean_field, coefficient_1, value_at_N, relative_correction, reliable,
    expansion_parameter, reason} (and ``gap_ratio`` for an eigenvalue: |x1/N| over the
    distance to the nearest other eigenvalue)."""
    out = {
        "mean_field": None if x0 is None or not math.isfinite(x0) else float(x0),
        "coefficient_1": None,
        "value_at_N": None,
        "relative_correction": None,
        "expansion_parameter": None if not math.isfinite(xi) else xi * xi / n,
        "reliable": None,
        "reason": reason,
    }
    if reason is None and x1 is not None and math.isfinite(x1):
        x0, x1 = float(x0), float(x1)
        ratio = abs(x1 / n) / abs(x0) if x0 != 0 else (0.0 if x1 == 0 else math.inf)
        gap_ratio = None if gap is None else (abs(x1 / n) / gap if gap > 0 else math.inf)
        out |= {
            "coefficient_1": x1,
            "value_at_N": x0 + x1 / n,
            "relative_correction": ratio,
            "reliable": bool(
                ratio <= RELIABLE_RATIO
                and (not math.isfinite(xi) or xi * xi / n <= RELIABLE_DEPTH2_OVER_N)
                and (gap_ratio is None or gap_ratio <= RELIABLE_GAP_RATIO)
            ),
        }
        if gap is not None:
            out["gap_ratio"] = gap_ratio if math.isfinite(gap_ratio) else None
    if extra:
        out |= extra
    return out


def _null(reason: str, mean_field=None) -> dict:
    return _series(mean_field, None, 1, reason, math.inf) | {"expansion_parameter": None}


def _depth_from_slope(lam0, lam1, n, reason, xi, name, gap=None) -> dict:
    """xi = -1/ln|chi| through 1/N from chi = lam0 + lam1/N."""
    if reason is not None or lam0 is None:
        return _null(reason or "no slope", None)
    if abs(abs(lam0) - 1) < _CRITICAL:
        return _null(f"infinite: |{name}| = 1 (critical)")
    if abs(lam0) > 1:
        return _null(f"undefined: |{name}| > 1")
    if lam0 == 0:
        return _null(f"zero: {name} = 0")
    L = math.log(abs(lam0))
    xi0 = -1 / L
    xi1 = math.nan if lam1 is None or not math.isfinite(lam1) else lam1 / (lam0 * L * L)
    why = None if math.isfinite(xi1) else "the 1/N coefficient of the slope is undefined"
    out = _series(xi0, xi1, n, why, xi, gap=None if gap is None else gap)
    if gap is not None and out["value_at_N"] is not None:  # as reliable as its slope
        slope = _series(lam0, lam1, n, None, xi, gap=gap)
        out["gap_ratio"] = slope.get("gap_ratio")
        out["reliable"] = bool(out["reliable"] and slope["reliable"])
    return out


def critical_weight(net: Network) -> dict:
    """sigma_w2_c(N) = sigma_c0 + sigma_c1/N where lambda_max(N) = 0 at the net's sigma_b2
    (its sigma_w2 is not used), as the entry ``sigma_w2_critical`` of :func:`depth_scales`.

    >>> r = critical_weight(Network("feedforward", "erf", 1.0, 0.2, width=64))
    >>> round(r["mean_field"], 4), round(r["coefficient_1"], 3)
    (1.7882, 7.67)
    """
    net = _network(net, width=True)
    from ..meanfield.criticality import critical_point

    act, sb, n = net.activation, float(net.sigma_b2), net.width
    try:
        cp = critical_point(act, sb)
    except NoExactForm as err:
        return _null(str(err))
    s0 = cp.sigma_w2

    def parts(s):
        other = net.replace(sigma_w2=s)
        mfo = _mean_field(other)
        return _lyapunov_parts(other, mfo, _stationary(other, mfo))

    lam0, lam1, why = parts(s0)
    if why is not None:
        return _null(f"at the mean-field critical point sigma_w2 = {s0:.6g}: {why}", s0)
    h = 1e-4 * s0
    lo, hi = parts(s0 - h)[0], parts(s0 + h)[0]
    if lo is None or hi is None:
        return _null("the exponent is not defined on both sides of the critical point", s0)
    slope = (hi - lo) / (2 * h)
    s1 = -lam1 / slope
    xi = _largest_scale(_mean_field(net.replace(sigma_w2=s0)))
    return _series(s0, s1, n, None, xi)


def depth_scales(net: Network) -> dict:
    """Every finite-width depth scale of a feedforward net, through 1/N (docs/conventions.md §9).

    Returns a dict: ``mean_field`` (q*, c*, chi's, phase), ``fixed_point`` (K*, V*) and one
    entry per quantity -- ``chi_parallel``, ``xi_q``, ``chi_1``, ``lyapunov_exponent``,
    ``sigma_w2_critical``, ``chi_c``, ``xi_c`` -- each {mean_field, coefficient_1,
    value_at_N, relative_correction, expansion_parameter, reliable, reason}; a quantity
    that does not exist for these parameters has nulls and its ``reason``.

    Parameters
    ----------
    net : Network
        Feedforward, numeric sigma_w2, sigma_b2 and width N.

    Returns
    -------
    dict
        The quantities with ``reasons`` (key -> why null) and ``notes``.

    Examples
    --------
    >>> from nnqft.rules.network import Network
    >>> r = depth_scales(Network("feedforward", "tanh", 0.8, 0.3, width=64))
    >>> r["mean_field"]["phase"], r["chi_c"]["reliable"]
    ('ordered', True)
    >>> r["chi_c"]["coefficient_1"] < 0 < r["fixed_point"]["V_star"]
    True
    """
    net = _network(net, width=True)
    n = net.width
    mf = _mean_field(net)
    xi = _largest_scale(mf)
    st = _stationary(net, mf)
    out = {
        "activation": net.activation.name,
        "arch": "feedforward",
        "sigma_w2": float(net.sigma_w2),
        "sigma_b2": float(net.sigma_b2),
        "width": n,
        "mean_field": {
            "q_star": mf.q_star if math.isfinite(mf.q_star) else None,
            "c_star": mf.c_star if math.isfinite(mf.c_star) else None,
            "chi_1": mf.chi_1 if math.isfinite(mf.chi_1) else None,
            "chi_parallel": mf.chi_parallel if math.isfinite(mf.chi_parallel) else None,
            "chi_c": mf.chi_c if math.isfinite(mf.chi_c) else None,
            "phase": mf.phase,
        },
    }
    if st.reason is None:
        K0, K1, V = float(st.K0[0]), float(st.K1[0]), float(st.V[0, 0])
        out["fixed_point"] = {
            "K_star": _series(K0, K1, n, None, xi),
            "V_star": V,
            "reason": None,
        }
        lam0, lam1, why, gap = _continued_eigenvalue(st, 0)
    else:
        out["fixed_point"] = {"K_star": _null(st.reason), "V_star": None, "reason": st.reason}
        lam0, lam1, why, gap = mf.chi_parallel, None, st.reason, None
    out["chi_parallel"] = _series(lam0, lam1, n, why, xi, gap=gap)
    out["xi_q"] = _depth_from_slope(lam0, lam1, n, why, xi, "chi_parallel", gap)

    if _slope_free(net.activation):  # <phi'^2> does not depend on the variance
        out["chi_1"] = _series(mf.chi_1, 0.0, n, None, xi)
    elif st.reason is None:
        t = _tangent_moments(net.activation, K0)
        cw = float(net.sigma_w2)
        c1 = cw * (K1 * t["g1"] + 0.5 * V * t["g2"])
        out["chi_1"] = _series(mf.chi_1, c1, n, None, xi)
    else:
        out["chi_1"] = _null(st.reason, mf.chi_1)

    lam0, lam1, why = _lyapunov_parts(net, mf, st)
    extra = None
    if net.activation.name == "linear":
        from scipy.special import digamma

        exact = 0.5 * (math.log(float(net.sigma_w2)) + digamma(n / 2) - math.log(n / 2))
        extra = {"exact_at_N": float(exact)}
    out["lyapunov_exponent"] = _series(lam0, lam1, n, why, xi, extra)
    out["sigma_w2_critical"] = critical_weight(net)

    lam0, lam1, why, gap = _two_input_slope(net, mf)
    out["chi_c"] = _series(lam0, lam1, n, why, xi, gap=gap)
    out["xi_c"] = _depth_from_slope(lam0, lam1, n, why, xi, "chi_c", gap)

    out["reasons"] = {
        k: v["reason"] for k, v in out.items() if isinstance(v, dict) and v.get("reason")
    }
    out["notes"] = dict(DEPTH_SCALE_NOTES)
    return out


def _two_input_slope(net: Network, mf):
    """(chi_c, chi_c^(1), reason, gap) from the two-input finite-width map at (q*, c*)."""
    if not math.isfinite(mf.q_star) or not math.isfinite(mf.c_star):
        chi = mf.chi_c if math.isfinite(mf.chi_c) else None
        return chi, None, "no fixed point (q*, c*)", None
    if abs(abs(mf.chi_c) - 1) < _CRITICAL:
        why = "critical: |chi_c| = 1, the correlation relaxes algebraically (xi_c infinite)"
        return mf.chi_c, None, why, None
    act = net.activation
    if mf.c_star >= 1 - 1e-12 and not _smooth(act):
        return (
            mf.chi_c,
            None,
            f"{act.name} is kinked: its two-input kernel is not twice differentiable at "
            "c* = 1, where the finite-width map is expanded",
            None,
        )
    st = _stationary(net, mf, inputs=2)
    if st.reason is not None:
        return mf.chi_c, None, st.reason, None
    return _continued_eigenvalue(st, 2)


def _smooth(act) -> bool:
    from ..gaussian.builtin_forms import BUILTIN

    engine = BUILTIN.get(act.name) if act.forms is not None else None
    if engine is not None:
        return bool(engine.smooth)
    return not act.kinks
