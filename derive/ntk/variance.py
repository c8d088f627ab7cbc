"""The NTK's fluctuations across initialisations at O(1/n): feedforward, one input.

PDLT's decomposition (docs/conventions.md §10): for output neurons i1..i4 of layer l,

    Cov(H_i1i2, H_i3i4) = [d_i1i2 d_i3i4 A + (d_i1i3 d_i2i4 + d_i1i4 d_i2i3) B] / n + O(1/n^2),

so Var(H_ii) = (A + 2B)/n (``ntk_variance`` = A + 2B), Cov(H_ii, H_jj) = A/n and
Var(H_ij) = B/n (i != j); and ``D`` with Cov(z_i^2, H_jj) = D/n (i != j).

**Derivation: a Markov chain in (G, Hhat), as for K1 and V.**  Given layer l (its
pre-activations z_k and NTK matrix H_km), the rows W_i of layer l+1 are iid N(0, C_W/n),
so the pairs (z_i(l+1), H_ii(l+1)) are iid over i with

    z_i   ~ N(0, G),        G = C_b + C_W mean_k phi(z_k)^2,
    H_ii  = lambda_b + lambda_W mean_k phi(z_k)^2 + W_i M W_i^T,   M = D H D, D = diag phi'(z_k),

and E[H_ii | layer l] = Hhat = lambda_b + lambda_W mean_k phi_k^2 + C_W mean_k phi'_k^2 H_kk.
Hence, exactly, Cov(H_ii, H_jj) = Var Hhat and Cov(z_i^2, H_jj) = Cov(G, Hhat) for i != j,
and the rest of Var(H_ii) is E Var(H_ii | layer l) = 2 (C_W/n)^2 E tr M^2, which is also
n E[H_ij^2] for i != j, i.e. 2B/n:

    B(l+1) = C_W^2 <phi'^4>_K H^2 + chi_perp^2 B(l)

(the diagonal of tr M^2 gives the first term, the off-diagonal H_km^2 = B(l)/n the second).
For (G, Hhat) of the next layer only the empirical means over the iid neurons of layer l
matter; the O(n^-1/2) spread of the H_kk about Hhat adds O(1/n^2) to their covariance, so at
O(1/n) they are those of iid z_k ~ N(0, G) with H_kk = Hhat:

    F_G = C_b + C_W <phi^2>_G,     F_H = lambda_b + lambda_W <phi^2>_G + C_W Hhat <phi'^2>_G,

with conditional covariance S/n, S the covariance of the summands (C_W phi^2, lambda_W
phi^2 + C_W Hhat phi'^2).  Expanding about the mean-field values (K, H) as the finite-width
recursions do, Sigma = n Cov(G, Hhat) obeys

    Sigma(l+1) = S(K, H) + J Sigma(l) J^T,   Sigma(1) = 0,
    J = [[C_W d<phi^2>/dK, 0], [lambda_W d<phi^2>/dK + C_W H d<phi'^2>/dK, C_W <phi'^2>]],

so that V = Sigma_GG (the four-point vertex of §7), D = Sigma_GH and A = Sigma_HH.  Layer 1 is
deterministic (A = B = D = 0).  The Gaussian means are sums on the panel rule of
:func:`nnqft.derive.gaussian.panel_rule` (kinks as panel edges, ~1e-13), K-derivatives as
d<f>/dK = <f(u) He_2(u/sqrt(K))>/(2K).

>>> from nnqft.rules.network import Network
>>> rows = ntk_fluctuations(Network("feedforward", "linear", 1.0, 0.0), 3)
>>> [(round(r["A"], 9), round(r["B"], 9)) for r in rows]
[(0.0, 0.0), (2.0, 4.0), (10.0, 20.0)]
"""

from __future__ import annotations

import math

import numpy as np

from ...errors import InvalidParameter
from ...rules.network import Network, numeric_variances, require_network, resolve_depth
from ..gaussian import gaussian_tail, panel_rule
from .kernel import learning_rates

__all__ = ["ntk_fluctuations"]


def _check_tails(act, K: float) -> None:
    """Refuse K where E[phi^4] or E[phi'^4] is beyond the panel rule (a tail heavier than
    the Gaussian's at variance K is heavier at every larger K too)."""
    phi, dphi = act.numeric(0), act.numeric(1)
    for what, f in (("phi(z)^4", lambda u: phi(u) ** 4), ("phi'(z)^4", lambda u: dphi(u) ** 4)):
        # the envelope 1 + |f|: an oscillating f (sin^4) has zeros that fool a tail probe
        why = gaussian_tail(lambda u, f=f: 1.0 + np.abs(f(u)), K)
        if why is not None:
            raise InvalidParameter(f"E[{what}] {why} for {act.name} at variance {K:g}")


