"""The evaluator: a diagram of the linear network x its Feynman rules -> its exact value.

Conventions: docs/conventions.md §4-5.

The diagrams of ``E Q(T)`` (Q = |z(T)|^2/N) are the Wick pairings of the W's along the two
response lines from the source (input x or a bias vector) to the readout z(T): each pair is
one double-trace vertex, each closed neuron-index loop a face.  Their skeletons are the
*reduced* chord diagrams of :func:`nnqft.diagrams.network.trace_diagrams`, every maximal
ladder of parallel pairs one chord; the evaluator resums the ladders and sums the
placements over the time labels in closed form (:mod:`nnqft.derive.loops.time_sums`).

Everything model-dependent is read off the :class:`~nnqft.rules.feynman.FeynmanRules`:

* the vertex coupling gives the weight of one W pair and its power of N (sigma_w2 and
  N^-1), the rules' ``n_per_index_loop`` the factor of a face (N), so a diagram with c
  chords and F faces carries N^(F - c - 1) (the 1/N of Q included): the power -d, d its
  deficit, which ladders do not change;
* the vertex's time kernel K(t, s) says which W's pair: K = 1 (recurrent, one W) any two,
  K = delta_ts (feedforward, a new W per layer) only W's of one layer.  A pair within one
  response line joins two W's acting at different times, and two pairs across the lines
  at equal times never cross, so with K = delta_ts only the bare line and the rung ladder
  survive (the cactus: the mean field, exact at every N);
* the correlator line's kernel B(t, s) says how the bias words meet: B = 1 (a shared bias
  b) sums the two injection times independently, B = delta_ts (a fresh bias per step) at
  equal times; the input x adds the words of length T on both lines (``q0``).

>>> from nnqft.rules.feynman import get_rules
>>> ds = mean_diagrams(get_rules("linear-feedforward"), 1)
>>> [(d.name, d.order) for d in ds]
[('bare bias line', 0), ('ladder (cactus, mean field)', 0)]
>>> s, T = S.sigma_w2, S.T
>>> sp.simplify(ds[0].value + ds[1].value - (S.q0*s**T + S.sigma_b2*(1 - s**T)/(1 - s)))
0
"""

from __future__ import annotations

import functools
from collections import defaultdict
from dataclasses import dataclass
from fractions import Fraction

import sympy as sp

from ...diagrams.canonical import automorphism_count
from ...diagrams.network import ChordDiagram, trace_diagrams
from ...errors import InvalidParameter
from ...rules import symbols as S
from ...rules.feynman import TIMES, FeynmanRules
from .time_sums import tidy, type_sum

__all__ = [
    "Placement",
    "placement",
    "DiagramValue",
    "topologies",
    "representatives",
    "type_weights",
    "diagram_value",
    "mean_diagrams",
    "mean_coefficients",
    "coefficients_of",
]


@functools.lru_cache(maxsize=8)
def topologies(order: int) -> dict:
    """The reduced diagrams of M(k, m) through 1/N^order grouped by canonical id.

    Returns ``{id: (deficit, [types of each member])}``; a class holds a diagram and its
    transpose (the two factors of z.z exchanged), which is the only symmetry.

    >>> sorted(d for d, _ in topologies(1).values())
    [0, 0, 1, 1, 1, 1]
    """
    classes: dict = {}
    for d in trace_diagrams(order):
        entry = classes.setdefault(d.id, (d.deficit, []))
        entry[1].append(d.types)
    return classes


def representatives(order: int) -> dict[str, ChordDiagram]:
    """One reduced diagram per class through 1/N^order: ``{canonical id: diagram}``.

    >>> sorted(d.types for d in representatives(0).values())
    [(0, 0, 0), (0, 1, 0)]
    """
    out: dict = {}
    for d in trace_diagrams(order):
        out.setdefault(d.id, d)
    return out


def type_weights(order: int) -> dict[int, dict[tuple, int]]:
    """``{deficit: {(a, b, c): number of reduced diagrams}}`` through 1/N^order.

    >>> type_weights(0)
    {0: {(0, 0, 0): 1, (0, 1, 0): 1}}
    """
    out: dict = defaultdict(lambda: defaultdict(int))
    for deficit, members in topologies(order).values():
        for types in members:
            out[deficit][types] += 1
    return {d: dict(w) for d, w in out.items()}


