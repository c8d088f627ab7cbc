"""The NTK of two inputs at O(1/n): the mean correction and the fluctuations of the 2x2 Gram
matrix across initialisations, feedforward nets (docs/conventions.md §10).

Two inputs x_1, x_2 with |x_a|^2 = q0 N and x_1.x_2 = c0 q0 N; H_ij;ab(l) is the NTK of output
neurons i, j of layer l between inputs a, b.  PDLT's decomposition (ch. 8) with input indices:

    E H_ii;ab = H_ab + H1_ab/n + O(1/n^2),
    Cov(H_i1i2;a1a2, H_i3i4;a3a4) = [d_i1i2 d_i3i4 A_(a1a2)(a3a4)
        + d_i1i3 d_i2i4 B(a1 a2 a3 a4) + d_i1i4 d_i2i3 B(a1 a2 a4 a3)]/n + O(1/n^2),

with B(a1 a2 a3 a4) = n E[H_ij;a1a2 H_ij;a3a4] (i != j).  So for one neuron

    n Var H_ii;11 = A_(11)(11) + 2 B(1111),   n Var H_ii;12 = A_(12)(12) + B(1212) + B(1221),
    n Cov(H_ii;11, H_ii;22) = A_(11)(22) + 2 B(1122).

**Derivation: the Markov chain of :mod:`nnqft.derive.ntk.variance` with input indices.**  Given
layer l, the row W_i of layer l+1 gives z_i;a = b_i + W_i.phi_a ~ N(0, G), G_ab = C_b + C_W
mean_k phi_k;a phi_k;b, and H_ii;ab = lambda_b + lambda_W mean_k phi_k;a phi_k;b + W_i M^ab
W_i^T, M^ab_km = phi'_k;a H_km;ab phi'_m;b, whose conditional mean is Hhat_ab = lambda_b +
lambda_W mean_k phi_k;a phi_k;b + C_W mean_k phi'_k;a phi'_k;b H_kk;ab.  Then, with s = C_W/n:

- Cov(H_ii;a1a2, H_jj;a3a4) = Cov(Hhat_a1a2, Hhat_a3a4) for i != j, so A = n Cov(Hhat, Hhat);
  Sigma = n Cov of the six components (G_11, G_22, G_12, Hhat_11, Hhat_22, Hhat_12) obeys
  Sigma(l+1) = S + J Sigma(l) J^T, S the covariance of the summands (C_W phi_a phi_b,
  lambda_W phi_a phi_b + C_W H_ab phi'_a phi'_b) over (u_1, u_2) ~ N(0, K(l)) and J the
  Jacobian of (C_b + C_W <phi_a phi_b>_G, lambda_b + lambda_W <phi_a phi_b>_G + C_W Hhat_ab
  <phi'_a phi'_b>_G) at (K, H);
- E[w A w^T w B w^T] - E[w A w^T] E[w B w^T] = s^2 tr(A (B + B^T)) for w ~ N(0, s): the
  conditional part, and E[H_ij;a1a2 H_ij;a3a4] = s^2 tr(M^a1a2 M^a3a4 T) for i != j:

      B(a1 a2 a3 a4)(l+1) = C_W^2 [<phi'_a1 phi'_a2 phi'_a3 phi'_a4> H_a1a2 H_a3a4
                                   + <phi'_a1 phi'_a3> <phi'_a2 phi'_a4> B(a1 a2 a3 a4)(l)];

- the mean: Stein's lemma on the row shared by z_k and H_kk (twice, E[g(W) (W M W^T - s tr M)]
  = s^2 sum_pq M_pq E d_p d_q g) gives the term C_W^3 sum_cd <d_c d_d (phi'_a phi'_b)>
  P_cd;ab(l-1), P_cd;ab(l) = lim (1/n) E[phi_c^T M^ab phi_d], and

      P_cd;ab(l) = <phi_c phi_d phi'_a phi'_b> H_ab + C_W^2 sum_ef <d_e(phi_c phi'_a)>
                   <d_f(phi'_b phi_d)> P_ef;ab(l-1),   P(0) = 0,
      H1_ab(l+1) = lambda_W [grad<phi_a phi_b>.K1 + tr(hess<phi_a phi_b> V)/2]
                   + C_W [<phi'_a phi'_b> H1_ab + grad<phi'_a phi'_b>.(K1 H_ab + D_ab)
                          + H_ab tr(hess<phi'_a phi'_b> V)/2] + C_W^3 sum_cd (...) P_cd;ab,
      K1(l+1)    = C_W [grad<phi phi>.K1 + tr(hess<phi phi> V)/2],

  grad, hess over (G_11, G_22, G_12), V = Sigma_GG, D_ab = Sigma_(G, Hhat_ab).

The Gaussian means are sums over the nodes of :class:`nnqft.derive.gaussian.PlaneRule` (the
panel rule in the plane, kinks as panel edges); covariance derivatives by the score of the
density, d<f>/dG = <f d ln p/dG> (no derivative of phi: ReLU as well), and Stein's lemma as
<d_e f> = <(G^-1 u)_e f>, <d_c d_d f> = <f ((G^-1 u)_c (G^-1 u)_d - G^-1_cd)>.  One rule per
layer serves these recursions and the dNTK's of :mod:`.dntk_two_inputs` (:class:`PlaneCache`;
the command runs both with :func:`~nnqft.derive.ntk.dntk_two_inputs.two_input_statistics`),
built from the same kernel, bit for bit.  The entries
11 reduce to :func:`~nnqft.derive.ntk.correction.ntk_mean_correction` and
:func:`~nnqft.derive.ntk.variance.ntk_fluctuations` (the tests, 1e-10); K1 and V to the
two-input diagrams of :mod:`nnqft.derive.fluctuations.two_inputs`; ReLU's H1_11 vanishes
(scale invariance) while H1_12 does not.  c0 = 1 (identical inputs) is the one-input result;
a degenerate kernel otherwise (c0 = -1 with no bias) is refused.

>>> from nnqft.rules.network import Network
>>> rows = ntk_two_input_corrections(Network("feedforward", "relu", 2.0, 0.0), 0.5, 3)
>>> [round(r["ntk_correction"][0][0], 12) + 0.0 for r in rows]
[0.0, 0.0, 0.0]
>>> rows[-1]["ntk_correction"][0][1] > 0
True
"""

