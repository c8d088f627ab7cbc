"""The variance of Q(T) for the recurrent linear network, from its diagrams.

Conventions: docs/conventions.md §4-5.

The law of ``W`` (and of the biases) is O(N) invariant, so the input may be replaced by
a vector uniform on its sphere, ``E x_a x_b = q0 d_ab`` and
``E x_a x_b x_c x_d = q0^2 N/(N + 2) (d_ab d_cd + d_ac d_bd + d_ad d_bc)``: every source is
Gaussian but for the factor N/(N + 2) on the terms with four x's.  With Gaussian sources
``z(T)`` is Gaussian given W, with covariance ``C = sum W^a <v_a v_b^T> (W^T)^b``, so

    Var Q = (2/N) (1/N) E tr C^2 + (1/N^2) Var tr C - (2/(N + 2)) F4,

``F4 = (q0^2/N^2) E[(tr M)^2 + 2 tr M^2]``, ``M = (W^T)^T W^T``, the four-x part.  The first
term is the sum of the **one-trace** diagrams of :mod:`nnqft.diagrams.four_block`
(order ``1 + d`` at deficit d), the second of the connected **two-trace** diagrams
(order ``2 + d``), and ``-2/(N+2) = -2/N + 4/N^2 - ...`` times F4 through 1/N,
``F4 = (q0 M(T,T))^2 + (2/N) [q0 M(T,T)]_1 q0 M(T,T) + (2/N) P_xx``, with ``q0 M(T, T)``
the input part of the mean (:func:`~nnqft.derive.loops.evaluate.mean_diagrams`) and
``P_xx`` the input-input part of the planar one-trace diagrams: the **sphere** entries.
Each diagram's value is summed over its ladder lengths and the sources' block lengths in
closed form in T (:func:`~nnqft.derive.loops.block_sums.block_sum`).

>>> from nnqft.rules.feynman import get_rules
>>> c = variance_coefficients(get_rules("linear-recurrent-shared"), 1)
>>> sp.factor(c[1].subs({S.sigma_b2: 0}))
2*T*q0**2*sigma_w2**(2*T)
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from fractions import Fraction

import sympy as sp

from ...diagrams.canonical import automorphism_count
from ...diagrams.four_block import BLOCK_PAIRS, BlockDiagram, block_diagrams
from ...errors import InvalidParameter
from ...rules import symbols as S
from ...rules.feynman import FeynmanRules
from ...rules.network import check_order
from .block_sums import block_sum
from .evaluate import DiagramValue, mean_diagrams, placement
from .time_sums import tidy

__all__ = [
    "MAX_VARIANCE_ORDER",
    "MAX_SYMBOLIC_ORDER",
    "symbolic_max_order",
    "variance_coefficients_at",
    "placement_counts",
    "BlockDiagramValue",
    "variance_diagrams",
    "variance_coefficients",
    "FACTORS",
]

#: the highest power of 1/N of Var Q the diagrams reach at an integer depth
MAX_VARIANCE_ORDER = 2
#: the highest power summed in closed form in symbolic T, per bias (the shared bias's 1/N^2
#: sums meet bounds that need the residue of T modulo 4, 6 or 12: polygeo's engine);
#: :func:`variance_coefficients_at` reaches 1/N^2 at integer depths for both
MAX_SYMBOLIC_ORDER = {"fresh": 2, "shared": 2}


def symbolic_max_order(bias: str) -> int:
    """The highest power of 1/N of Var Q in closed form in T for ``bias``.

    >>> symbolic_max_order("fresh"), symbolic_max_order("shared")
    (2, 2)
    """
    if bias not in MAX_SYMBOLIC_ORDER:
        raise InvalidParameter(f"unknown bias {bias!r}; known: shared, fresh")
    return MAX_SYMBOLIC_ORDER[bias]


#: the two factors (pairs of blocks meeting one source) of each word
FACTORS = {"one-trace": ((3, 0), (1, 2)), "two-trace": ((0, 1), (2, 3))}


@dataclass(frozen=True)
class BlockDiagramValue(DiagramValue):
    """A :class:`~nnqft.derive.loops.evaluate.DiagramValue` of the variance: its
    representative reduced diagram (``word``, ``blocks``, ``chord_list``) is kept to draw
    it."""

    word: str = "one-trace"
    blocks: tuple = ()
    chord_list: tuple = ()

    @property
    def graph(self):
        """The representative's graph (:meth:`BlockDiagram.graph`)."""
        return BlockDiagram(self.word, self.blocks, self.chord_list, 0).graph()


