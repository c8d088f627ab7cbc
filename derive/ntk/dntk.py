"""The dNTK at O(1/n): feedforward, one input (docs/conventions.md §10).

**Definition** (PDLT eq. 11.9).  The dNTK of layer l is the derivative of the NTK along
the gradient step of one output,

    dH_{i0 i1 i2}(l) = sum_mu lambda_mu dz_{i0}/dtheta_mu dH_{i1 i2}/dtheta_mu
                     = sum_{mu,nu} lambda_mu lambda_nu dz_{i0}/dtheta_mu
                       [d2z_{i1}/dtheta_mu dtheta_nu dz_{i2}/dtheta_nu + (i1 <-> i2)],

with the NTK's rates (lambda_b per bias, lambda_W/n per weight); it is symmetric in
(i1, i2).  Its mean vanishes and its correlation with the outputs is O(1/n):

    E[dH_{i0 i1 i2} z_{i3}]
        = [d_{i0 i3} d_{i1 i2} P + (d_{i0 i1} d_{i2 i3} + d_{i0 i2} d_{i1 i3}) Q] / n.

**Derivation.**  Given layer l (pre-activations z_k, NTK H_km, dNTK dH_jkm; g = phi phi'),
the chain rule through z(l+1) = W phi(z) + b gives, exactly,

    dH_{i0i1i2}(l+1)
      = (lambda_W/n) sum_{b,m} g_b H_bm phi'_m (d_{i0i1} W_{i2m} + d_{i0i2} W_{i1m})
      + (2 lambda_W/n) d_{i1i2} sum_{j,k} W_{i0j} phi'_j H_jk g_k
      + sum_{j,k,m} W_{i0j} W_{i1k} W_{i2m} phi'_j
                    (phi''_k phi'_m H_jk + phi'_k phi''_m H_jm) H_km
      + sum_{j,k,m} W_{i0j} W_{i1k} W_{i2m} phi'_j phi'_k phi'_m dH_{jkm}(l).

Multiplying by z_{i3}(l+1) and pairing the rows of W(l+1) (Wick, exact given layer l)
leaves sums over the neurons of layer l.  Their diagonals (j = k = m) and the H_kk (-> H)
are O(1) means; their off-diagonal parts are O(1/n) correlations, each by Stein's lemma on
the rows of W(l) shared by the z's and the kernels of layer l:

- ``R(l) = lim (1/n) E[g^T H g]`` (the ``P`` of :mod:`nnqft.derive.ntk.correction`),
  R(l) = <phi^2 phi'^2> H + C_W^2 <g'>^2 R(l-1), from E[f(z_j) h(z_k) H_jk] =
  (C_W^2/n) R(l-1) <f'> <h'> for j != k;
- E[f(z_j) h(z_k) H_jk^2] = <f> <h> B(l)/n (B of :mod:`nnqft.derive.ntk.variance`,
  Var H_jk = B/n), which the Q pattern meets in the square H_jm H_jm;
- for distinct neurons 1, 2, dH_{122} is linear in the row W_1 and dH_{112} in W_2, so
  E[f(z_1) h(z_2) dH_{122}] = (P/n) <f'> <h> and E[f(z_1) h(z_2) dH_{112}] = (Q/n) <f> <h'>
  (the rest of the Stein expansion is O(1/n^2)).

With chi_perp = C_W <phi'^2>, chi_par = C_W <g'> (g' = (phi phi')'), R, H, B at layer l:

    P(l+1) = 2 lambda_W C_W R + 2 C_W^2 H^2 <phi phi'^2 phi''>
             + 2 C_W^4 H R(l-1) <g'> <(phi' phi'')'> + chi_par chi_perp P(l),
    Q(l+1) = lambda_W C_W R + 2 C_W^2 H^2 <phi phi'^2 phi''>
             + C_W^4 H R(l-1) <g'> <(phi' phi'')'> + C_W^2 B <phi'^2> <phi phi''>
             + chi_par chi_perp Q(l),

P(1) = Q(1) = 0 (layer 1's NTK is constant), R(0) = 0.  The means are taken in forms that
need phi' only (kinks are panel edges): <(phi' phi'')'> = d<phi'^2>/dK, <phi phi'^2
phi''> = [<(phi phi'^3)'> - <phi'^4>]/3, <phi phi''> = <g'> - <phi'^2>, <f'> = <z f>/K.
For linear nets Q(l+1) = lambda_W C_W R + C_W^2 Q(l) and P = 2Q; with C_b = lambda_b = 0,
C_W = 1 this sums to Q(L) = lambda_W^2 q0^2 (L-1) L (L+1)/6.

>>> from nnqft.rules.network import Network
>>> rows = dntk_statistics(Network("feedforward", "linear", 1.0, 0.0), 4, 0.0, 1.0)
>>> [(round(r["P"], 9), round(r["Q"], 9)) for r in rows]
[(0.0, 0.0), (2.0, 1.0), (8.0, 4.0), (20.0, 10.0)]
"""