@dataclass(frozen=True)
class Placement:
    """How the rules place a diagram along the response lines (read by :func:`placement`).

    ``pairing`` is ``'any'`` (K = 1) or ``'equal-time'`` (K = delta_ts); ``bias`` is the
    :func:`~nnqft.derive.loops.time_sums.type_sum` kind of the bias words (``'shared'``
    for B = 1, ``'fresh'`` for B = delta_ts); ``weight`` is one W pair's factor without
    its power of N, ``n_per_vertex`` that power, ``bias_value`` the correlator line's
    factor, ``n_per_face`` the exponent of N of one index loop.
    """

    pairing: str
    bias: str
    weight: sp.Expr
    n_per_vertex: int
    bias_value: sp.Expr
    n_per_face: int


def _n_exponent(expr: sp.Expr) -> tuple[sp.Expr, int]:
    """``expr = rest * N^k`` with rest free of N: returns (rest, k)."""
    k = sp.Poly(expr * S.N**64, S.N).monoms()
    if len(k) != 1:
        raise InvalidParameter(f"{expr} is not a monomial in N")
    power = k[0][0] - 64
    return sp.simplify(expr / S.N**power), power


def placement(rules: FeynmanRules) -> Placement:
    """The :class:`Placement` of a linear-network theory, read off its rules.

    >>> from nnqft.rules.feynman import get_rules
    >>> p = placement(get_rules("linear-recurrent-fresh"))
    >>> p.pairing, p.bias, p.weight, p.n_per_vertex, p.n_per_face
    ('any', 'fresh', sigma_w2, -1, 1)
    """
    t, s = TIMES
    delta = sp.KroneckerDelta(t, s)
    vertex = rules.vertex("double_trace")
    line = rules.propagator("correlator")
    kinds = {sp.Integer(1): "any", delta: "equal-time"}
    if vertex.time is None or vertex.time.kernel not in kinds:
        raise InvalidParameter(f"the vertex of {rules.model} has no kernel K = 1 or delta_ts")
    if line.time is None or line.time.kernel not in kinds:
        raise InvalidParameter(f"the correlator of {rules.model} has no kernel B = 1 or delta_ts")
    weight, n_vertex = _n_exponent(vertex.coupling)
    _, n_face = _n_exponent(rules.n_per_index_loop)
    bias = "shared" if line.time.kernel == 1 else "fresh"
    return Placement(kinds[vertex.time.kernel], bias, weight, n_vertex, line.value, n_face)


@dataclass(frozen=True)
class DiagramValue:
    """One diagram class of ``E Q(T)`` with its closed-form value.

    ``id`` is the canonical id of the reduced diagram (ladders as single chords);
    ``order`` its power of 1/N and ``n_power`` = -order; ``symmetry_factor`` is 1/|Aut| of
    the graph with source and readout fixed (|Aut| = 2 when the diagram is its own
    transpose: exchanging the two identical factors of z.z), so the class holds
    2 x symmetry_factor Wick pairings, its ``multiplicity``; ``value`` is the class's whole
    contribution to E Q(T), every ladder resummed and every placement summed, in closed
    form in T (valid for T >= 1).
    """

    id: str
    order: int
    n_power: int
    symmetry_factor: Fraction
    multiplicity: int
    chords: int
    types: tuple
    value: sp.Expr
    name: str = ""

    @property
    def graph(self):
        """The reduced diagram as a ``networkx.MultiGraph`` (for drawing): W insertions on
        the response lines from the source to the readout, pairs as ``disorder`` edges."""
        return representatives(self.order)[self.id].graph()

    def to_dict(self, printed: dict | None = None) -> dict:
        """The JSON entry of ``nnqft correlator --json``'s ``diagrams`` list (``printed``:
        the value's ``value`` and ``latex`` strings, when already printed)."""
        from ..document.printer import latex

        if printed is None:
            printed = {"value": sp.sstr(self.value), "latex": latex(self.value)}
        return {
            "id": self.id,
            "order": self.order,
            "symmetry_factor": str(self.symmetry_factor),
            "n_power": self.n_power,
            "value": printed["value"],
            "latex": printed["latex"],
            "multiplicity": self.multiplicity,
            "chords": self.chords,
            "types": [list(t) for t in self.types],
            "name": self.name,
        }


def _name(types: tuple, order: int) -> str:
    if types == ((0, 0, 0),):
        return "bare bias line"
    if types == ((0, 1, 0),):
        return "ladder (cactus, mean field)"
    return ""


