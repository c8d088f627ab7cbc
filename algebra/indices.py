"""Summation indices and their kinds: neurons, times, replicas.

An index's kind decides which names it may take when the algebra renames it: a neuron
index is one of i, j, k, l, m, n (then i1, i2, ...), a time index one of t, s, u, v, r, p
(then t1, ...), a replica index one of alpha, beta, gamma, delta (then alpha1, ...).

>>> pool_of((TIME[0], 1, sp.Symbol("T")))[0]
t
>>> fresh_index(NEURON, set(NEURON[:2]))
k
"""

from __future__ import annotations

import itertools
import re

import sympy as sp

__all__ = [
    "INDEX_ASSUMPTIONS",
    "NEURON",
    "TIME",
    "REPLICA",
    "pool_of",
    "fresh_index",
    "index_order",
    "is_neuron",
]

#: every summation index is a positive integer symbol
INDEX_ASSUMPTIONS = dict(integer=True, positive=True)
#: index pools by kind; the kind of a summation index is read off its name or upper limit
NEURON = tuple(sp.Symbol(n, **INDEX_ASSUMPTIONS) for n in "ijklmn")
TIME = tuple(sp.Symbol(n, **INDEX_ASSUMPTIONS) for n in "tsuvrp")
REPLICA = tuple(sp.Symbol(n, **INDEX_ASSUMPTIONS) for n in ("alpha", "beta", "gamma", "delta"))


def _pool_for(upper) -> tuple:
    if getattr(upper, "is_Symbol", False) and upper.name == "N":
        return NEURON
    if getattr(upper, "is_Symbol", False) and upper.name == "T":
        return TIME
    if upper.is_Integer and int(upper) <= 4:
        return REPLICA
    # a numeric width or depth: decide by the symbol names the network uses
    return NEURON


def pool_of(lim) -> tuple:
    """The kind (pool) of the summation index of ``lim = (var, lower, upper)``.

    By the pool its name comes from (the algebra only sums over pool symbols and their
    numbered fresh copies), else by its upper limit: N neurons, T times, at most 4 replicas.

    Parameters
    ----------
    lim : tuple
        A sympy summation limit ``(var, lower, upper)``.

    Returns
    -------
    tuple of sympy.Symbol
        :data:`NEURON`, :data:`TIME` or :data:`REPLICA`.

    Examples
    --------
    >>> pool_of((sp.Symbol("alpha3"), 1, 2)) is REPLICA
    True
    >>> pool_of((sp.Symbol("a"), 1, sp.Symbol("T"))) is TIME
    True
    """
    var, _, upper = lim
    for pool in (NEURON, TIME, REPLICA):
        if var in pool or re.fullmatch(rf"{pool[0].name}\d+", var.name):
            return pool
    return _pool_for(upper)


def fresh_index(pool: tuple, used: set) -> sp.Symbol:
    """The first name of ``pool`` not in ``used`` (then numbered copies: t1, t2, ...).

    Parameters
    ----------
    pool : tuple of sympy.Symbol
        The pool to draw from.
    used : set of sympy.Symbol
        Names already taken.

    Returns
    -------
    sympy.Symbol
        A new index with the pool's assumptions.

    Examples
    --------
    >>> fresh_index(TIME, set(TIME))
    t1
    """
    for sym in pool:
        if sym not in used:
            return sym
    for n in itertools.count(1):
        sym = sp.Symbol(f"{pool[0].name}{n}", **INDEX_ASSUMPTIONS)
        if sym not in used:
            return sym
    raise AssertionError("unreachable")  # pragma: no cover


def index_order(sym) -> int:
    """The position of ``sym`` in its pool (99 for any other symbol), for sorting.

    Parameters
    ----------
    sym : sympy.Symbol
        Any symbol.

    Returns
    -------
    int

    Examples
    --------
    >>> index_order(TIME[1]), index_order(sp.Symbol("x"))
    (1, 99)
    """
    for pool in (NEURON, TIME, REPLICA):
        if sym in pool:
            return pool.index(sym)
    return 99


def is_neuron(lim) -> bool:
    """True when the limit ``(var, lower, upper)`` sums over neurons.

    Parameters
    ----------
    lim : tuple
        A sympy summation limit ``(var, lower, upper)``.

    Returns
    -------
    bool

    Examples
    --------
    >>> is_neuron((NEURON[0], 1, sp.Symbol("N"))), is_neuron((TIME[0], 1, sp.Symbol("T")))
    (True, False)
    """
    return pool_of(lim) is NEURON
