"""The MSRDJ construction: the update rule and the action it gives (docs/conventions.md §2).

**Sign convention.** The update rule is enforced by
``1 = int dz dzt/(2 pi i) exp(-zt (z - W phi - b))`` with ``zt`` integrated along the
imaginary axis, so the action is ``S = -sum_{i,t} zt_i(t) (z_i(t) - sum_j W_ij(t)
phi(z_j(t-1)) - b_i(t))`` and the weight enters as ``+W zt phi``.  With this sign the
disorder average adds ``+1/2 a^T C a`` to the exponent (see
:func:`nnqft.rules.action.disorder.gaussian_average`).

>>> from nnqft.rules.network import Network
>>> msrdj_action(Network("feedforward", "tanh")).has(W)
True
"""

from __future__ import annotations

import sympy as sp

from ..network import Network
from .objects import NEURON, TIME, W, b, field, phi, replica_index, z, zt

__all__ = ["SIGN_CONVENTION", "SIGN_CONVENTION_TEXT", "update_rule", "msrdj_action"]

#: the one sign convention for the response field, stated in every derivation
SIGN_CONVENTION = (
    r"The response field $\tilde z$ is integrated along the imaginary axis and enters as "
    r"$e^{-\tilde z\,(z - W\phi - b)}$, so a Gaussian average adds $+\frac12 a^{\mathsf T} C a$ "
    r"to the exponent."
)

#: the same convention in plain text (for terminals and JSON)
SIGN_CONVENTION_TEXT = (
    "zt is integrated along the imaginary axis and enters as exp(-zt (z - W phi - b)), "
    "so a Gaussian average adds +1/2 a^T C a to the exponent"
)


def update_rule(net: Network, time_resolved: bool = False) -> sp.Eq:
    """The network's update rule z_i(t) = sum_j W_ij phi(z_j(t-1)) + b_i as an equation.

    ``time_resolved`` writes the recurrent weights as W_ij(t) (equal for all t), the form
    the action uses; the input enters through :data:`PHI_OF_INPUT`.

    >>> update_rule(Network("recurrent", "tanh", bias="shared"))
    Eq(z[i, t], b[i] + Sum(phi(z[j, t - 1])*W[i, j], (j, 1, N)))
    """
    i, j = NEURON[:2]
    t = TIME[0]
    rec = net.arch == "recurrent" and not time_resolved
    w = W[i, j] if rec else W[i, j, t]
    bias = b[i] if rec and net.bias == "shared" else b[i, t]
    return sp.Eq(z[i, t], sp.Sum(w * phi(z[j, t - 1]), (j, 1, net.width)) + bias)


def msrdj_action(net: Network, replicas: int = 1) -> sp.Expr:
    """The MSRDJ action S = -sum_{i,t} zt_i(t) (z_i(t) - sum_j W_ij(t) phi(z_j(t-1)) - b_i(t)).

    With ``replicas=2`` two copies of the network (two inputs, the same W and b) carry a
    replica index alpha.  Z = int Dz Dzt exp(S) (sign convention: :data:`SIGN_CONVENTION`).

    >>> msrdj_action(Network("feedforward", "tanh")).limits
    ((i, 1, N), (t, 1, T))
    """
    a = replica_index(replicas)
    i, j = NEURON[:2]
    t = TIME[0]
    pre = sp.Sum(W[i, j, t] * phi(field(z, j, t - 1, a)), (j, 1, net.width))
    summand = -field(zt, i, t, a) * (field(z, i, t, a) - pre - b[i, t])
    limits = [(i, 1, net.width), (t, 1, net.depth)] + ([(a, 1, 2)] if a is not None else [])
    return sp.Sum(summand, *limits)