def _check_placement(p, rules) -> None:
    """The diagrams' powers of N assume a pair worth 1/N and a face worth N, one W."""
    if p.pairing != "any":
        raise InvalidParameter(
            f"the variance diagrams are for one W at every step, not {rules.model}"
        )
    if (p.n_per_vertex, p.n_per_face) != (-1, 1):
        raise InvalidParameter(
            f"the variance diagrams need a W pair worth 1/N and an index loop worth N, "
            f"got N^{p.n_per_vertex} and N^{p.n_per_face} in {rules.model}"
        )


def _weight(source: str) -> sp.Expr:
    return S.q0 if source == "x" else S.sigma_b2


def _factor_symmetries(factors) -> tuple:
    """The block permutations that map the word's two factors (pairs of blocks meeting
    one source) onto themselves: :func:`block_sum` sees only the blocks' chords and
    their factors, so it is the same on the image (sources moved with their factors)."""
    import itertools

    parts = {frozenset(f) for f in factors}
    return tuple(
        g
        for g in itertools.permutations(range(4))
        if {frozenset(g[i] for i in f) for f in parts} == parts
    )


def _canonical(word: str, types: tuple, sources: tuple) -> tuple:
    """The smallest image of (types, sources) under :func:`_factor_symmetries`, as the
    arguments of :func:`block_sum` (equal images have equal sums)."""
    factors = FACTORS[word]
    best = None
    for g in _factor_symmetries(factors):
        moved = dict.fromkeys(BLOCK_PAIRS, 0)
        for (i, j), n in zip(BLOCK_PAIRS, types):
            moved[tuple(sorted((g[i], g[j])))] += n
        image = {frozenset(g[i] for i in f): src for f, src in zip(factors, sources)}
        key = (tuple(moved[t] for t in BLOCK_PAIRS), tuple(image[frozenset(f)] for f in factors))
        if best is None or key < best:
            best = key
    return best[0], BLOCK_PAIRS, factors, best[1]


def _member_value(d: BlockDiagram, bias: str, only_x: bool = False) -> sp.Expr:
    """The sum over sources and placements of one reduced diagram (no power of N)."""
    total = sp.Integer(0)
    sources = ("x",) if only_x else ("x", bias)
    for s1 in sources:
        for s2 in sources:
            value = block_sum(*_canonical(d.word, d.types, (s1, s2)))
            total += _weight(s1) * _weight(s2) * value
    return total


_COUNT = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six"}


def _name(word: str, deficit: int, chords: int) -> str:
    what = (
        "sources paired across (one trace)"
        if word == "one-trace"
        else ("sources paired within (two traces, connected)")
    )
    shape = "planar" if deficit == 0 and word == "one-trace" else f"deficit {deficit}"
    pairs = f"{_COUNT.get(chords, str(chords))} ladder{'s' if chords != 1 else ''}"
    return f"{what}, {shape}, {pairs}" if chords else f"{what}, no W pair"


def _classes(word: str, max_deficit: int) -> dict:
    classes: dict = {}
    for d in block_diagrams(word, max_deficit):
        classes.setdefault(d.id, []).append(d)
    return classes