from __future__ import annotations

import math

import numpy as np

from ...errors import InvalidParameter
from ...rules.network import Network, numeric_variances, require_network, resolve_depth
from ..gaussian import PlaneRule
from .kernel import check_correlation, learning_rates
from .variance import _check_tails

__all__ = ["ntk_two_input_corrections", "correction_rows", "PlaneCache"]

#: the kernel components in the order (11, 22, 12): input index pairs
PAIRS = ((0, 0), (1, 1), (0, 1))
#: E_alpha = dG/dG_alpha for the three components
_UNIT = (np.array([[1.0, 0.0], [0.0, 0.0]]), np.array([[0.0, 0.0], [0.0, 1.0]]),
         np.array([[0.0, 1.0], [1.0, 0.0]]))  # fmt: skip


def _derivative(act):
    """phi' as a numpy function.  A scale-invariant phi without a built-in numeric phi' (ReLU,
    leaky ReLU: their phi' has a Heaviside) uses Euler's relation for a degree-1 homogeneous
    function, phi(u) = u phi'(u), exact away from the kink at 0 (never a node of the panel
    rules, whose panels end at the kinks); so no sympy is imported for them."""
    forms = act.forms
    if (forms is None or forms.phi[1] is None) and act.is_scale_invariant:
        phi, slope = act.numeric(0), act.at_zero(1)
        if not math.isfinite(slope):  # a kink at 0: the mean of the one-sided slopes
            slope = float(phi(np.array(1.0)) - phi(np.array(-1.0))) / 2

        def dphi(u):
            u = np.asarray(u, dtype=float)
            safe = np.where(u == 0, 1.0, u)
            return np.where(u == 0, slope, phi(u) / safe)

        return dphi
    return act.numeric(1)


#: the most nodes of a plane rule: its basis holds 15 rows of them (0.6 GB here, and the
#: integrands as many again); the rule grows with the kernel (7e6 nodes at K = 300)
MAX_PLANE_NODES = 5_000_000


