"""The MSRDJ field theory of a random network, derived by the engine (docs/conventions.md §2-3).

The chain, one module a link:

* :mod:`~nnqft.rules.action.objects`: the fields (``z[i, t]``, ``zt[i, t]``, printed z_i(t)
  and \\tilde z_i(t); a replica index is a third index), the index labels and the
  integrals and averages as sympy functions (:class:`GaussianMean`, ...);
* :mod:`~nnqft.rules.action.msrdj`: the update rule and the MSRDJ action (and its sign
  convention, :data:`SIGN_CONVENTION`);
* :mod:`~nnqft.rules.action.disorder`: the average over W and b by the generic Gaussian
  rule applied to the coefficients the engine reads off the action;
* :mod:`~nnqft.rules.action.collective`: the collective fields Q, Qt, the saddle point
  (the mean-field maps) and the two-replica distance recursion (chi_1, lambda_max).

Nothing is typed in: Kronecker deltas are contracted, sums merged and factorised into
neuron traces by the index algebra of :mod:`nnqft.algebra`.  A concrete activation
(closed-form kernels, numbers) is put in by :mod:`nnqft.derive.meanfield.saddle`.

>>> import sympy as sp
>>> from nnqft.rules.network import Network
>>> net = Network("feedforward", "tanh")
>>> vertex = disorder_average(net)
>>> sp.srepr(vertex).count("KroneckerDelta")     # every delta has been contracted
0
>>> sorted(str(v) for v in saddle_point(net).maps["length"].free_symbols)
['q', 'sigma_b2', 'sigma_w2']
"""

from .collective import (
    CollectiveFields,
    DistanceRecursion,
    SaddlePoint,
    average,
    collective_fields,
    distance_recursion,
    saddle_point,
)
from .disorder import (
    GaussianFamily,
    averaged_action,
    disorder_average,
    disorder_families,
    gaussian_average,
    linear_coefficient,
)
from .msrdj import SIGN_CONVENTION, SIGN_CONVENTION_TEXT, msrdj_action, update_rule
from .objects import (
    NEURON,
    PHI_OF_INPUT,
    REPLICA,
    TIME,
    Z_1,
    Average,
    B,
    BivariateGaussianMean,
    DisorderAverage,
    GaussianMean,
    K,
    PathIntegral,
    Q,
    Qt,
    S_eff,
    W,
    b,
    chi_1,
    d,
    field,
    lambda_max,
    phi,
    q_star,
    qf,
    replica_index,
    u,
    u1,
    u2,
    x,
    z,
    z1,
    zt,
    zt1,
)

__all__ = [
    # objects
    "NEURON",
    "TIME",
    "REPLICA",
    "z",
    "zt",
    "W",
    "b",
    "x",
    "phi",
    "K",
    "B",
    "Q",
    "Qt",
    "z1",
    "zt1",
    "qf",
    "d",
    "S_eff",
    "Z_1",
    "chi_1",
    "lambda_max",
    "q_star",
    "u",
    "u1",
    "u2",
    "PHI_OF_INPUT",
    "PathIntegral",
    "DisorderAverage",
    "Average",
    "GaussianMean",
    "BivariateGaussianMean",
    "replica_index",
    "field",
    # msrdj
    "SIGN_CONVENTION",
    "SIGN_CONVENTION_TEXT",
    "update_rule",
    "msrdj_action",
    # disorder
    "GaussianFamily",
    "disorder_families",
    "linear_coefficient",
    "gaussian_average",
    "disorder_average",
    "averaged_action",
    # collective
    "CollectiveFields",
    "collective_fields",
    "average",
    "SaddlePoint",
    "saddle_point",
    "DistanceRecursion",
    "distance_recursion",
]
