"""Algebra the theory is written in, but which is not itself theory: sums over indices.

:mod:`nnqft.algebra.indices` names the kinds of summation indices (neurons, times,
replicas); :mod:`nnqft.algebra.sums` flattens, contracts, canonicalises, merges and
differentiates sums over them.  It imports nothing of the rest of nnqft, so
:mod:`nnqft.rules` can build on it (algebra <- rules <- diagrams <- derive).

>>> import sympy as sp
>>> from nnqft.algebra import NEURON, normal_form
>>> N = sp.Symbol("N")
>>> normal_form(sp.Sum(sp.IndexedBase("x")[NEURON[0]], (NEURON[0], 1, N)))[0].limits
((i, 1, N),)
"""

# every public name of the two modules, listed once, in their own __all__
from . import indices, sums
from .indices import *  # noqa: F403
from .sums import *  # noqa: F403

__all__ = [*indices.__all__, *sums.__all__]