class _Plane:
    """Means over (u_1, u_2) ~ N(0, G) on the flattened nodes of the plane rule, with the
    score of the density for G-derivatives and Stein's lemma, all by one matrix product:
    :meth:`integrals` of m integrands gives (m, 15) columns ``MEAN``, ``GRAD`` (3),
    ``HESS`` (6: 11, 22, 33, 12, 13, 23 over (G_11, G_22, G_12)), ``STEIN`` (2) and
    ``STEIN2`` (3: 11, 22, 12)."""

    def __init__(self, act, G: np.ndarray):
        rule = PlaneRule(G[0, 0], G[1, 1], G[0, 1], act.kink_points)
        shape = rule.u2.shape
        if rule.u2.size > MAX_PLANE_NODES:
            raise InvalidParameter(
                f"the two-input kernel has grown to K = {max(G[0, 0], G[1, 1]):.4g}: its plane "
                f"rule would need {rule.u2.size:,} nodes (at most {MAX_PLANE_NODES:,}); give "
                "fewer layers (--depth) or a smaller sigma_w2"
            )
        u1 = np.broadcast_to(rule.u1[:, None], shape).ravel()
        u2 = rule.u2.ravel()
        self.w = (rule.w1[:, None] * rule.w2).ravel()
        phi, dphi = act.numeric(0), _derivative(act)
        self.grid = shape  # the nodes: outer (u_1) x inner (u_2 given u_1)
        with np.errstate(over="ignore", invalid="ignore"):
            # phi_1, phi'_1 on the outer nodes alone, and broadcast to all
            self.outer = {"p": _on(phi, rule.u1), "d": _on(dphi, rule.u1)}
            p1 = np.broadcast_to(self.outer["p"][:, None], shape).ravel()
            d1 = np.broadcast_to(self.outer["d"][:, None], shape).ravel()
            self.p = [p1, _on(phi, u2)]
            self.d = [d1, _on(dphi, u2)]
        # (15, N), weights included, each row written as it is made (not all 15 held twice)
        self.basis = _weighted(_basis_rows(u1, u2, np.linalg.inv(G)), self.w, 15)
        self._pairs = self.pp = self.dd = None  # pair_integrals()

    def integrals(self, F) -> np.ndarray:
        """(m, 15) for the integrands F (m, N): see the class docstring."""
        with np.errstate(over="ignore", invalid="ignore"):
            return np.asarray(F) @ self.basis.T

    def pair_integrals(self) -> tuple[np.ndarray, np.ndarray]:
        """(:meth:`integrals` of phi_a phi_b, of phi'_a phi'_b), (3, 15) each over the
        :data:`PAIRS` (11, 22, 12).  Computed once: the mean corrections and the dNTK both
        step the kernel and the NTK with them, so the two get the same next kernel to the
        last bit, and with it the same (shared) plane rule of the next layer."""
        if self._pairs is None:
            p, d = self.p, self.d
            self.pp = _rows((p[a], p[b]) for a, b in PAIRS)  # the integrands, (3, N) each
            self.dd = _rows((d[a], d[b]) for a, b in PAIRS)
            self._pairs = (self.integrals(self.pp), self.integrals(self.dd))
        return self._pairs


def _rows(pairs, scratch=None) -> np.ndarray:
    """f * g for the pairs (f, g) of node arrays, as the rows of one (m, N) array: the
    integrands of one matrix product, written in place (listed and then stacked, they were
    copied once more, ~10 MB a row); into the first m rows of ``scratch`` if given (reused
    memory: every fresh page costs a fault)."""
    pairs = list(pairs)
    if scratch is None:
        scratch = np.empty((len(pairs), pairs[0][0].size))
    out = scratch[: len(pairs)]
    for i, (f, g) in enumerate(pairs):
        np.multiply(f, g, out=out[i])
    return out


def _on(f, u) -> np.ndarray:
    """f at the nodes u as a float array of their shape (f may give a constant)."""
    return np.broadcast_to(f(u), u.shape).astype(float)


def _basis_rows(u1, u2, gi):
    """The 15 rows of :class:`_Plane`'s basis at the nodes (u1, u2), one at a time, gi =
    G^-1: 1, the score (3), its Hessian terms (6), Stein's (G^-1 u) (2) and its second
    order (3)."""
    v = [gi[0, 0] * u1 + gi[0, 1] * u2, gi[1, 0] * u1 + gi[1, 1] * u2]  # G^-1 u
    # d ln p / dG_alpha and d^2 ln p / dG_alpha dG_beta
    score = [(v[0] ** 2 - gi[0, 0]) / 2, (v[1] ** 2 - gi[1, 1]) / 2, v[0] * v[1] - gi[0, 1]]
    yield np.ones_like(u1)
    yield from score
    for a, b in ((0, 0), (1, 1), (2, 2), (0, 1), (0, 2), (1, 2)):
        Ea, Eb = _UNIT[a], _UNIT[b]
        const = 0.5 * np.trace(gi @ Eb @ gi @ Ea)
        Mq = Eb @ gi @ Ea  # the quadratic form v^T Eb G^-1 Ea v
        Mq = (Mq + Mq.T) / 2
        quad = Mq[0, 0] * v[0] ** 2 + 2 * Mq[0, 1] * v[0] * v[1] + Mq[1, 1] * v[1] ** 2
        yield score[a] * score[b] + const - quad
    yield from v
    yield from (v[0] * v[0] - gi[0, 0], v[1] * v[1] - gi[1, 1], v[0] * v[1] - gi[0, 1])


