"""The evaluator of Var Q(T) for the linear feedforward net: layer-pairing diagrams -> values.

Conventions: docs/conventions.md §4-5.

The diagrams are the reduced layer-pairing diagrams of
:mod:`nnqft.diagrams.layer_pairings` (every run of equal pairings of the four strands of
``(z1.z2)(z3.z4)`` one ladder).  A reduced diagram of order d is placed in a net of depth T
by choosing the source layers of its strands and the d levels where its pairing changes;
everything else follows.  Read off the rules (:func:`~nnqft.derive.loops.evaluate.placement`):
a W pair is worth ``sigma_w2 N^-1``, an index loop ``N``, a bias pair ``sigma_b2``; a strand
from layer L carries T - L W's.  With ``C(n, d)`` the ways to put d changes on n levels:

* four input strands: ``q0^2 sigma_w2^(2T) C(T, d)`` (levels 1..T);
* four strands from one bias b(L): ``sigma_b2^2 sum_L sigma_w2^(2(T-L)) C(T-L+1, d)``;
* an input pair and a bias pair b(L): ``q0 sigma_b2 sum_L sigma_w2^(2T-L) C(T-L+1, d)``;
* bias pairs b(L1), b(L) with L1 < L: ``sigma_b2^2 sum_L sum_L1 sigma_w2^(2T-L-L1) C(T-L+1, d)``,

each sum done in closed form by :func:`~nnqft.derive.loops.time_sums.sum_closed_form`
(symbolic T; valid for T >= 1).  The N power of a diagram is counted on an unreduced
realization (:func:`~nnqft.diagrams.layer_pairings.index_loops`) and checked to be the same
with every ladder one layer longer.  The coefficient ``V_d(T)`` of ``1/N^d`` is the sum of
the values of the diagrams of order d (:func:`variance_coefficients`).

>>> from nnqft.rules.feynman import get_rules
>>> from nnqft.rules.symbols import T, q0, sigma_b2, sigma_w2
>>> v = variance_coefficients(get_rules("linear-feedforward"), 1)
>>> sp.factor(v[1].subs(sigma_b2, 0))
2*T*q0**2*sigma_w2**(2*T)
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from fractions import Fraction

import sympy as sp

from ...diagrams.canonical import automorphism_count
from ...diagrams.layer_pairings import LayerDiagram, index_loops, layer_diagrams
from ...errors import InvalidParameter
from ...rules import symbols as S
from ...rules.feynman import FeynmanRules
from .evaluate import DiagramValue, Placement, coefficients_of, placement
from .time_sums import sum_closed_form, tidy

__all__ = [
    "LayerDiagramValue",
    "member_value",
    "variance_diagrams",
    "variance_coefficients",
]

#: the order of the symmetry group of (z1.z2)(z3.z4): swaps within each dot product and of
#: the two dot products
SYMMETRY_ORDER = 8


@dataclass(frozen=True)
class LayerDiagramValue(DiagramValue):
    """A class of layer-pairing diagrams of Var Q(T) with its value (the fields of
    :class:`~nnqft.derive.loops.evaluate.DiagramValue`): ``types`` holds the
    :meth:`~nnqft.diagrams.layer_pairings.LayerDiagram.code` of each member, ``chords`` the
    number of ladders (W pairs of the reduced graph), ``multiplicity`` the members (8 x the
    symmetry factor), ``value`` the class's contribution to the coefficient of 1/N^order."""

    family: str = "layer-pairing"

    @property
    def graph(self):
        """The reduced diagram of the class's first member as a ``networkx.MultiGraph``."""
        return LayerDiagram.from_code(self.types[0]).graph()


def _binomial(n: sp.Expr, d: int) -> sp.Expr:
    """C(n, d) as a polynomial in n (0 at the integers 0 <= n < d)."""
    return sp.expand(sp.expand_func(sp.binomial(n, d)))


