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

from .indices import (
    INDEX_ASSUMPTIONS,
    NEURON,
    REPLICA,
    TIME,
    fresh_index,
    index_order,
    is_neuron,
    pool_of,
)
from .sums import (
    FIELD_NAMES,
    FIELD_RANK,
    Term,
    element_diff,
    flat_terms,
    is_field_factor,
    monomials,
    normal_form,
    rename_apart,
    simplify_sums,
)

__all__ = [
    "INDEX_ASSUMPTIONS",
    "NEURON",
    "TIME",
    "REPLICA",
    "pool_of",
    "fresh_index",
    "index_order",
    "is_neuron",
    "Term",
    "FIELD_RANK",
    "FIELD_NAMES",
    "rename_apart",
    "flat_terms",
    "monomials",
    "normal_form",
    "simplify_sums",
    "is_field_factor",
    "element_diff",
]
