"""The neural tangent kernel at infinite width (docs/conventions.md §10): numbers per layer
(:mod:`.kernel`), sympy per layer and closed forms in the layer index (:mod:`.symbolic`), and its
fluctuations across initialisations at O(1/n) (:mod:`.variance`), the dNTK's P and Q at O(1/n)
(:mod:`.dntk`; two inputs: :mod:`.dntk_two_inputs`), the mean correction and fluctuations
of two inputs' 2x2 NTK (:mod:`.two_inputs`), and the 1/N series of the mean NTK of the linear
recurrent net from its diagrams (:mod:`.recurrent_correction`).

>>> from nnqft.derive.ntk import ntk_trajectory
>>> from nnqft.rules.network import Network
>>> ntk_trajectory(Network("feedforward", "linear", 1.0, 0.0), 3)[-1]["ntk"]   # 3 (q0 + 1)
6.0
"""

from .dntk import dntk_statistics
from .dntk_two_inputs import dntk_two_input_statistics, two_input_statistics
from .kernel import check_correlation, learning_rates, ntk_trajectory
from .recurrent_correction import recurrent_ntk_coefficients, recurrent_ntk_correction
from .symbolic import ntk_closed_form, ntk_symbolic
from .two_inputs import ntk_two_input_corrections
from .variance import ntk_fluctuations

__all__ = [
    "ntk_trajectory",
    "ntk_symbolic",
    "ntk_closed_form",
    "ntk_fluctuations",
    "ntk_two_input_corrections",
    "recurrent_ntk_coefficients",
    "recurrent_ntk_correction",
    "dntk_statistics",
    "dntk_two_input_statistics",
    "two_input_statistics",
    "learning_rates",
    "check_correlation",
]
