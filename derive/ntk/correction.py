"""The O(1/n) correction to the mean NTK: feedforward, one input (docs/conventions.md §10).

``E H_ii(l) = H(l) + H1(l)/n + O(1/n^2)``, with H the infinite-width NTK and n the width.

**Derivation: the Markov chain in (G, Hhat) of :mod:`nnqft.derive.ntk.variance`, one
order further in the means.**  Given layer l-1, the pre-activation z_k of neuron k of layer
l is N(0, G) and its NTK entry is H_kk = Hhat + eps_k, with G, Hhat the empirical means
of layer l-1 and eps_k = W_k M W_k^T - (C_W/n) tr M a centred quadratic form in the row
W_k ~ N(0, (C_W/n) I) (M = D H D, D = diag phi'(z(l-1))).  Exactly,

    E H_ii(l+1) = lambda_b + lambda_W E[phi(z_k)^2] + C_W E[phi'(z_k)^2 H_kk].

z_k = W_k . phi + b_k is linear in the same row, so Stein's lemma (twice) gives the part of
the last mean that the quadratic form carries,

    E[phi'(z_k)^2 eps_k | layer l-1] = (C_W/n)^2 (phi^T M phi) <(phi'^2)''>_G,

with <f''>_G = 2 d<f>/dG (the heat equation: no derivative of phi is taken).  The rest is
E[Hhat <phi'^2>_G] over the fluctuating (G, Hhat): means K + K1/n, H + H1/n, covariance
(V, D, A)/n from :func:`~nnqft.derive.ntk.variance.ntk_fluctuations`.  So

    H1(l+1) = lambda_W [K1 d<phi^2> + V d2<phi^2>/2]
              + C_W [<phi'^2> H1 + d<phi'^2> (K1 H + D) + H V d2<phi'^2>/2]
              + 2 C_W^3 P(l-1) d<phi'^2>,
    K1(l+1) = C_W [K1 d<phi^2> + V d2<phi^2>/2],

all Gaussian means at K(l) (d, d2: first and second K-derivatives), and
P(l) = lim (1/n) E[phi^T M phi] at layer l, whose off-diagonal part pairs the rows of two
neurons by Stein's lemma once each:

    P(l) = <phi^2 phi'^2> H(l) + C_W^2 <(phi phi')'>^2 P(l-1),   P(0) = 0

(layer 1's NTK is deterministic), <(phi phi')'> = <z phi phi'>/K.  Layers 1 and 2 have no
correction.  Known facts the tests check: H1 = 0 for linear and ReLU nets (scale
invariance: <phi'^2> is constant and K1 = 0), and Monte Carlo of real networks.

>>> from nnqft.rules.network import Network
>>> rows = ntk_mean_correction(Network("feedforward", "relu", 2.0, 0.1), 4)
>>> [abs(round(r["ntk_correction"], 12)) for r in rows]
[0.0, 0.0, 0.0, 0.0]
"""

from __future__ import annotations

import math

from ...errors import InvalidParameter
from ...rules.network import Network, numeric_variances, require_network, resolve_depth
from .kernel import learning_rates
from .variance import _check_tails, _means, ntk_fluctuations

__all__ = ["ntk_mean_correction"]


def ntk_mean_correction(
    net: Network, depth: int | None = None, lambda_b=1.0, lambda_W=1.0
) -> list[dict]:
    """H1(l), the 1/n coefficient of the mean NTK E H_ii(l), per layer (module docstring).

    Parameters
    ----------
    net, depth, lambda_b, lambda_W
        As for :func:`~nnqft.derive.ntk.variance.ntk_fluctuations`: a feedforward net with
        numeric variances, its number of layers, the learning-rate factors.

    Returns
    -------
    list of dict
        Per layer ``layer``, ``ntk`` (H at infinite width), ``ntk_correction`` (H1),
        ``K1`` (the 1/n coefficient of E z^2, from the same chain) and ``P``.

    Examples
    --------
    >>> from nnqft.rules.network import Network
    >>> rows = ntk_mean_correction(Network("feedforward", "tanh", 1.5, 0.05), 4)
    >>> [round(r["ntk_correction"], 6) for r in rows]
    [0.0, 0.0, 0.051543, 0.207898]
    """
    require_network(net, arch="feedforward", what="the NTK mean correction")
    cw, _, _ = numeric_variances(net, "the NTK mean correction")
    T = resolve_depth(net, depth)
    lb, lw = learning_rates(lambda_b, lambda_W)
    del lb  # a constant: it has no fluctuation
    act = net.activation
    fluct = ntk_fluctuations(net, T, lambda_b, lambda_W)
    K1 = H1 = 0.0
    P_prev = 0.0  # P(l-1): layer 0 (the input) has no random NTK
    rows = []
    checked = 0.0
    for layer, f in enumerate(fluct, start=1):
        K, H, V, D = f["K"], f["ntk"], f["V"], f["D"]
        rows.append({"layer": layer, "ntk": H, "ntk_correction": H1, "K1": K1, "P": None})
        if K > checked:
            _check_tails(act, K)
            checked = K
        m = _means(act, K)
        P = m["phi2dphi2"] * H + cw**2 * m["d_phidphi"] ** 2 * P_prev
        rows[-1]["P"] = P
        if layer == T:
            break
        K1_next = cw * (K1 * m["d_phi2"] + V * m["dd_phi2"] / 2)
        H1 = (
            lw * (K1 * m["d_phi2"] + V * m["dd_phi2"] / 2)
            + cw * (m["dphi2"] * H1 + m["d_dphi2"] * (K1 * H + D) + H * V * m["dd_dphi2"] / 2)
            + 2 * cw**3 * P_prev * m["d_dphi2"]
        )
        K1, P_prev = K1_next, P
        if not (math.isfinite(H1) and abs(H1) < 1e300):
            raise InvalidParameter(
                f"the NTK mean correction at layer {layer + 1} is beyond the floating-point "
                "range; use a smaller depth or sigma_w2"
            )
    return rows