@functools.lru_cache(maxsize=4096)
def _class_value(types: tuple, p: Placement, critical: bool) -> sp.Expr:
    total = sp.Integer(0)
    for a, b, c in types:
        if p.pairing == "equal-time" and (a, b, c) not in ((0, 0, 0), (0, 1, 0)):
            continue
        total += S.q0 * type_sum("diagonal", a, b, c, critical)
        total += p.bias_value * type_sum(p.bias, a, b, c, critical)
    if total == 0:
        return total
    # the normal form is built on powers of sigma_w2: the rules' weight goes in after it;
    # each coefficient over one factored denominator, the numerator expanded (factoring the
    # numerators of a thousand class values at 1/N^3 would cost more than their sums; the
    # coefficients are factored in full)
    total = tidy(total, factor="denominator")
    return total if p.weight == S.sigma_w2 else total.subs(S.sigma_w2, p.weight)


def diagram_value(members: tuple[ChordDiagram, ...], rules: FeynmanRules, critical=False):
    """The closed-form value of a diagram class (a reduced diagram and its transpose) in
    the theory of ``rules``, summed over ladder lengths and placements; without its power
    of N (see :class:`DiagramValue`).  ``critical=True``: at sigma_w2 = 1.

    >>> from nnqft.rules.feynman import get_rules
    >>> rung = [d for d in trace_diagrams(0) if d.types == (0, 1, 0)]
    >>> value = diagram_value(tuple(rung), get_rules("linear-recurrent-shared"))
    >>> s, T = S.sigma_w2, S.T      # q0 s^T + sigma_b2 (s + ... + s^(T-1))
    >>> sp.simplify(value - (S.q0*s**T + S.sigma_b2*(s**T - s)/(s - 1)))
    0
    """
    types = tuple(sorted(d.types for d in members))
    return _class_value(types, placement(rules), bool(critical))


def _n_power(d: ChordDiagram, p: Placement) -> int:
    return p.n_per_vertex * len(d.chords) + p.n_per_face * d.faces - 1


def mean_diagrams(rules: FeynmanRules, order: int, critical=False) -> tuple[DiagramValue, ...]:
    """Every diagram class of ``E Q(T)`` through 1/N^order in the theory of ``rules``, with
    its value; the values of one order sum to the coefficient of 1/N^order.  Classes whose
    value vanishes under the rules' time kernels (K = delta_ts) are left out.

    >>> from nnqft.rules.feynman import get_rules
    >>> ds = mean_diagrams(get_rules("linear-recurrent-shared"), 1)
    >>> [(d.order, d.multiplicity, d.symmetry_factor) for d in ds][:3]
    [(0, 1, Fraction(1, 2)), (0, 1, Fraction(1, 2)), (1, 2, Fraction(1, 1))]
    """
    p = placement(rules)
    classes: dict = {}
    for d in trace_diagrams(order):
        classes.setdefault(d.id, []).append(d)
    out = []
    for key, members in classes.items():
        first = members[0]
        powers = {_n_power(m, p) for m in members}
        if len(powers) != 1:  # pragma: no cover - a transpose keeps faces and chords
            raise InvalidParameter(f"diagram {key} has members of different orders")
        value = diagram_value(tuple(members), rules, critical)
        if value == 0:
            continue
        aut = automorphism_count(first.graph())
        types = tuple(sorted(m.types for m in members))
        n_power = powers.pop()
        out.append(
            DiagramValue(
                id=key,
                order=-n_power,
                n_power=n_power,
                symmetry_factor=Fraction(1, aut),
                multiplicity=len(members),
                chords=len(first.chords),
                types=types,
                value=value,
                name=_name(types, -n_power),
            )
        )
    out.sort(key=lambda d: (d.order, d.chords, d.types, d.id))
    return tuple(out)


def mean_coefficients(rules: FeynmanRules, order: int, critical=False) -> dict[int, sp.Expr]:
    """``{d: E_d(T)}`` of ``E Q(T) = sum_d E_d(T)/N^d`` through 1/N^order: the sum of the
    values of the diagrams of each order (:func:`mean_diagrams`), in normal form.

    >>> from nnqft.rules.feynman import get_rules
    >>> mean_coefficients(get_rules("linear-recurrent-fresh"), 1)[1]
    0
    """
    return coefficients_of(mean_diagrams(rules, order, critical), order)


def coefficients_of(diagrams, order: int) -> dict[int, sp.Expr]:
    """``{d: sum of the values of the diagrams of order d}`` for d = 0..order, in normal form.

    >>> from nnqft.rules.feynman import get_rules
    >>> coefficients_of(mean_diagrams(get_rules("linear-feedforward"), 0), 1)[1]
    0
    """
    terms: dict = {d: [] for d in range(order + 1)}
    for diagram in diagrams:
        terms[diagram.order].append(diagram.value)
    totals = {d: sp.Add(*values) for d, values in terms.items()}
    return {d: tidy(v) if v != 0 else v for d, v in totals.items()}