def _weighted(rows, w, n: int) -> np.ndarray:
    """The n ``rows`` times w, each written into one (n, N) array as it comes (the same
    numbers as np.array(rows) * w, without holding the rows: a plane's basis is ~150 MB,
    and every fresh page of it costs a fault)."""
    out = np.empty((n, w.size))
    for i, row in enumerate(rows):
        np.multiply(row, w, out=out[i])
    return out


class PlaneCache:
    """The plane rule of the last (activation, kernel) asked for.  The mean corrections and
    the dNTK (:mod:`.dntk_two_inputs`) need the same rule for the same layer and kernel, and
    building it is most of their cost; run layer by layer in lockstep
    (:func:`~nnqft.derive.ntk.dntk_two_inputs.two_input_statistics`) they share it.  One
    entry only: a rule holds ~250 MB, and the next layer's kernel replaces it."""

    def __init__(self):
        self._act, self._key, self._plane = None, None, None

    def get(self, act, G: np.ndarray) -> _Plane:
        key = np.ascontiguousarray(G, dtype=float).tobytes()  # the kernel, to the bit
        if self._act is not act or self._key != key:
            self._act = self._key = self._plane = None  # free the old rule first
            self._plane = _Plane(act, G)  # raises past MAX_PLANE_NODES: nothing is cached
            self._act, self._key = act, key
        return self._plane


_HESS = {(0, 0): 4, (1, 1): 5, (2, 2): 6, (0, 1): 7, (0, 2): 8, (1, 2): 9}


def _hess(row) -> np.ndarray:
    return np.array([[row[_HESS[(min(a, b), max(a, b))]] for b in range(3)] for a in range(3)])


def _stein2(row) -> np.ndarray:
    return np.array([[row[12], row[14]], [row[14], row[13]]])


def _matrix(v) -> list:
    """(11, 22, 12) -> [[11, 12], [12, 22]] as floats."""
    a, b, c = (float(x) for x in v)
    return [[a, c], [c, b]]


def ntk_two_input_corrections(
    net: Network, c0, depth: int | None = None, lambda_b=1.0, lambda_W=1.0
) -> list[dict]:
    """The O(1/n) mean correction and fluctuations of the two-input NTK per layer
    (module docstring).

    Parameters
    ----------
    net : Network
        A feedforward net with numeric variances.
    c0 : float
        The correlation of the two inputs, in [-1, 1].
    depth : int, optional
        Number of layers (default: the network's depth).
    lambda_b, lambda_W : float, optional
        The learning-rate factors (default 1).

    Returns
    -------
    list of dict
        Per layer ``layer``, ``K`` and ``ntk`` (the 2x2 infinite-width matrices),
        ``ntk_correction`` (H1_ab: E H_ii;ab = H_ab + H1_ab/n), ``K1`` (E z_a z_b = K_ab +
        K1_ab/n), ``ntk_variance`` (the 2x2 matrix n Var H_ii;ab, entry by entry),
        ``entry_covariance`` (n Cov(H_ii;11, H_ii;22)), ``A`` (n Cov(H_ii;ab, H_jj;ab)) and
        ``B`` (n Var H_ij;ab, i != j) entry by entry, ``V`` (3x3, n Cov of G over (11, 22,
        12)) and ``D`` (3x3, n Cov(G_alpha, Hhat_beta))).

    Examples
    --------
    >>> from nnqft.rules.network import Network
    >>> net = Network("feedforward", "tanh", 1.5, 0.05)
    >>> rows = ntk_two_input_corrections(net, 0.5, 4)
    >>> round(rows[-1]["ntk_correction"][0][0], 6)      # the one-input H1(4)
    0.207898
    """
    return list(correction_rows(net, c0, depth, lambda_b, lambda_W, PlaneCache()))