@functools.lru_cache(maxsize=256)
def _pattern_value(pattern: str, d: int, p: Placement) -> sp.Expr:
    s, b, q0, T = S.sigma_w2, p.bias_value, S.q0, S.T
    L = sp.Symbol("L", integer=True)
    L1 = sp.Symbol("L1", integer=True)
    if pattern == "input":
        value = q0**2 * s ** (2 * T) * _binomial(T, d)
    elif pattern == "bias":
        value = sum_closed_form(b**2 * s ** (2 * (T - L)) * _binomial(T - L + 1, d), L, 1, T)
    elif pattern == "input+bias":
        value = sum_closed_form(q0 * b * s ** (2 * T - L) * _binomial(T - L + 1, d), L, 1, T)
    elif pattern == "bias+bias":
        inner = sum_closed_form(s ** (-L1), L1, 1, L - 1)
        summand = b**2 * s ** (2 * T - L) * inner * _binomial(T - L + 1, d)
        value = sum_closed_form(summand, L, 2, T)
    else:  # pragma: no cover - the generator's patterns
        raise InvalidParameter(f"unknown source pattern {pattern!r}")
    value = tidy(value, factor="denominator")
    return value if p.weight == S.sigma_w2 else value.subs(S.sigma_w2, p.weight)


def member_value(diagram: LayerDiagram, rules: FeynmanRules) -> sp.Expr:
    """The value of one reduced diagram: every placement of its source layers and of its
    changes of pairing summed, in closed form in T, without its power of N.

    >>> from nnqft.diagrams.layer_pairings import PAIRINGS
    >>> from nnqft.rules.feynman import get_rules
    >>> member_value(LayerDiagram("input", (PAIRINGS[1],)), get_rules("linear-feedforward"))
    T*q0**2*sigma_w2**(2*T)
    """
    return _pattern_value(diagram.pattern, diagram.deficit, placement(rules))


def _n_power(diagram: LayerDiagram, p: Placement) -> int:
    """The power of N of a diagram, counted on unreduced realizations (ladders of one and
    of two layers must agree: a ladder costs nothing)."""
    powers = set()
    for stretch in (1, 2):
        c = index_loops(*diagram.realize(stretch))
        # N per input path (x.x = N q0) and the 1/N^2 of Q^2
        powers.add(p.n_per_vertex * c["w_pairs"] + p.n_per_face * c["loops"] + c["input_paths"] - 2)
    if len(powers) != 1:  # pragma: no cover - the power counting of the generator
        raise InvalidParameter(f"a ladder changed the power of N of {diagram}")
    return powers.pop()


def variance_diagrams(rules: FeynmanRules, order: int) -> tuple[LayerDiagramValue, ...]:
    """Every class of layer-pairing diagrams of Var Q(T) through 1/N^order with its value.

    Parameters
    ----------
    rules : FeynmanRules
        The rules of the linear feedforward net (``get_rules("linear-feedforward")``).
    order : int
        The highest power of 1/N.

    Returns
    -------
    tuple of LayerDiagramValue
        Sorted by order; the values of one order sum to the coefficient of 1/N^order.

    Examples
    --------
    >>> from nnqft.rules.feynman import get_rules
    >>> ds = variance_diagrams(get_rules("linear-feedforward"), 2)
    >>> [(d.order, d.multiplicity, d.symmetry_factor) for d in ds][:2]
    [(1, 2, Fraction(1, 4)), (1, 2, Fraction(1, 4))]
    """
    p = placement(rules)
    classes: dict = {}
    for d in layer_diagrams(rules, order):
        classes.setdefault(d.id, []).append(d)
    out = []
    for key, members in classes.items():
        first = members[0]
        n_power = _n_power(first, p)
        value = len(members) * member_value(first, rules)
        out.append(
            LayerDiagramValue(
                id=key,
                order=-n_power,
                n_power=n_power,
                symmetry_factor=Fraction(1, automorphism_count(first.graph())),
                multiplicity=len(members),
                chords=sum(1 for *_, k in first.graph().edges(data="kind") if k == "disorder"),
                types=tuple(sorted(m.code() for m in members)),
                value=value,
                name=first.name,
            )
        )
    out.sort(key=lambda d: (d.order, d.types))
    return tuple(out)


def variance_coefficients(rules: FeynmanRules, order: int) -> dict[int, sp.Expr]:
    """``{d: V_d(T)}`` of ``Var Q(T) = sum_d V_d(T)/N^d`` (d = 0..order): the sum of the
    values of the diagrams of each order, in normal form.

    >>> from nnqft.rules.feynman import get_rules
    >>> variance_coefficients(get_rules("linear-feedforward"), 0)
    {0: 0}
    """
    return coefficients_of(variance_diagrams(rules, order), order)
