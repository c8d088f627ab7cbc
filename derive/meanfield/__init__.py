"""Mean-field theory (docs/conventions.md §3): the length and correlation maps and the chi's
(:mod:`.maps`), fixed points, depth scales and phases (:mod:`.fixed_point`), the edge of
chaos (:mod:`.criticality`) and the phase diagram (:mod:`.phase`).

>>> from nnqft.derive.meanfield import fixed_point
>>> from nnqft.rules.network import Network
>>> fixed_point(Network("feedforward", "erf", sigma_w2=3.0, sigma_b2=0.0)).phase
'chaotic'
"""

from .criticality import CriticalLine, CriticalPoint, critical_line, critical_point
from .fixed_point import CRITICAL_TOL, QUADRATURE_TOL, MeanField, fixed_point
from .maps import (
    chi_1,
    chi_c,
    chi_parallel,
    correlation_map,
    correlation_trajectory,
    length_map,
    q_trajectory,
)

__all__ = [
    "CRITICAL_TOL",
    "QUADRATURE_TOL",
    "MeanField",
    "CriticalPoint",
    "CriticalLine",
    "fixed_point",
    "critical_point",
    "critical_line",
    "length_map",
    "correlation_map",
    "q_trajectory",
    "correlation_trajectory",
    "chi_1",
    "chi_c",
    "chi_parallel",
]