def correction_rows(net: Network, c0, depth, lambda_b, lambda_W, planes: PlaneCache):
    """The rows of :func:`ntk_two_input_corrections`, one layer at a time, each layer's plane
    rule from ``planes`` (shared with the dNTK's rows: :func:`~nnqft.derive.ntk.
    dntk_two_inputs.two_input_statistics`)."""
    require_network(net, arch="feedforward", what="the two-input NTK corrections")
    cw, cb, q0 = numeric_variances(net, "the two-input NTK corrections")
    c0 = check_correlation(c0)
    T = resolve_depth(net, depth)
    lb, lw = learning_rates(lambda_b, lambda_W)
    act = net.activation
    if c0 == 1.0:
        yield from _identical_inputs(net, T, lb, lw)
        return
    k11 = cb + cw * q0
    if k11 <= 0:
        raise InvalidParameter(
            "the first-layer variance sigma_b2 + sigma_w2*q0 must be positive; "
            "a zero input with no bias gives z = 0 exactly"
        )
    K = np.array([k11, k11, cb + cw * q0 * c0])  # (11, 22, 12)
    H = np.array([lb + lw * q0, lb + lw * q0, lb + lw * q0 * c0])
    K1, H1 = np.zeros(3), np.zeros(3)
    sigma = np.zeros((6, 6))
    Bt = np.zeros((2, 2, 2, 2))  # B(a1 a2 a3 a4)
    P_prev = np.zeros((2, 2, 2, 2))  # P_cd;ab(l-1), indices [c, d, a, b]
    checked = 0.0
    for layer in range(1, T + 1):
        yield _row(layer, K, H, K1, H1, sigma, Bt)
        if layer == T:
            break
        if min(K[0], K[1]) <= 0:
            raise InvalidParameter(f"the kernel K underflows to 0 at layer {layer}")
        if 1.0 - abs(K[2]) / math.sqrt(K[0] * K[1]) < 1e-9:
            raise InvalidParameter(
                f"the kernel of the two inputs is degenerate (|correlation| = 1) at layer "
                f"{layer}; the two-input corrections need distinct inputs (c0 = 1 is one input)"
            )
        # a scale-invariant phi grows linearly: its Gaussian moments are all finite
        if max(K[0], K[1]) > checked and not act.is_scale_invariant:
            _check_tails(act, max(K[0], K[1]))
            checked = max(K[0], K[1])
        G = np.array([[K[0], K[2]], [K[2], K[1]]])
        Hm = np.array([[H[0], H[2]], [H[2], H[1]]])
        pl = planes.get(act, G)
        p, d = pl.p, pl.d
        I_pp, I_dd = pl.pair_integrals()
        pp, dd = pl.pp, pl.dd
        quads = list(np.ndindex(2, 2, 2, 2))
        scratch = np.empty((9, pl.w.size))  # the integrands of the next three products
        I_pd = pl.integrals(_rows(((p[c], d[a]) for c in range(2) for a in range(2)), scratch))
        # <phi_c phi_e phi'_a phi'_b> and <phi'^4> by the distinct index multisets
        I_ppdd = pl.integrals(_rows(((f, g) for f in pp for g in dd), scratch))
        I_ppdd = I_ppdd[:, 0].reshape(3, 3)
        I_dddd = pl.integrals(_rows(((d[0] ** (4 - j), d[1] ** j) for j in range(5)), scratch))
        I_dddd = I_dddd[:, 0]
        pair = {(0, 0): 0, (1, 1): 1, (0, 1): 2, (1, 0): 2}
        m_pp, m_dd = I_pp[:, 0], I_dd[:, 0]
        g_pp, g_dd = I_pp[:, 1:4], I_dd[:, 1:4]  # [pair, alpha]
        h_pp, h_dd = [_hess(r) for r in I_pp], [_hess(r) for r in I_dd]
        # the chain of (G, Hhat): S and J
        X = scratch[:6]  # the integrands are spent: their memory is X's
        for i, (f, g, h) in enumerate(zip(pp, dd, H)):
            np.multiply(cw, f, out=X[i])
            X[3 + i] = lw * f + cw * h * g
        mean = X @ pl.basis[0]
        S = X @ (X * pl.basis[0]).T - np.outer(mean, mean)
        J = np.zeros((6, 6))
        J[:3, :3] = cw * g_pp
        J[3:, :3] = lw * g_pp + cw * H[:, None] * g_dd
        J[3:, 3:] = np.diag(cw * m_dd)
        V, D = sigma[:3, :3], sigma[:3, 3:]
        # the mean: P(l) and the Stein term with P(l-1)
        stein_pd = I_pd[:, 10:12].reshape(2, 2, 2)  # <d_e(phi_c phi'_a)> at [c, a, e]
        P = np.zeros((2, 2, 2, 2))
        for c, e, a, b in quads:
            # sum_ef <d_e(phi_c phi'_a)> <d_f(phi'_b phi_d)> P_ef;ab(l-1)
            off = stein_pd[c, a] @ P_prev[:, :, a, b] @ stein_pd[e, b]
            P[c, e, a, b] = I_ppdd[pair[c, e], pair[a, b]] * Hm[a, b] + cw**2 * off
        H1_next = np.zeros(3)
        for i, (a, b) in enumerate(PAIRS):
            st = _stein2(I_dd[i])
            H1_next[i] = (
                lw * (g_pp[i] @ K1 + np.sum(h_pp[i] * V) / 2)
                + cw * (m_dd[i] * H1[i] + g_dd[i] @ (K1 * H[i] + D[:, i])
                        + H[i] * np.sum(h_dd[i] * V) / 2)
                + cw**3 * np.sum(st * P_prev[:, :, a, b])
            )  # fmt: skip
        K1_next = cw * (g_pp @ K1 + np.array([np.sum(h * V) for h in h_pp]) / 2)
        m2 = np.array([[m_dd[0], m_dd[2]], [m_dd[2], m_dd[1]]])
        Bn = np.zeros((2, 2, 2, 2))
        for a1, a2, a3, a4 in quads:
            Bn[a1, a2, a3, a4] = cw**2 * (
                I_dddd[a1 + a2 + a3 + a4] * Hm[a1, a2] * Hm[a3, a4]
                + m2[a1, a3] * m2[a2, a4] * Bt[a1, a2, a3, a4]
            )
        sigma = S + J @ sigma @ J.T
        H = lb + lw * m_pp + cw * m_dd * H
        K = cb + cw * m_pp
        K1, H1, Bt, P_prev = K1_next, H1_next, Bn, P
        values = np.concatenate([K, H, K1, H1, sigma.ravel(), Bt.ravel()])
        if not np.all(np.isfinite(values) & (np.abs(values) < 1e300)):
            raise InvalidParameter(
                f"the two-input NTK corrections at layer {layer + 1} are beyond the "
                "floating-point range; use a smaller depth or sigma_w2"
            )