from __future__ import annotations

import math

from ...errors import InvalidParameter
from ...rules.network import Network, numeric_variances, require_network, resolve_depth
from .kernel import learning_rates
from .variance import _check_tails, _means, ntk_fluctuations

__all__ = ["dntk_statistics"]


def dntk_statistics(
    net: Network, depth: int | None = None, lambda_b=1.0, lambda_W=1.0
) -> list[dict]:
    """PDLT's P(l) and Q(l) of the dNTK per layer, n E[dH z] at O(1/n) (module docstring).

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
        Per layer ``layer``, ``K``, ``ntk`` (H at infinite width), ``P``, ``Q`` (with
        E[dH_{i0i1i2} z_{i3}] = [d_{i0i3} d_{i1i2} P + (d_{i0i1} d_{i2i3} + d_{i0i2}
        d_{i1i3}) Q]/n + O(1/n^2)) and ``R`` = lim E[g^T H g]/n, g = phi phi'.

    Examples
    --------
    >>> from nnqft.rules.network import Network
    >>> rows = dntk_statistics(Network("feedforward", "tanh", 1.5, 0.05), 3)
    >>> [(round(r["P"], 6), round(r["Q"], 6)) for r in rows]
    [(0.0, 0.0), (-1.093631, -1.295892), (-3.050647, -4.161037)]
    """
    require_network(net, arch="feedforward", what="the dNTK")
    cw, _, _ = numeric_variances(net, "the dNTK")
    T = resolve_depth(net, depth)
    _, lw = learning_rates(lambda_b, lambda_W)
    act = net.activation
    P = Q = 0.0
    R_prev = 0.0  # R(l-1): the off-diagonal NTK of layer 1 is exactly 0
    checked = 0.0
    rows = []
    for r in ntk_fluctuations(net, T, lambda_b, lambda_W):
        layer, K, H, B = r["layer"], r["K"], r["ntk"], r["B"]
        if K > checked:
            _check_tails(act, K)
            checked = K
        m = _means(act, K)
        g1 = m["d_phidphi"]  # <(phi phi')'>
        R = m["phi2dphi2"] * H + cw**2 * g1**2 * R_prev
        rows.append({"layer": layer, "K": K, "ntk": H, "P": P, "Q": Q, "R": R})
        if layer == T:
            break
        c3 = (m["z_phidphi3"] - m["dphi4"]) / 3  # <phi phi'^2 phi''>
        a = m["d_dphi2"]  # <(phi' phi'')'> = d<phi'^2>/dK
        chi = cw**2 * g1 * m["dphi2"]  # chi_par chi_perp
        P = 2 * lw * cw * R + 2 * cw**2 * H * (H * c3 + cw**2 * R_prev * g1 * a) + chi * P
        phi_ddphi = g1 - m["dphi2"]  # <phi phi''> = <(phi phi')'> - <phi'^2>
        Q = (
            lw * cw * R
            + cw**2 * (2 * H * H * c3 + H * cw**2 * R_prev * g1 * a)
            + cw**2 * B * m["dphi2"] * phi_ddphi
            + chi * Q
        )
        R_prev = R
        if not all(math.isfinite(v) and abs(v) < 1e300 for v in (P, Q, R)):
            raise InvalidParameter(
                f"the dNTK at layer {layer + 1} is beyond the floating-point range; "
                "use a smaller depth or sigma_w2"
            )
    return rows
