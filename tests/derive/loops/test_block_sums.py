"""The constrained sums against direct sums over the integer points (exact arithmetic)."""

import itertools
import math

import pytest
import sympy as sp

from nnqft.derive.loops.block_sums import block_sum, constrained_sum
from nnqft.derive.loops.time_sums import _residue_combine, _v, residue_weight, tidy
from nnqft.diagrams.four_block import BLOCK_PAIRS
from nnqft.errors import InvalidParameter
from nnqft.rules.symbols import T, sigma_w2

x, y, z = sp.symbols("x y z", integer=True)
v = sp.Symbol("v", integer=True)


def _direct(summand, variables, eqs, ineqs, at, box):
    total = sp.Integer(0)
    for point in itertools.product(range(-1, box + 1), repeat=len(variables)):
        sub = dict(zip(variables, point))
        sub[v] = at
        if all(e.subs(sub) == 0 for e in eqs) and all(f.subs(sub) >= 0 for f in ineqs):
            total += summand.subs(sub)
    return sp.expand(total)


CASES = [
    (sigma_w2 ** (x + y), [x, y], [], [x, y, v - x - y]),
    (x * sigma_w2**x, [x, y], [x + y - 2 * v], [x - 1, y - 1]),
    (sigma_w2 ** (x + 2 * y), [x, y], [], [x - 1, y, 2 * v - 1 - x, 2 * v - 1 - 2 * y]),
    (sp.Integer(1), [x, y, z], [x - y], [x, z - 1, 2 * v - x - z, 2 * v - 1 - y - z]),
    (sigma_w2**x, [x, y], [], [x - 1, y - 1, 2 * v - 2 * x - y]),  # a coefficient 2
]


@pytest.mark.parametrize("case", range(len(CASES)))
def test_constrained_sum_equals_direct_sum(case):
    summand, variables, eqs, ineqs = CASES[case]
    form = constrained_sum(summand, variables, eqs, ineqs, v, 0)
    for at in range(0, 5):
        box = 2 * at + 2
        assert sp.simplify(form.subs(v, at) - _direct(summand, variables, eqs, ineqs, at, box)) == 0


def _placements(types, factors, sources, depth):
    """The direct sum over ladder lengths of block_sum at an integer depth."""
    present = [(p, n) for p, n in zip(BLOCK_PAIRS, types) if n]
    total = sp.Integer(0)
    for lengths in itertools.product(range(1, 2 * depth + 1), repeat=len(present)):
        blocks = [0] * 4
        weight = sp.Integer(1)
        for ((i, j), n), length in zip(present, lengths):
            blocks[i] += length
            blocks[j] += length
            weight *= math.comb(length - 1, n - 1) * sigma_w2**length
        ok = True
        for (i, j), src in zip(factors, sources):
            if src == "x":
                ok &= blocks[i] == blocks[j] == depth
            elif src == "shared":
                ok &= blocks[i] <= depth - 1 and blocks[j] <= depth - 1
            else:
                ok &= blocks[i] == blocks[j] <= depth - 1
        if ok:
            total += weight
    return sp.expand(total)


TYPES = [
    (0,) * 10,
    (0, 1, 0, 0, 0, 0, 0, 0, 1, 0),  # two junction ladders
    (0, 1, 0, 1, 0, 1, 0, 0, 1, 0),  # the four junctions
    (1, 1, 0, 0, 0, 0, 0, 0, 0, 1),  # within-block pairs
    (0, 2, 1, 0, 0, 0, 0, 0, 1, 0),
]


@pytest.mark.parametrize("types", TYPES)
@pytest.mark.parametrize(
    "factors,sources",
    [
        (((3, 0), (1, 2)), ("x", "x")),
        (((3, 0), (1, 2)), ("x", "shared")),
        (((3, 0), (1, 2)), ("shared", "shared")),
        (((3, 0), (1, 2)), ("fresh", "x")),
        (((0, 1), (2, 3)), ("fresh", "fresh")),
    ],
)
def test_block_sum_equals_direct_sums(types, factors, sources):
    form = block_sum(types, BLOCK_PAIRS, factors, sources)
    for depth in range(1, 6):
        direct = _placements(types, factors, sources, depth)
        assert sp.simplify(form.subs(T, depth) - direct) == 0, depth


#: patterns whose bounds need a residue of T modulo 4 or 6 (2 L <= T - ..., 3 L >= 2 T - ...)
RESIDUE_CASES = [
    ((0, 1, 1, 0, 0, 1, 1, 0, 1, 0), ("shared", "x")),
    ((0, 0, 1, 1, 0, 1, 1, 0, 1, 0), ("shared", "shared")),
]


@pytest.mark.slow
@pytest.mark.parametrize("types,sources", RESIDUE_CASES)
def test_block_sum_with_residues_of_t_equals_direct_sums(types, sources):
    factors = ((3, 0), (1, 2))
    form = block_sum(types, BLOCK_PAIRS, factors, sources)
    assert not form.has(sp.floor, sp.Mod)
    for depth in range(1, 9):  # two periods of 4, and past 6
        direct = _placements(types, factors, sources, depth)
        assert sp.simplify(form.subs(T, depth) - direct) == 0, depth


@pytest.mark.parametrize("period", [3, 4, 6, 12])
def test_residue_weight_is_the_indicator(period):
    for tau in range(period):
        w = residue_weight(tau, period)
        values = [sp.nsimplify(sp.simplify(w.subs(T, t))) for t in range(2 * period)]
        assert values == [int(t % period == tau) for t in range(2 * period)]


def test_residue_combine_recovers_a_period_three_sequence():
    # f(T) = T for T = 0 mod 3, sigma_w2^T otherwise: combined, then read back at each T
    parts = {0: 3 * _v, 1: sigma_w2 ** (3 * _v + 1), 2: sigma_w2 ** (3 * _v + 2)}
    form = _residue_combine(parts, 3)
    for t in range(1, 10):
        want = t if t % 3 == 0 else sigma_w2**t
        assert sp.simplify(form.subs(T, t) - want) == 0
    assert tidy(form) != 0


def test_bad_input():
    with pytest.raises(InvalidParameter):
        block_sum((0,) * 10, BLOCK_PAIRS, ((3, 0), (1, 2)), ("y", "x"))
    with pytest.raises(InvalidParameter):
        constrained_sum(sp.Integer(1), [x], [], [x**2])


def test_sympy_route_and_polygeo_route_agree():
    """A summand with a symbol other than the base (q0) is outside polygeo's representation
    and takes the sympy route: q0 times the fast route's sum."""
    from nnqft.rules.symbols import q0

    summand = x * sigma_w2 ** (x + 2 * y)
    variables, ineqs = [x, y], [x - 1, y, 2 * v - 1 - x, 2 * v - 1 - 2 * y]
    fast = constrained_sum(summand, variables, [], ineqs, v, 0)
    slow = constrained_sum(q0 * summand, variables, [], ineqs, v, 0)
    assert sp.cancel(slow - q0 * fast) == 0
