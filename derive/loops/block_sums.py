"""Sums over ladder lengths with linear constraints, in closed form in the depth T.

Conventions: docs/conventions.md §4-5.

A reduced diagram of the variance's words (:mod:`nnqft.diagrams.four_block`) is placed by
choosing the total ladder length ``L_t >= n_t`` of each of its chord types (``n_t``
chords of type t share ``L_t`` in ``binomial(L_t - 1, n_t - 1)`` ways); the block lengths
are linear in the ``L_t`` and the sources fix them: the input ``x`` sets both blocks of a
factor to ``T``, a shared bias lets both run over ``0..T-1``, a fresh bias sets them
equal within ``0..T-1``.  :func:`constrained_sum` sums a polynomial x geometric summand
over the integer points of such a polytope, exactly and in closed form: equalities are
solved for a variable of unit coefficient, then each variable is summed between its
largest lower and smallest upper bound (the polytope split into the cases of which bound
is largest, ties to the first), by :func:`~nnqft.derive.loops.time_sums.sum_closed_form`.
Parities are handled by ``T = 2v + tau`` (:func:`block_sum`).

>>> from nnqft.rules.symbols import T, sigma_w2
>>> x = sp.Symbol("x", integer=True)
>>> v = sp.Symbol("v", integer=True)
>>> constrained_sum(sigma_w2**x, [x], [], [x, v - x], v)    # sum_{x=0}^{v} s^x
sigma_w2**(v + 1)/(sigma_w2 - 1) - 1/(sigma_w2 - 1)
"""

from __future__ import annotations

import functools
import itertools

import sympy as sp

from ...errors import InvalidParameter, InvalidType
from ...rules import symbols as S
from . import polygeo
from .time_sums import _residue_combine, _v, composition_count, expand, sum_closed_form, tidy

__all__ = ["constrained_sum", "block_sum", "SOURCES"]


_NeedsResidue = polygeo.NeedsResidue
_meet = polygeo._meet  # (lo, hi) ranges of v, either end None for unbounded


#: the periods in T tried in turn when the bounds of a sum need a residue of T
RESIDUE_MODULI = (2, 4, 6, 12)

#: how each factor of a word meets its source (see :func:`block_sum`)
SOURCES = ("x", "shared", "fresh")


def _linear(expr, variables) -> dict:
    """{variable or 1: integer coefficient} of a linear form."""
    poly = sp.Poly(expr, *variables)
    out = {}
    for monom, coeff in poly.terms():
        if sum(monom) > 1:
            raise InvalidParameter(f"{expr} is not linear in {variables}")
        key = 1 if sum(monom) == 0 else variables[monom.index(1)]
        if not coeff.is_Integer:
            raise InvalidParameter(f"{expr} has a non-integer coefficient")
        out[key] = int(coeff)
    return out