@functools.lru_cache(maxsize=16)
def _diagrams(bias: str, weight: sp.Expr, order: int) -> tuple:
    out = []

    def entry(key, order_, members, value, name, rep):
        value = tidy(value, factor="denominator") if value != 0 else value
        if value == 0:
            return
        if weight != S.sigma_w2:
            value = value.subs(S.sigma_w2, weight)
        out.append(
            BlockDiagramValue(
                id=key,
                order=order_,
                n_power=-order_,
                symmetry_factor=Fraction(1, automorphism_count(rep.graph())),
                multiplicity=len(members),
                chords=len(rep.chords),
                types=tuple(sorted(m.types for m in members)),
                value=value,
                name=name,
                word=rep.word,
                blocks=rep.blocks,
                chord_list=rep.chords,
            )
        )

    planar_xx = []
    for key, members in _classes("one-trace", order - 1).items():
        rep = members[0]
        total = sp.Add(*[_member_value(m, bias) for m in members])
        entry(
            key,
            1 + rep.deficit,
            members,
            2 * total,
            _name(rep.word, rep.deficit, len(rep.chords)),
            rep,
        )
        if rep.deficit == 0 and order >= 2:
            xx = sp.Add(*[_member_value(m, bias, only_x=True) for m in members])
            planar_xx.append((key, members, xx, rep))
    if order >= 2:
        for key, members in _classes("two-trace", order - 2).items():
            rep = members[0]
            total = sp.Add(*[_member_value(m, bias) for m in members])
            entry(
                key,
                2 + rep.deficit,
                members,
                total,
                _name(rep.word, rep.deficit, len(rep.chords)),
                rep,
            )
    # the input on its sphere: -2/(N+2) = -2/N + 4/N^2 times the four-x part F4
    return tuple(out), tuple(planar_xx)


def _sphere(rules: FeynmanRules, order: int, planar_xx) -> list:
    """The entries of the four-x correction (input on its sphere)."""
    means = mean_diagrams(rules, max(order - 1, 0))
    x_part = {}
    for d in means:
        x_part[d.order] = x_part.get(d.order, 0) + sp.expand(d.value).coeff(S.q0) * S.q0
    m0, m1 = x_part.get(0, sp.Integer(0)), x_part.get(1, sp.Integer(0))
    rung = BlockDiagram("two-trace", (1, 1, 1, 1), ((0, 1), (2, 3)), 4)
    out = []

    def add(order_, value, name, rep, members=1, key=None):
        value = tidy(value) if value != 0 else value
        if value == 0:
            return
        out.append(
            BlockDiagramValue(
                id=key or f"sphere|{rep.id}",
                order=order_,
                n_power=-order_,
                symmetry_factor=Fraction(1, automorphism_count(rep.graph())),
                multiplicity=members,
                chords=len(rep.chords),
                types=(rep.types,),
                value=value,
                name=name,
                word=rep.word,
                blocks=rep.blocks,
                chord_list=rep.chords,
            )
        )

    add(1, -2 * m0**2, "input on its sphere: -2/N (q0 M(T,T))^2", rung)
    if order >= 2:
        add(2, 4 * m0**2 - 4 * m0 * m1, "input on its sphere: 4/N^2 (q0 M(T,T))^2", rung)
        for key, members, xx, rep in planar_xx:
            add(
                2,
                -4 * xx,
                "input on its sphere: -4/N^2 times the four-x part of a planar one-trace diagram",
                rep,
                len(members),
                key=f"sphere|{key}",
            )
    return out


def variance_diagrams(rules: FeynmanRules, order: int) -> tuple:
    """Every diagram class of ``Var Q(T)`` through 1/N^order for a recurrent linear net
    (``rules`` of ``linear-recurrent-shared`` or ``-fresh``), each with its value summed
    over ladder lengths and placements in closed form in T; the values of one order sum
    to the coefficient of 1/N^order (:func:`variance_coefficients`).

    >>> from nnqft.rules.feynman import get_rules
    >>> ds = variance_diagrams(get_rules("linear-recurrent-fresh"), 1)
    >>> sorted({d.order for d in ds}), len(ds) > 3
    ([1], True)
    """
    p = placement(rules)
    _check_placement(p, rules)
    order = check_order(
        order, symbolic_max_order(p.bias), what=f"Var Q of {rules.model} (closed form in T)"
    )
    if order == 0:
        return ()
    found, planar_xx = _diagrams(p.bias, p.weight, order)
    out = list(found) + _sphere(rules, order, planar_xx)
    out.sort(key=lambda d: (d.order, d.chords, d.name, d.id))
    return tuple(out)


def variance_coefficients(rules: FeynmanRules, order: int) -> dict:
    """``{d: V_d(T)}`` of ``Var Q(T) = sum_d V_d(T)/N^d`` through 1/N^order (V_0 = 0):
    the sums of the values of :func:`variance_diagrams` per order.

    >>> from nnqft.rules.feynman import get_rules
    >>> variance_coefficients(get_rules("linear-recurrent-fresh"), 0)
    {0: 0}
    """
    from .evaluate import coefficients_of

    return coefficients_of(variance_diagrams(rules, order), order)


