"""The sum engine against direct sums over placements (integer depths, exact arithmetic)."""

import itertools

import pytest
import sympy as sp

from nnqft.derive.loops import time_sums as TS
from nnqft.errors import InvalidParameter
from nnqft.rules.symbols import T, sigma_w2

u = sp.Symbol("u", integer=True)


def _compositions(n: int, parts: int) -> int:
    """Ordered ways to write n as ``parts`` positive integers, by enumeration."""
    if parts == 0:
        return int(n == 0)
    return sum(1 for c in itertools.product(range(1, n + 1), repeat=parts) if sum(c) == n)


def _placements(k: int, m: int, a: int, b: int, c: int) -> int:
    """Ladder lengths of a reduced diagram of types (a, b, c) on the word (W^T)^k W^m:
    2i + l = k, 2j + l = m, i split into a ladders, l into b, j into c."""
    total = 0
    for l in range(min(k, m) + 1):
        if (k - l) % 2 or (m - l) % 2:
            continue
        i, j = (k - l) // 2, (m - l) // 2
        total += _compositions(i, a) * _compositions(l, b) * _compositions(j, c)
    return total


def _direct(kind, a, b, c, depth, s):
    if kind == "diagonal":
        pairs = [(depth, depth)]
    elif kind == "shared":
        pairs = [(k, m) for k in range(depth) for m in range(depth)]
    else:
        pairs = [(k, k) for k in range(depth)]
    return sum(_placements(k, m, a, b, c) * sp.sqrt(s) ** (k + m) for k, m in pairs)


TYPES = [(0, 0, 0), (0, 1, 0), (1, 0, 0), (0, 1, 1), (1, 1, 0), (1, 0, 1), (2, 1, 1), (0, 2, 3)]


@pytest.mark.parametrize("kind", TS.SUM_KINDS)
@pytest.mark.parametrize("types", TYPES)
def test_type_sum_equals_direct_placements(kind, types):
    s = sp.Rational(9, 4)  # a square, so sigma_w2^(T/2) stays rational
    closed = TS.type_sum(kind, *types)
    for depth in range(1, 8):
        got = sp.nsimplify(sp.expand(closed.subs(T, depth).subs(sigma_w2, s)))
        assert got == _direct(kind, *types, depth, s), (kind, types, depth)


def test_type_sum_critical_branch_is_the_limit():
    for types in [(0, 1, 1), (1, 1, 0), (2, 1, 1)]:
        for kind in TS.SUM_KINDS:
            crit = TS.type_sum(kind, *types, critical=True)
            for depth in range(1, 6):
                assert crit.subs(T, depth) == _direct(kind, *types, depth, 1), (kind, types)


def test_power_sums_and_geometric_sums():
    for p in range(5):
        for lo, hi in [(0, 6), (1, 1), (3, 2), (-2, 4)]:
            closed = TS.sum_closed_form(u**p, u, lo, hi)
            assert closed == sum(x**p for x in range(lo, hi + 1)), (p, lo, hi)
    n = sp.Symbol("n", integer=True)
    closed = TS.sum_closed_form(u**2 * sigma_w2**u, u, 1, n)
    for value in range(0, 6):
        direct = sum(x**2 * sigma_w2**x for x in range(1, value + 1))
        assert sp.simplify(closed.subs(n, value) - direct) == 0


def test_tidy_is_a_normal_form():
    a = (sigma_w2**T - 1) / (sigma_w2 - 1)
    b = sp.expand(sum(sigma_w2**j for j in range(3)))  # at T = 3
    assert sp.simplify(TS.tidy(a).subs(T, 3) - b) == 0
    assert TS.tidy(a - sp.together(a)) == 0


def test_unknown_sum_kind():
    with pytest.raises(InvalidParameter, match="unknown sum kind 'frozen'"):
        TS.type_sum("frozen", 0, 1, 0)