def _v_range(form: sp.Expr, v: sp.Symbol) -> tuple:
    """The integers v with ``form >= 0``: (lo, hi), either None for unbounded; or None
    when there are none."""
    lin = _linear(form, [v])
    a, c = lin.get(v, 0), lin.get(1, 0)
    if a == 0:
        return (None, None) if c >= 0 else None
    if a > 0:
        return (-(c // a), None)  # v >= ceil(-c/a)
    return (None, c // -a)  # v <= floor(c/|a|)


def constrained_sum(summand, variables, eqs, ineqs, v=_v, v_min=0) -> sp.Expr:
    """``sum summand`` over the integer points of ``{eqs == 0, ineqs >= 0}`` in closed form.

    ``variables`` are the summed integer symbols; ``eqs`` and ``ineqs`` are linear forms
    in them and in the free integer ``v`` (with integer coefficients); the summand is a
    sum of polynomial x geometric terms in the variables.  Every variable must be bounded
    above and below.  The closed form holds for every integer ``v >= v_min``; a case that
    exists only for some of them raises :class:`~nnqft.errors.InvalidParameter`.

    >>> x, y = sp.symbols("x y", integer=True)
    >>> v = sp.Symbol("v", integer=True)
    >>> constrained_sum(sp.Integer(1), [x, y], [x + y - v], [x, y], v)    # v + 1 points
    v + 1
    """
    if not isinstance(summand, sp.Basic):  # never parse a string: engine expressions only
        raise InvalidType(f"the summand must be a sympy expression, got {type(summand).__name__}")
    variables = list(variables)
    try:
        pieces, base = polygeo.polygeo_sum(summand, variables, eqs, ineqs, v, v_min)
    except polygeo.NotPolyGeo:
        pass  # outside the dedicated representation: the sympy route below
    else:
        point = polygeo.agrees(pieces, len(variables), v_min)
        if point is not None:
            raise InvalidParameter(f"the closed form fails at v = {point}: a piecewise sum")
        return expand(polygeo.to_expr(polygeo.generic(pieces), [*variables, v], base))
    pieces = _sum(summand, tuple(variables), tuple(eqs), tuple(ineqs), v, v_min)
    generic = expand(sp.Add(*[f for f, (lo, hi) in pieces if hi is None]))
    # the pieces that start late or stop early: the generic form must agree with them
    edges = [x for _, r in pieces for x in r if x is not None]
    for point in range(v_min, max(edges, default=v_min - 1) + 1):
        true = sp.Add(*[f.subs(v, point) for f, r in pieces if _meet(r, (point, point))])
        if sp.cancel(expand(true - generic.subs(v, point))) != 0:
            raise InvalidParameter(f"the closed form fails at v = {point}: a piecewise sum")
    return generic


def _sum(summand, variables, eqs, ineqs, v, v_min, rng=(None, None)):
    if summand == 0:
        return []
    eqs = [sp.expand(e) for e in eqs]
    eqs = [e for e in eqs if e != 0]
    for e in eqs:
        if not (e.free_symbols & set(variables)):
            lin = _linear(e, [v])
            a, c = lin.get(v, 0), lin.get(1, 0)
            if a == 0 or c % a or -c // a < v_min:
                return []  # false at every depth (a constant e = 0 was dropped)
            raise InvalidParameter(f"the equality {e} = 0 holds at one depth only")
    if eqs:
        e = eqs[0]
        lin = _linear(e, [*variables, v])
        unit = [x for x in variables if abs(lin.get(x, 0)) == 1]
        if not unit:
            coeffs = [lin[x] for x in variables if lin.get(x, 0)]
            g = functools.reduce(sp.igcd, coeffs)
            rest = lin.get(v, 0), lin.get(1, 0)
            if rest[0] % g:
                raise _NeedsResidue(f"the equality {e} = 0 needs a parity of v")
            if rest[1] % g:
                return []
            eqs[0] = sp.expand(e / g)
            return _sum(summand, variables, eqs, ineqs, v, v_min, rng)
        x = unit[0]
        value = sp.expand(-(e - lin[x] * x) / lin[x])
        rest_vars = tuple(y for y in variables if y != x)
        return _sum(
            expand(summand.subs(x, value)),
            rest_vars,
            [sp.expand(f.subs(x, value)) for f in eqs[1:]],
            [sp.expand(f.subs(x, value)) for f in ineqs],
            v,
            v_min,
            rng,
        )
    # inequalities only: drop those without variables (conditions on v)
    keep = []
    for f in ineqs:
        if f.free_symbols & set(variables):
            keep.append(f)
            continue
        rng = _meet(rng, _v_range(f, v))
        if rng is None:
            return []
    rng = _meet(rng, (v_min, None))
    if rng is None:
        return []
    ineqs = keep
    if not variables:
        return [(summand, rng)]
    # the variable with the fewest bound combinations whose bounds are exact integers:
    # a x + g >= 0 with every coefficient of g (but its constant) divisible by |a|
    best, split = None, None
    for x in variables:
        lows, ups, ok = [], [], True
        for f in ineqs:
            a = f.coeff(x)
            if not a.is_Integer:
                raise InvalidParameter(f"{f} has a non-integer coefficient of {x}")
            a = int(a)
            if a == 0:
                continue
            g = sp.expand(f - a * x)
            lin = _linear(g, [*variables, v])
            odd = [y for y, b in lin.items() if y != 1 and b % abs(a)]
            if odd:
                ok = False
                if split is None and odd[0] != v:
                    split = (odd[0], abs(a))
                break
            c0 = lin.get(1, 0) % abs(a)
            bound = sp.expand((g - c0) / abs(a))
            (lows if a > 0 else ups).append(-bound if a > 0 else bound)
        if ok and lows and ups and (best is None or len(lows) * len(ups) < best[0]):
            best = (len(lows) * len(ups), x, lows, ups)
    if best is None and split is not None:  # y = m y' + r, r = 0..m-1
        y, m = split
        total = []
        for r in range(m):
            value = m * y + r
            total += _sum(
                expand(summand.subs(y, value)),
                variables,
                [],
                [sp.expand(f.subs(y, value)) for f in ineqs],
                v,
                v_min,
                rng,
            )
        return total
    if best is None:
        raise _NeedsResidue(f"no variable of {variables} has integer bounds: {ineqs}")
    _, x, lows, ups = best
    others = [f for f in ineqs if not f.has(x)]
    rest_vars = tuple(y for y in variables if y != x)
    total = []
    for i, j in itertools.product(range(len(lows)), range(len(ups))):
        lo, hi = lows[i], ups[j]
        case = list(others)
        case += [lo - lows[k] - (1 if k < i else 0) for k in range(len(lows)) if k != i]
        case += [ups[k] - hi - (1 if k < j else 0) for k in range(len(ups)) if k != j]
        case.append(hi - lo + 1)  # an empty range sums to 0 exactly
        inner = sum_closed_form(summand, x, lo, hi)
        total += _sum(expand(inner), rest_vars, [], case, v, v_min, rng)
    return total


def _block_lengths(word_pairs, types, variables):
    """Block lengths a_0..a_3 as linear forms in the type variables."""
    lengths = [sp.Integer(0)] * 4
    for (i, j), x in zip(word_pairs, variables):
        lengths[i] += x
        lengths[j] += x
    return lengths


@functools.lru_cache(maxsize=8192)
def block_sum(types: tuple, pairs: tuple, factors: tuple, sources: tuple) -> sp.Expr:
    """The sum over placements of a reduced diagram with ``types[t]`` chords of block pair
    ``pairs[t]``, each pair of letters worth sigma_w2, the word's two factors (pairs of
    blocks, ``factors``) meeting the sources ``sources`` (each 'x', 'shared' or 'fresh'),
    in closed form in T (valid for T >= 1), without the sources' weights (q0, sigma_b2).

    'x': both blocks of the factor have T letters; 'shared': each 0..T-1; 'fresh': equal,
    0..T-1.

    >>> from nnqft.rules.symbols import T
    >>> pairs = ((0, 1), (1, 2), (2, 3), (0, 3))
    >>> block_sum((1, 0, 1, 0), pairs, ((3, 0), (1, 2)), ("x", "x"))   # two rung ladders
    sigma_w2**(2*T)
    """
    for src in sources:
        if src not in SOURCES:
            raise InvalidParameter(f"unknown source {src!r}; known: {', '.join(SOURCES)}")
    s = S.sigma_w2
    present = [(p, n) for p, n in zip(pairs, types) if n]
    variables = [sp.Symbol(f"L{k}", integer=True) for k in range(len(present))]
    summand = sp.Integer(1)
    ineqs = []
    for (_, n), x in zip(present, variables):
        summand *= composition_count(x, n) * s**x
        ineqs.append(x - n)
    lengths = _block_lengths([p for p, _ in present], None, variables)
    # a bound or an equality may need a residue of T/2 (2 L = T - 1 - ...) or of T/3
    # (3 L >= 2 T - ...): T is split by its residue modulo a larger period until every
    # bound is an integer
    for modulus in RESIDUE_MODULI[:-1]:
        try:
            return _block_sum(summand, variables, ineqs, lengths, factors, sources, modulus)
        except _NeedsResidue:
            continue
    return _block_sum(summand, variables, ineqs, lengths, factors, sources, RESIDUE_MODULI[-1])


def _block_sum(summand, variables, ineqs, lengths, factors, sources, modulus):
    parts = {}
    for tau in range(modulus):
        T = modulus * _v + tau
        eqs, ine = [], list(ineqs)
        for (i, j), src in zip(factors, sources):
            if src == "x":
                eqs += [lengths[i] - T, lengths[j] - T]
            elif src == "shared":
                ine += [T - 1 - lengths[i], T - 1 - lengths[j]]
            else:
                eqs.append(lengths[i] - lengths[j])
                ine.append(T - 1 - lengths[i])
        parts[tau] = expand(constrained_sum(summand, variables, eqs, ine, _v, 1 if tau == 0 else 0))
    return tidy(_residue_combine(parts, modulus), factor="denominator")