def _means(act, K: float) -> dict:
    """The Gaussian means at variance K the recursions need (this module's, the mean
    correction's, :mod:`nnqft.derive.ntk.correction`, and the dNTK's,
    :mod:`nnqft.derive.ntk.dntk`), on one panel rule; K-derivatives as d<f>/dK =
    <f He_2(u/sqrt K)>/(2K), d2<f>/dK2 = <f He_4(u/sqrt K)>/(4K^2)."""
    phi, dphi = act.numeric(0), act.numeric(1)
    u, w = panel_rule(K, act.kink_points)
    with np.errstate(over="ignore", invalid="ignore"):
        p = np.broadcast_to(phi(u), u.shape)
        dp = np.broadcast_to(dphi(u), u.shape)
        p2, d2 = p * p, dp * dp
        x2 = u * u / K
        he2, he4 = x2 - 1.0, x2 * x2 - 6.0 * x2 + 3.0
        out = {
            "phi2": w @ p2,
            "phi4": w @ p2**2,
            "dphi2": w @ d2,
            "dphi4": w @ d2**2,
            "phi2dphi2": w @ (p2 * d2),
            "d_phi2": (w @ (p2 * he2)) / (2 * K),
            "d_dphi2": (w @ (d2 * he2)) / (2 * K),
            "dd_phi2": (w @ (p2 * he4)) / (4 * K * K),
            "dd_dphi2": (w @ (d2 * he4)) / (4 * K * K),
            # <(phi phi')'> by Stein's lemma: <z g(z)> = K <g'(z)>
            "d_phidphi": (w @ (u * p * dp)) / K,
            # for the dNTK (:mod:`nnqft.derive.ntk.dntk`): a Stein form that needs no phi''
            "z_phidphi3": (w @ (u * p * d2 * dp)) / K,  # <(phi phi'^3)'>
        }
    if not all(math.isfinite(v) for v in out.values()):
        raise InvalidParameter(
            f"the Gaussian means of phi = {act.name} overflow at variance {K:g}; "
            "use a smaller depth or sigma_w2"
        )
    return {k: float(v) for k, v in out.items()}


def ntk_fluctuations(
    net: Network, depth: int | None = None, lambda_b=1.0, lambda_W=1.0
) -> list[dict]:
    """A, B, D and Var(H_ii) n = A + 2B per layer at O(1/n) (see the module docstring).

    Parameters
    ----------
    net : Network
        A feedforward net with numeric variances.
    depth : int, optional
        Number of layers (default: the network's depth).
    lambda_b, lambda_W : float, optional
        The learning-rate factors (default 1).

    Returns
    -------
    list of dict
        Per layer ``layer``, ``K``, ``ntk`` (H at infinite width), ``A``, ``B``, ``D``,
        ``V`` (the §7 vertex, n Var G) and ``ntk_variance`` = A + 2B, with
        Var(H_ii) = ntk_variance/n + O(1/n^2).

    Examples
    --------
    >>> from nnqft.rules.network import Network
    >>> rows = ntk_fluctuations(Network("feedforward", "relu", 2.0, 0.0), 4)
    >>> [round(r["ntk_variance"] / r["ntk"] ** 2, 9) for r in rows]
    [0.0, 1.8125, 3.916666667, 6.09375]
    """
    require_network(net, arch="feedforward", what="the NTK fluctuations")
    cw, cb, q0 = numeric_variances(net, "the NTK fluctuations")
    T = resolve_depth(net, depth)
    lb, lw = learning_rates(lambda_b, lambda_W)
    act = net.activation
    K, H = cb + cw * q0, lb + lw * q0
    if K <= 0:
        raise InvalidParameter(
            "the first-layer variance sigma_b2 + sigma_w2*q0 must be positive; "
            "a zero input with no bias gives z = 0 exactly"
        )
    sigma = np.zeros((2, 2))  # n Cov of (G, Hhat)
    B = 0.0
    checked = 0.0  # the largest K whose tails were checked
    rows = []
    for layer in range(1, T + 1):
        rows.append(
            {
                "layer": layer,
                "K": K,
                "ntk": H,
                "A": float(sigma[1, 1]),
                "B": float(B),
                "D": float(sigma[0, 1]),
                "V": float(sigma[0, 0]),
                "ntk_variance": float(sigma[1, 1] + 2 * B),
            }
        )
        if layer == T:
            break
        if not K > 0:
            raise InvalidParameter(f"the kernel K underflows to 0 at layer {layer}")
        if K > checked:
            _check_tails(act, K)
            checked = K
        m = _means(act, K)
        var_p2 = m["phi4"] - m["phi2"] ** 2
        var_d2 = m["dphi4"] - m["dphi2"] ** 2
        cov = m["phi2dphi2"] - m["phi2"] * m["dphi2"]
        S = np.array(
            [
                [cw**2 * var_p2, cw * (lw * var_p2 + cw * H * cov)],
                [0.0, lw**2 * var_p2 + 2 * lw * cw * H * cov + cw**2 * H**2 * var_d2],
            ]
        )
        S[1, 0] = S[0, 1]
        J = np.array(
            [[cw * m["d_phi2"], 0.0], [lw * m["d_phi2"] + cw * H * m["d_dphi2"], cw * m["dphi2"]]]
        )
        chi_perp = cw * m["dphi2"]
        sigma = S + J @ sigma @ J.T
        B = cw**2 * m["dphi4"] * H**2 + chi_perp**2 * B
        K, H = cb + cw * m["phi2"], lb + lw * m["phi2"] + chi_perp * H
        values = (K, H, B, *sigma.ravel())
        if not all(math.isfinite(v) and abs(v) < 1e300 for v in values):
            raise InvalidParameter(
                f"the NTK fluctuations at layer {layer + 1} are beyond the floating-point "
                "range; use a smaller depth or sigma_w2"
            )
    return rows
