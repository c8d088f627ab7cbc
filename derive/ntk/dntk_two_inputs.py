"""The dNTK of two inputs at O(1/n): PDLT's P and Q with input indices, feedforward nets
(docs/conventions.md §10).

**Definition** (PDLT eq. 11.9 with input indices).  For inputs x_1, x_2 (|x_a|^2 = q0 N,
correlation c0) the dNTK of layer l is

    dH_{i0 i1 i2; a0 a1 a2}(l) = sum_mu lambda_mu dz_{i0;a0}/dtheta_mu dH_{i1 i2;a1 a2}/dtheta_mu,

the NTK entry between inputs a1, a2 differentiated along the gradient step of output i0 at
input a0; it is symmetric under (i1, a1) <-> (i2, a2).  At O(1/n)

    E[dH_{i0i1i2;a0a1a2} z_{i3;a3}] = [d_i0i3 d_i1i2 P_{a0a1a2a3}
        + d_i0i1 d_i2i3 Q_{a0a1a2a3} + d_i0i2 d_i1i3 Q_{a0a2a1a3}] / n,

so P_{a0a1a2a3} = P_{a0a2a1a3}; with all indices equal both are the one-input P, Q of
:func:`~nnqft.derive.ntk.dntk.dntk_statistics`.

**Derivation.**  The one-input derivation of :mod:`nnqft.derive.ntk.dntk`, term by term, with
the input indices each factor carries (phi_{k;a} = phi(z_k;a), g = phi phi' splits into
phi_{a3} phi'_{a0} and so on).  At layer l, with means over (u_1, u_2) ~ N(0, K(l)), H, B,
R = R(l), R' = R(l-1), s(f)_e = <d f / d u_e> (Stein's lemma) and f^T R'_ab h =
sum_ef s(f)_e R'_{ef;ab} s(h)_f:

    P_{a0a1a2a3}(l+1) = lambda_W C_W (R_{a3a2;a0a1} + R_{a3a1;a0a2})
        + C_W^2 [<phi_a3 phi'_a0 phi''_a1 phi'_a2> H_a0a1 + <phi_a3 phi'_a0 phi'_a1 phi''_a2>
                 H_a0a2] H_a1a2
        + C_W^4 H_a1a2 [(phi_a3 phi'_a0)^T R'_a0a1 (phi''_a1 phi'_a2)
                        + (phi_a3 phi'_a0)^T R'_a0a2 (phi'_a1 phi''_a2)]
        + C_W^2 <phi'_a1 phi'_a2> sum_e s(phi_a3 phi'_a0)_e P_{a0a1a2e}(l),
    Q_{a0a1a2a3}(l+1) = lambda_W C_W R_{a0a3;a1a2}
        + C_W^2 [<phi'_a0 phi''_a1 phi'_a2 phi_a3> H_a0a1 + <phi'_a0 phi'_a1 phi''_a2 phi_a3>
                 H_a0a2] H_a1a2
        + C_W^4 H_a0a1 (phi'_a0 phi''_a1)^T R'_a1a2 (phi'_a2 phi_a3)
        + C_W^2 B(a0 a2 a1 a2) <phi'_a0 phi'_a1> <phi''_a2 phi_a3>
        + C_W^2 <phi'_a0 phi'_a1> sum_e s(phi'_a2 phi_a3)_e Q_{a0a1a2e}(l),

P(1) = Q(1) = 0, R_{cd;ab}(l) = lim (1/n) E[sum_km phi_k;c phi'_k;a H_km;ab phi'_m;b phi_m;d]
(the P of :mod:`nnqft.derive.ntk.two_inputs`) and B(a1a2a3a4) = n E[H_ij;a1a2 H_ij;a3a4]
(i != j) from the same recursions.  The last terms come from dH_{122} being linear in neuron
1's row (and dH_{112} in neuron 2's): E[f(z_1) h(z_2) dH_{122;a0a1a2}] = sum_e s(f)_e <h>
P_{a0a1a2e}/n.  No phi'' is evaluated: phi''_a times a product with phi_a^p phi'_a^q is
[d_a(phi_a^p phi'_a^(q+1) ...) - p phi_a^(p-1) phi'_a^(q+2) ...]/(q+1), and the means of
derivatives are Stein's lemma on the plane rule (kinks are panel edges).  The explicit phi''
comes from differentiating one network's NTK along the step, so for a piecewise-linear phi
(ReLU, leaky ReLU) it is the derivative within the network's linear piece, 0 almost surely:
those terms are dropped (the delta phi'' would carry at the kink is the jump of the NTK
between pieces, which a derivative does not see; for one input it contributes nothing, for
two it would: <phi(u_2) delta(u_1)> != 0).  The Stein terms are Gaussian integrations by
parts of means, where the kink's jump in phi' is kept.

The means are over the plane rule of :mod:`.two_inputs`: one per layer, shared with the mean
corrections when both run through :func:`two_input_statistics` (as ``nnqft ntk --c0`` does),
and all 32 products a layer needs in one batched sum over the rule's grid.

>>> from nnqft.rules.network import Network
>>> rows = dntk_two_input_statistics(Network("feedforward", "linear", 1.0, 0.0), 0.5, 3,
...                                  lambda_b=0.0)
>>> [round(r["P"][0][0][0][0], 9) for r in rows]     # the one-input P of a linear net
[0.0, 2.0, 8.0]
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from ...errors import InvalidParameter
from ...rules.network import Network, numeric_variances, require_network, resolve_depth
from .kernel import check_correlation, learning_rates
from .two_inputs import PlaneCache, _Plane, _stein2, correction_rows
from .variance import _check_tails

__all__ = ["dntk_two_input_statistics", "two_input_statistics", "component_keys"]

_QUADS = tuple(np.ndindex(2, 2, 2, 2))


def component_keys() -> list[str]:
    """The 16 index strings a0a1a2a3 (inputs 1, 2) in the order of ``np.ndindex(2, 2, 2, 2)``.

    >>> component_keys()[:3]
    ['1111', '1112', '1121']
    """
    return ["".join(str(i + 1) for i in q) for q in _QUADS]


#: outer nodes per block of :func:`_grid_integrals`: its temporaries stay ~10 MB, memory the
#: allocator reuses (a fresh array of the whole grid costs a page fault per 4 kB)
_BLOCK = 128


def _grid_integrals(plane: _Plane, keys) -> dict:
    """:meth:`_Plane.integrals` of the products ``keys`` (sorted factor tuples), without
    forming them on the N nodes.  The nodes are a grid, outer (u_1) x inner (u_2 given
    u_1), and phi_1, phi'_1 depend on the outer node alone; so the inner sums of each
    distinct part in input 2 (12 for the 32 products of a layer) are taken against the
    (15, N) basis in one batched matrix product, and the outer factors after, on the
    outer nodes.  (Forming the 32 products on the nodes cost most of the dNTK's time.)"""
    n1, n2 = plane.grid
    parts = sorted({_part(key, 1) for key in keys})
    basis = plane.basis.reshape(-1, n1, n2)
    inner_values = {"p": plane.p[1].reshape(n1, n2), "d": plane.d[1].reshape(n1, n2)}
    sums = np.empty((n1, basis.shape[0], len(parts)))
    with np.errstate(over="ignore", invalid="ignore"):
        for lo in range(0, n1, _BLOCK):  # blocks of outer nodes: the same sums, node by node
            block = slice(lo, lo + _BLOCK)
            values = {kind: v[block] for kind, v in inner_values.items()}
            inner = np.stack([_nodal(part, values) for part in parts], axis=-1)
            # sums[i, alpha, q] = sum_j basis[alpha, i, j] inner[i, j, q]
            np.matmul(basis[:, block].transpose(1, 0, 2), inner, out=sums[block])
        return {
            key: _nodal(_part(key, 0), plane.outer) @ sums[:, :, parts.index(_part(key, 1))]
            for key in keys
        }


def _part(key, a: int) -> tuple:
    """The factors of input ``a`` in the product ``key``."""
    return tuple(f for f in key if f[1] == a)


def _nodal(factors, values: dict) -> np.ndarray:
    """The product of ``factors`` (("p" | "d", a), one input) from ``values[kind]`` (arrays
    of one shape)."""
    F = np.ones(next(iter(values.values())).shape)
    for kind, _ in factors:
        F = F * values[kind]
    return F


def _products() -> list[tuple]:
    """The products a layer of the recursions takes means of, as sorted factor tuples of
    ("p", a) = phi_a and ("d", a) = phi'_a: all of two or of four factors with at most two
    phi (32; the terms of the module docstring, with phi'' by parts, need no others)."""
    factors = (("d", 0), ("d", 1), ("p", 0), ("p", 1))
    keys = itertools.chain.from_iterable(
        itertools.combinations_with_replacement(factors, n) for n in (2, 4)
    )
    return [k for k in keys if sum(kind == "p" for kind, _ in k) <= 2]


class _Means:
    """Gaussian means of products of phi_a and phi'_a over the plane rule, their Stein
    vectors, and the same with one phi''_a (by parts, without phi'')."""

    def __init__(self, plane: _Plane, ddphi: bool = True):
        self.plane = plane
        self.ddphi = ddphi  # False: phi'' = 0 almost everywhere (piecewise-linear phi)
        self.cache: dict = _grid_integrals(plane, _products())

    def row(self, factors) -> np.ndarray:
        key = tuple(sorted(factors))
        if key not in self.cache:  # not one of _products(): on its own
            self.cache |= _grid_integrals(self.plane, [key])
        return self.cache[key]

    def mean(self, factors) -> float:
        return float(self.row(factors)[0])

    def stein(self, factors) -> np.ndarray:
        """<d_e prod> for e = 1, 2."""
        return self.row(factors)[10:12]

    def with_ddphi(self, a: int, factors):
        """(<phi''_a prod>, <d_e (phi''_a prod)>) for the product ``factors``."""
        if not self.ddphi:
            return 0.0, np.zeros(2)
        p = sum(1 for f in factors if f == ("p", a))
        q = sum(1 for f in factors if f == ("d", a))
        rest = [f for f in factors if f[1] != a]
        r1 = self.row([("p", a)] * p + [("d", a)] * (q + 1) + rest)
        mean, stein = r1[10 + a], _stein2(r1)[:, a].copy()
        if p:
            r2 = self.row([("p", a)] * (p - 1) + [("d", a)] * (q + 2) + rest)
            mean, stein = mean - p * r2[0], stein - p * r2[10:12]
        return mean / (q + 1), stein / (q + 1)


def dntk_two_input_statistics(
    net: Network, c0, depth: int | None = None, lambda_b=1.0, lambda_W=1.0
) -> list[dict]:
    """PDLT's P_{a0a1a2a3}(l) and Q_{a0a1a2a3}(l) of the two-input dNTK per layer (module
    docstring).

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
        Per layer ``layer``, ``K`` and ``ntk`` (2x2, infinite width), ``P`` and ``Q``
        (nested 2x2x2x2 lists indexed [a0][a1][a2][a3], inputs 0-based) with
        E[dH_{i0i1i2;a0a1a2} z_{i3;a3}] = [d_i0i3 d_i1i2 P_{a0a1a2a3} + d_i0i1 d_i2i3
        Q_{a0a1a2a3} + d_i0i2 d_i1i3 Q_{a0a2a1a3}]/n + O(1/n^2).

    Examples
    --------
    >>> from nnqft.rules.network import Network
    >>> rows = dntk_two_input_statistics(Network("feedforward", "tanh", 1.5, 0.05), 0.5, 3)
    >>> round(rows[-1]["Q"][0][0][0][0], 6)                  # the one-input Q(3)
    -4.161037
    """
    return list(dntk_rows(net, c0, depth, lambda_b, lambda_W, PlaneCache()))


def two_input_statistics(net: Network, c0, depth=None, lambda_b=1.0, lambda_W=1.0, dntk=True):
    """:func:`~nnqft.derive.ntk.two_inputs.ntk_two_input_corrections` and
    :func:`dntk_two_input_statistics` of one net together, layer by layer in lockstep, so
    that each layer's plane rule is built once for both (they need the same rule for the
    same kernel).  Returns (corrections, dntk): each the list of rows, or the
    InvalidParameter that stopped it (the other goes on alone); ``dntk=False`` leaves the
    dNTK out ([]).

    >>> from nnqft.rules.network import Network
    >>> corr, dn = two_input_statistics(Network("feedforward", "tanh", 1.5, 0.05), 0.5, 3)
    >>> round(corr[-1]["ntk_correction"][0][0], 6), round(dn[-1]["Q"][0][0][0][0], 6)
    (0.051543, -4.161037)
    """
    planes = PlaneCache()
    streams = {0: correction_rows(net, c0, depth, lambda_b, lambda_W, planes)}
    if dntk:
        streams[1] = dntk_rows(net, c0, depth, lambda_b, lambda_W, planes)
    results: list = [[], []]
    while streams:
        for i, stream in list(streams.items()):
            try:
                results[i].append(next(stream))
            except StopIteration:
                del streams[i]
            except InvalidParameter as err:
                results[i] = err
                del streams[i]
    return results[0], results[1]


def dntk_rows(net: Network, c0, depth, lambda_b, lambda_W, planes: PlaneCache):
    """The rows of :func:`dntk_two_input_statistics`, one layer at a time, each layer's
    plane rule from ``planes``."""
    require_network(net, arch="feedforward", what="the two-input dNTK")
    cw, cb, q0 = numeric_variances(net, "the two-input dNTK")
    c0 = check_correlation(c0)
    T = resolve_depth(net, depth)
    lb, lw = learning_rates(lambda_b, lambda_W)
    if c0 == 1.0:
        yield from _identical_inputs(net, T, lb, lw)
        return
    act = net.activation
    if act.kink_points and not act.is_scale_invariant:
        raise InvalidParameter(
            f"the two-input dNTK of {act.name!r}: a kinked activation is handled only when it "
            "is piecewise linear (phi'' = 0 away from the kinks)"
        )
    k11 = cb + cw * q0
    if k11 <= 0:
        raise InvalidParameter(
            "the first-layer variance sigma_b2 + sigma_w2*q0 must be positive; "
            "a zero input with no bias gives z = 0 exactly"
        )
    K = np.array([[k11, cb + cw * q0 * c0], [cb + cw * q0 * c0, k11]])
    H = np.array([[lb + lw * q0, lb + lw * q0 * c0], [lb + lw * q0 * c0, lb + lw * q0]])
    P = np.zeros((2, 2, 2, 2))
    Q = np.zeros((2, 2, 2, 2))
    B = np.zeros((2, 2, 2, 2))  # B(a1 a2 a3 a4)(l)
    R_prev = np.zeros((2, 2, 2, 2))  # R_cd;ab(l-1), indices [c, d, a, b]
    checked = 0.0
    for layer in range(1, T + 1):
        yield {"layer": layer, "K": K.tolist(), "ntk": H.tolist(),
               "P": P.tolist(), "Q": Q.tolist()}  # fmt: skip
        if layer == T:
            break
        if min(K[0, 0], K[1, 1]) <= 0:
            raise InvalidParameter(f"the kernel K underflows to 0 at layer {layer}")
        if 1.0 - abs(K[0, 1]) / math.sqrt(K[0, 0] * K[1, 1]) < 1e-9:
            raise InvalidParameter(
                f"the kernel of the two inputs is degenerate (|correlation| = 1) at layer "
                f"{layer}; the two-input dNTK needs distinct inputs (c0 = 1 is one input)"
            )
        if max(K[0, 0], K[1, 1]) > checked and not act.is_scale_invariant:
            _check_tails(act, max(K[0, 0], K[1, 1]))
            checked = max(K[0, 0], K[1, 1])
        plane = planes.get(act, K)
        M = _Means(plane, ddphi=not act.kink_points)
        p, d = ("p",), ("d",)

        def f(*spec):
            return [(kind[0], a) for kind, a in spec]

        # R(l): the two-input P of two_inputs.py
        R = np.zeros((2, 2, 2, 2))
        for c, e, a, b in _QUADS:
            off = M.stein(f((p, c), (d, a))) @ R_prev[:, :, a, b] @ M.stein(f((d, b), (p, e)))
            R[c, e, a, b] = M.mean(f((p, c), (p, e), (d, a), (d, b))) * H[a, b] + cw**2 * off
        Pn, Qn = np.zeros((2, 2, 2, 2)), np.zeros((2, 2, 2, 2))
        for a0, a1, a2, a3 in _QUADS:
            dd1 = M.with_ddphi(a1, f((p, a3), (d, a0), (d, a2)))[0]
            dd2 = M.with_ddphi(a2, f((p, a3), (d, a0), (d, a1)))[0]
            diag = cw**2 * (dd1 * H[a0, a1] + dd2 * H[a0, a2]) * H[a1, a2]
            # P
            s_g = M.stein(f((p, a3), (d, a0)))
            s_h1 = M.with_ddphi(a1, f((d, a2)))[1]
            s_h2 = M.with_ddphi(a2, f((d, a1)))[1]
            Pn[a0, a1, a2, a3] = (
                lw * cw * (R[a3, a2, a0, a1] + R[a3, a1, a0, a2])
                + diag
                + cw**4 * H[a1, a2] * (s_g @ R_prev[:, :, a0, a1] @ s_h1
                                       + s_g @ R_prev[:, :, a0, a2] @ s_h2)
                + cw**2 * M.mean(f((d, a1), (d, a2))) * (s_g @ P[a0, a1, a2, :])
            )  # fmt: skip
            # Q
            dd_pair = M.mean(f((d, a0), (d, a1)))
            s_k = M.with_ddphi(a1, f((d, a0)))[1]
            s_l = M.stein(f((d, a2), (p, a3)))
            Qn[a0, a1, a2, a3] = (
                lw * cw * R[a0, a3, a1, a2]
                + diag
                + cw**4 * H[a0, a1] * (s_k @ R_prev[:, :, a1, a2] @ s_l)
                + cw**2 * B[a0, a2, a1, a2] * dd_pair * M.with_ddphi(a2, f((p, a3)))[0]
                + cw**2 * dd_pair * (s_l @ Q[a0, a1, a2, :])
            )
        # the next layer's K, H, B (the recursions of two_inputs.py)
        # from the same integrals as the mean corrections' step: the same next kernel, bit
        # for bit, so that the shared plane rule of the next layer is found in `planes`
        m_pp, m_dd = (_symmetric(I[:, 0]) for I in plane.pair_integrals())
        Bn = np.zeros((2, 2, 2, 2))
        for a1, a2, a3, a4 in _QUADS:
            four = M.mean(f((d, a1), (d, a2), (d, a3), (d, a4)))
            Bn[a1, a2, a3, a4] = cw**2 * (
                four * H[a1, a2] * H[a3, a4] + m_dd[a1, a3] * m_dd[a2, a4] * B[a1, a2, a3, a4]
            )
        H = lb + lw * m_pp + cw * m_dd * H
        K = cb + cw * m_pp
        P, Q, B, R_prev = Pn, Qn, Bn, R
        values = np.concatenate([K.ravel(), H.ravel(), P.ravel(), Q.ravel(), B.ravel()])
        if not np.all(np.isfinite(values) & (np.abs(values) < 1e300)):
            raise InvalidParameter(
                f"the two-input dNTK at layer {layer + 1} is beyond the floating-point range; "
                "use a smaller depth or sigma_w2"
            )


def _symmetric(v) -> np.ndarray:
    """(11, 22, 12), the order of two_inputs.PAIRS, -> the symmetric 2x2 matrix."""
    v11, v22, v12 = v
    return np.array([[v11, v12], [v12, v22]])


def _identical_inputs(net, T, lb, lw) -> list[dict]:
    """c0 = 1: both inputs are the same, every component is the one-input value."""
    from .dntk import dntk_statistics

    def same(v):
        return np.full((2, 2, 2, 2), float(v)).tolist()

    return [
        {"layer": r["layer"], "K": np.full((2, 2), r["K"]).tolist(),
         "ntk": np.full((2, 2), r["ntk"]).tolist(), "P": same(r["P"]), "Q": same(r["Q"])}
        for r in dntk_statistics(net, T, lb, lw)
    ]  # fmt: skip