def _row(layer, K, H, K1, H1, sigma, Bt) -> dict:
    A = sigma[3:, 3:]  # n Cov(Hhat_alpha, Hhat_beta) over (11, 22, 12)
    var = [
        A[0, 0] + 2 * Bt[0, 0, 0, 0],
        A[1, 1] + 2 * Bt[1, 1, 1, 1],
        A[2, 2] + Bt[0, 1, 0, 1] + Bt[0, 1, 1, 0],
    ]
    return {
        "layer": layer,
        "K": _matrix(K),
        "ntk": _matrix(H),
        "ntk_correction": _matrix(H1),
        "K1": _matrix(K1),
        "ntk_variance": _matrix(var),
        "entry_covariance": float(A[0, 1] + 2 * Bt[0, 0, 1, 1]),
        "A": _matrix(np.diag(A)),
        "B": _matrix([Bt[0, 0, 0, 0], Bt[1, 1, 1, 1], Bt[0, 1, 0, 1]]),
        "V": sigma[:3, :3].tolist(),
        "D": sigma[:3, 3:].tolist(),
    }


def _identical_inputs(net, T, lb, lw) -> list[dict]:
    """c0 = 1: both inputs are the same, every entry is the one-input value."""
    from .correction import ntk_mean_correction
    from .variance import ntk_fluctuations

    rows = []
    for c, f in zip(ntk_mean_correction(net, T, lb, lw), ntk_fluctuations(net, T, lb, lw)):
        same = lambda v: [[float(v), float(v)], [float(v), float(v)]]  # noqa: E731
        rows.append(
            {
                "layer": f["layer"],
                "K": same(f["K"]),
                "ntk": same(f["ntk"]),
                "ntk_correction": same(c["ntk_correction"]),
                "K1": same(c["K1"]),
                "ntk_variance": same(f["ntk_variance"]),
                "entry_covariance": float(f["ntk_variance"]),
                "A": same(f["A"]),
                "B": same(f["B"]),
                "V": [[float(f["V"])] * 3 for _ in range(3)],
                "D": [[float(f["D"])] * 3 for _ in range(3)],
            }
        )
    return rows
