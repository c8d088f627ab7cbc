"""Fluctuations of the collective fields about the saddle point: the 1/N expansion of
nonlinear networks by Feynman diagrams (docs/conventions.md §8).

>>> from nnqft.rules.network import Network
>>> rows = feedforward_correlators(Network("feedforward", "relu", 2.0, 0.0, q0=1.0), 3)
>>> [row["mean"][1] for row in rows]     # relu: no 1/N shift of E z^2 (scale invariance)
[0.0, 0.0, 0.0]
"""

from .cumulants import generating_function
from .feedforward import feedforward_correlators, feedforward_theory, layer_action
from .recurrent import recurrent_correlators, recurrent_theory
from .theory import FluctuationTheory, diagram_value, diagrams_at, one_point, two_point

__all__ = [
    "generating_function",
    "feedforward_correlators",
    "feedforward_theory",
    "layer_action",
    "recurrent_correlators",
    "recurrent_theory",
    "FluctuationTheory",
    "diagram_value",
    "diagrams_at",
    "one_point",
    "two_point",
]
