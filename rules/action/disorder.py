"""The average over the weights and biases: the generic Gaussian rule (docs/conventions.md §2).

The weights and biases are centred Gaussian families (:func:`disorder_families`); the
engine reads off the coefficient of each family in the action
(:func:`linear_coefficient`) and applies ``<exp(sum_k a_k x_k)> = exp(1/2 sum_kl a_k C_kl
a_l)`` (:func:`gaussian_average`); the index algebra of :mod:`nnqft.algebra` contracts
the deltas and merges the sums (:func:`disorder_average`, :func:`averaged_action`).

>>> from nnqft.rules.network import Network
>>> averaged_action(Network("feedforward", "tanh")).has(W, b)
False
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import sympy as sp

from ...algebra.sums import flat_terms, monomials, rename_apart, simplify_sums
from ...errors import NnqftError
from ..network import Network
from .msrdj import msrdj_action
from .objects import NEURON, TIME, B, DisorderAverage, K, W, b

__all__ = [
    "GaussianFamily",
    "disorder_families",
    "linear_coefficient",
    "gaussian_average",
    "disorder_average",
    "averaged_action",
]


@dataclass(frozen=True)
class GaussianFamily:
    """Centred Gaussian variables ``base[indices]`` with covariance ``covariance`` between
    ``base[indices]`` and ``base[primed]`` (an expression in both index tuples)."""

    base: sp.IndexedBase
    indices: tuple
    primed: tuple
    limits: tuple  # (lower, upper) per index
    covariance: sp.Expr

    def moment(self) -> sp.Eq:
        """E[x_k x_k'] = C(k, k') as an equation (printed with the disorder average)."""
        return sp.Eq(
            DisorderAverage(self.base[self.indices] * self.base[self.primed]), self.covariance
        )


def disorder_families(net: Network, generic: bool = False) -> tuple[GaussianFamily, ...]:
    """The weights and biases as Gaussian families (docs/conventions.md §1).

    E[W_ij(t) W_kl(s)] = (sigma_w2/N) d_ik d_jl K(t,s), E[b_i(t) b_k(s)] = sigma_b2 d_ik B(t,s)
    with K = B = delta for feedforward nets, K = 1 for recurrent nets (one W for all t) and
    B = 1 (shared bias) or delta (fresh bias).  ``generic`` keeps K and B as functions.

    >>> disorder_families(Network("recurrent", "tanh", bias="fresh"))[1].covariance
    sigma_b2*KroneckerDelta(i, k)*KroneckerDelta(s, t)
    """
    i, j, k, l = NEURON[:4]
    t, s = TIME[:2]
    n = net.width
    if generic:
        kt, bt = K(t, s), B(t, s)
    else:
        delta = sp.KroneckerDelta(t, s)
        kt = delta if net.arch == "feedforward" else sp.Integer(1)
        bt = sp.Integer(1) if net.bias == "shared" else delta
    wf = GaussianFamily(
        W,
        (i, j, t),
        (k, l, s),
        ((1, n), (1, n), (1, net.depth)),
        net.sigma_w2 / n * sp.KroneckerDelta(i, k) * sp.KroneckerDelta(j, l) * kt,
    )
    bf = GaussianFamily(
        b,
        (i, t),
        (k, s),
        ((1, n), (1, net.depth)),
        net.sigma_b2 * sp.KroneckerDelta(i, k) * bt,
    )
    return wf, bf


def linear_coefficient(action: sp.Expr, family: GaussianFamily) -> tuple[sp.Expr, sp.Expr]:
    """Split ``action`` = sum_k a_k x_k + rest for the family's variables x; return (a, rest).

    ``a`` is an expression in the family's generic indices (sums over the action's other
    indices kept).  Raises :class:`NnqftError` if the action is not linear in the family.
    """
    reserved = set(family.indices) | set(family.primed)
    coeff, rest = [], []
    for term in flat_terms(action, reserved):
        for mono in monomials(rename_apart(term, set(reserved))):
            occ = [a for a in mono.summand.atoms(sp.Indexed) if a.base == family.base]
            if not occ:
                rest.append(sp.Sum(mono.summand, *mono.limits) if mono.limits else mono.summand)
                continue
            if len(occ) != 1 or sp.degree(mono.summand, occ[0]) != 1:
                raise NnqftError(f"the action is not linear in {family.base}")
            (var,) = occ
            dummies = mono.dummies
            if any(e not in dummies for e in var.indices) or len(set(var.indices)) != len(
                var.indices
            ):
                raise NnqftError(f"{var} is not summed over all its indices")
            mapping = dict(zip(var.indices, family.indices))
            remaining = tuple(lim for lim in mono.limits if lim[0] not in mapping)
            body = sp.diff(mono.summand, var).xreplace(mapping)
            coeff.append(sp.Sum(body, *remaining) if remaining else body)
    return sp.Add(*coeff), sp.Add(*rest)


def gaussian_average(coefficient: sp.Expr, family: GaussianFamily) -> sp.Expr:
    """The Gaussian rule <exp(sum_k a_k x_k)> = exp(1/2 sum_{k,k'} a_k C_{kk'} a_k'),
    returned as the exponent 1/2 sum a C a (unsimplified: sums and deltas as they come).

    >>> from nnqft.rules.action.objects import zt
    >>> fam = disorder_families(Network("feedforward", "tanh"))[1]
    >>> simplify_sums(gaussian_average(zt[fam.indices], fam))
    sigma_b2*Sum(zt[i, t]**2, (i, 1, N), (t, 1, T))/2
    """
    primed = coefficient.xreplace(dict(zip(family.indices, family.primed)))
    limits = [(v, lo, hi) for v, (lo, hi) in zip(family.indices, family.limits)]
    limits += [(v, lo, hi) for v, (lo, hi) in zip(family.primed, family.limits)]
    return sp.Rational(1, 2) * sp.Sum(coefficient * family.covariance * primed, *limits)


@functools.lru_cache(maxsize=64)
def disorder_average(net: Network, replicas: int = 1, generic: bool = False) -> sp.Expr:
    """The terms the average over W and b adds to the action, simplified.

    For one replica: (sigma_w2/2N) sum_{t,s} K(t,s) (zt(t).zt(s)) (phi(t-1).phi(s-1)) +
    (sigma_b2/2) sum_{t,s} B(t,s) zt(t).zt(s), with K and B contracted for ``net``.
    """
    action = msrdj_action(net, replicas)
    total = sp.Integer(0)
    for fam in disorder_families(net, generic):
        coeff, _ = linear_coefficient(action, fam)
        total += gaussian_average(coeff, fam)
    return simplify_sums(total, merge=False)


@functools.lru_cache(maxsize=64)
def averaged_action(net: Network, replicas: int = 1, generic: bool = False) -> sp.Expr:
    """The action after the disorder average: the W, b-free part plus :func:`disorder_average`."""
    action = msrdj_action(net, replicas)
    rest = action
    for fam in disorder_families(net, generic):
        _, rest = linear_coefficient(rest, fam)
    return simplify_sums(rest, merge=False) + disorder_average(net, replicas, generic)