# --- at an integer depth: the same diagrams, their placements counted -------------------


def placement_counts(types: tuple, depth: int) -> dict:
    """{block lengths: number of ladder-length choices} of a reduced diagram with chord
    types ``types``, block lengths at most ``depth`` (a convolution over the types).

    >>> placement_counts((0, 1, 0, 0, 0, 0, 0, 0, 0, 0), 2)   # one chord between blocks 0, 1
    {(1, 1, 0, 0): 1, (2, 2, 0, 0): 1}
    """
    import math

    counts = {(0, 0, 0, 0): 1}
    for (i, j), n in zip(BLOCK_PAIRS, types):
        if not n:
            continue
        new: dict = {}
        for blocks, c in counts.items():
            for length in range(n, depth + 1):
                b = list(blocks)
                b[i] += length
                b[j] += length
                if max(b) > depth:
                    break
                key = tuple(b)
                new[key] = new.get(key, 0) + c * math.comb(length - 1, n - 1)
        counts = new
    return counts


def _source_weight(blocks, factors, bias, depth) -> sp.Expr:
    total = sp.Integer(1)
    for i, j in factors:
        a, b = blocks[i], blocks[j]
        w = S.q0 if a == b == depth else sp.Integer(0)
        if a < depth and b < depth and (bias == "shared" or a == b):
            w += S.sigma_b2
        total *= w
    return total


@functools.lru_cache(maxsize=4096)
def _member_value_at(word: str, types: tuple, bias: str, depth: int, only_x: bool) -> sp.Expr:
    total = sp.Integer(0)
    for blocks, c in placement_counts(types, depth).items():
        w = _source_weight(blocks, FACTORS[word], bias, depth)
        if only_x:
            w = sp.expand(w).coeff(S.q0, 2) * S.q0**2
        total += c * S.sigma_w2 ** (sum(blocks) // 2) * w
    return sp.expand(total)


def variance_coefficients_at(rules: FeynmanRules, order: int, depth: int) -> dict:
    """``{d: V_d}`` of ``Var Q(T)`` through 1/N^order (at most 2) at an integer depth T:
    the same diagrams and entries as :func:`variance_diagrams` (one trace, two traces,
    the input on its sphere), each diagram's placements counted at that depth instead of
    summed in closed form.

    >>> from nnqft.rules.feynman import get_rules
    >>> variance_coefficients_at(get_rules("linear-recurrent-shared"), 2, 1)[2]
    0
    """
    from .evaluate import mean_coefficients

    order = check_order(order, MAX_VARIANCE_ORDER, what="Var Q of the recurrent net")
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
        raise InvalidParameter(f"the depth must be an integer >= 1, got {depth!r}")
    p = placement(rules)
    _check_placement(p, rules)
    out = {d: sp.Integer(0) for d in range(order + 1)}
    xx = sp.Integer(0)
    for word, shift in (("one-trace", 1), ("two-trace", 2)):
        if order < shift:
            continue
        for d in block_diagrams(word, order - shift):
            value = _member_value_at(word, d.types, p.bias, depth, False)
            out[shift + d.deficit] += (2 if word == "one-trace" else 1) * value
            if word == "one-trace" and d.deficit == 0 and order >= 2:
                xx += _member_value_at(word, d.types, p.bias, depth, True)
    if order >= 1:
        mean = mean_coefficients(rules, max(order - 1, 0))
        m0, m1 = (
            sp.expand(sp.cancel(mean.get(k, sp.Integer(0)).subs(S.T, depth))).coeff(S.q0) * S.q0
            for k in (0, 1)
        )
        out[1] += -2 * m0**2
        if order >= 2:
            out[2] += 4 * m0**2 - 4 * m0 * m1 - 4 * xx
    if p.weight != S.sigma_w2:
        out = {d: v.subs(S.sigma_w2, p.weight) for d, v in out.items()}
    return {d: sp.expand(v) for d, v in out.items()}
