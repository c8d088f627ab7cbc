"""Polynomial x geometric sums over a polytope's integer points on a dedicated representation.

Conventions: docs/conventions.md §4-5.

The engine of :func:`~nnqft.derive.loops.block_sums.constrained_sum`.  A summand
``sum_k c_k(s) prod_i x_i^(p_ik) s^(sum_i g_ik x_i)`` (the ``x_i`` the summed variables and
the free depth ``v``, ``s`` one geometric base, ``c_k`` rational functions of ``s``) is held
as a dict ``{(p, g, den): numerator}``: ``p`` and ``g`` integer vectors over the variables
and ``v``, ``den`` the multiplicities ``((a, m), ...)`` of the denominator
``prod (s^a - 1)^m`` (a > 0: the only denominators the antidifferences of ``s^(a x)`` make)
and the numerator a Laurent polynomial in ``s`` with rational coefficients (``{power:
Fraction}``).  Linear forms (the bounds, the equalities, the substitutions) are integer
vectors over the variables, ``v`` and 1.  Substituting ``x -> linear form``, summing
``x^p s^(a x)`` between linear bounds, splitting by cases and evaluating at an integer
``v`` are then dictionary operations with exact integers and fractions (no gcd, no
expression tree); sympy is met only to read the summand and to write the closed form.

>>> from nnqft.rules.symbols import sigma_w2 as s
>>> x, v = sp.Symbol("x", integer=True), sp.Symbol("v", integer=True)
>>> pieces, base = polygeo_sum(s**x, [x], [], [x, v - x], v, 0)
>>> [(to_expr(t, [x, v], base), r) for t, r in pieces]
[(sigma_w2*sigma_w2**v/(sigma_w2 - 1) - 1/(sigma_w2 - 1), (0, None))]
"""

from __future__ import annotations

import functools
import itertools
import math
import random
from fractions import Fraction

import sympy as sp

from ...errors import InvalidParameter
from ...rules import symbols as S

__all__ = ["polygeo_sum", "from_expr", "to_expr", "generic", "agrees", "NeedsResidue", "NotPolyGeo"]


class NeedsResidue(InvalidParameter):
    """A constrained sum whose bounds need a finer residue of v (a parity of T/2)."""


class NotPolyGeo(Exception):
    """The summand is outside the representation (the caller falls back to sympy)."""


# --- Laurent polynomials in s: {power: Fraction} ------------------------------------------


def _ladd(a: dict, b: dict, sign: int = 1) -> dict:
    out = dict(a)
    for e, c in b.items():
        c = out.get(e, 0) + sign * c
        if c:
            out[e] = c
        else:
            out.pop(e, None)
    return out


def _lmul(a: dict, b: dict) -> dict:
    if len(a) == 1:
        ((ea, ca),) = a.items()
        return {ea + e: ca * c for e, c in b.items()}
    if len(b) == 1:
        ((eb, cb),) = b.items()
        return {e + eb: c * cb for e, c in a.items()}
    out: dict = {}
    for ea, ca in a.items():
        for eb, cb in b.items():
            out[ea + eb] = out.get(ea + eb, 0) + ca * cb
    return {e: c for e, c in out.items() if c}


def _den_merge(d1: tuple, d2: tuple) -> tuple:
    if not d1:
        return d2
    if not d2:
        return d1
    out = dict(d1)
    for a, m in d2:
        out[a] = out.get(a, 0) + m
    return tuple(sorted(out.items()))


# --- terms ----------------------------------------------------------------------------------


def _add_term(out: dict, key, num: dict) -> None:
    old = out.get(key)
    if old is None:
        if num:
            out[key] = num
        return
    new = _ladd(old, num)
    if new:
        out[key] = new
    else:
        del out[key]


def _vadd(a: tuple, b: tuple) -> tuple:
    return tuple(x + y for x, y in zip(a, b))


@functools.cache
def _lin_power(form: tuple, p: int) -> tuple:
    """(sum_i form_i y_i + form_-1)^p as ((exponent vector, int coefficient), ...)."""
    n = len(form) - 1
    if p == 0:
        return (((0,) * n, 1),)
    prev = dict(_lin_power(form, p - 1))
    out: dict = {}
    for mono, c in prev.items():
        for i, b in enumerate(form):
            if not b:
                continue
            key = mono if i == n else mono[:i] + (mono[i] + 1,) + mono[i + 1 :]
            out[key] = out.get(key, 0) + c * b
    return tuple((k, c) for k, c in out.items() if c)


def _substitute(terms: dict, k: int, form: tuple) -> dict:
    """x_k -> form (an integer linear form over the slots and 1)."""
    n = len(form) - 1
    out: dict = {}
    for (mono, geo, den), num in terms.items():
        p, g = mono[k], geo[k]
        base_m = mono[:k] + (0,) + mono[k + 1 :]
        if g:
            geo2 = tuple(x + g * f for x, f in zip(geo[:k] + (0,) + geo[k + 1 :], form[:n]))
            num2 = {e + g * form[n]: c for e, c in num.items()}
        else:
            geo2, num2 = geo, num
        if p == 0:
            _add_term(out, (base_m, geo2, den), num2)
            continue
        for m, c in _lin_power(form, p):
            _add_term(out, (_vadd(base_m, m), geo2, den), {e: x * c for e, x in num2.items()})
    return out


@functools.cache
def _power_sum_coeffs(p: int) -> tuple:
    """Faulhaber: F(n) = sum_{u=1}^n u^p as rational coefficients (F_0, ..., F_{p+1})."""
    u = sp.Symbol("u")
    poly = sp.Poly(sp.expand((sp.bernoulli(p + 1, u + 1) - sp.bernoulli(p + 1, 1)) / (p + 1)), u)
    out = [Fraction(0)] * (p + 2)
    for (j,), c in poly.terms():
        out[j] = Fraction(int(c.p), int(c.q))
    return tuple(out)


@functools.cache
def _antidifference(a: int, p: int) -> tuple:
    """P(u) = sum_j P_j u^j with ``r P(u+1) - P(u) = u^p``, r = s^a (a != 0): each P_j as
    (numerator Laurent items, den)."""
    r = {a: Fraction(1)}
    r_minus_1 = _ladd(r, {0: Fraction(1)}, -1)
    # P_j = N_j / (r - 1)^(p - j + 1), N_p = 1, N_j = -r sum_{i>j} C(i, j) N_i (r - 1)^(i-j-1)
    N = {p: {0: Fraction(1)}}
    for j in range(p - 1, -1, -1):
        acc: dict = {}
        for i in range(j + 1, p + 1):
            t = N[i]
            for _ in range(i - j - 1):
                t = _lmul(t, r_minus_1)
            acc = _ladd(acc, {e: c * math.comb(i, j) for e, c in t.items()})
        N[j] = _lmul(acc, {a: Fraction(-1)})
    out = []
    for j in range(p + 1):
        m = p - j + 1
        num = N[j]
        if a < 0:  # s^a - 1 = -(s^|a| - 1) s^a: 1/(s^a - 1)^m = (-1)^m s^(|a| m)/(s^|a| - 1)^m
            num = {e - a * m: c * (-1) ** m for e, c in num.items()}
        out.append((tuple(num.items()), ((abs(a), m),)))
    return tuple(out)


def _poly_of_form(coeffs, form: tuple, n: int) -> dict:
    """sum_j coeffs[j] form^j as {(mono, den): numerator}, coeffs[j] = (num items, den)."""
    out: dict = {}
    for j, (num, den) in enumerate(coeffs):
        num = dict(num)
        if not num:
            continue
        for m, c in _lin_power(form, j):
            _add_term(out, (m, den), {e: x * c for e, x in num.items()})
    return out


@functools.lru_cache(maxsize=65536)
def _kernel(p: int, a: int, lo: tuple, hi: tuple) -> tuple:
    """sum_{u=lo}^{hi} u^p s^(a u) as ((mono, geo, den, numerator items), ...)."""
    n = len(lo) - 1
    zero = (0,) * n
    out: dict = {}
    if a == 0:
        F = [((((0, c),) if c else ()), ()) for c in _power_sum_coeffs(p)]
        lo1 = lo[:n] + (lo[n] - 1,)
        for m_den, num in _poly_of_form(F, hi, n).items():
            _add_term(out, (m_den[0], zero, ()), num)
        for m_den, num in _poly_of_form(F, lo1, n).items():
            _add_term(out, (m_den[0], zero, ()), {e: -c for e, c in num.items()})
    else:
        P = _antidifference(a, p)
        hi1 = hi[:n] + (hi[n] + 1,)
        for form, sign in ((hi1, 1), (lo, -1)):
            geo = tuple(a * f for f in form[:n])
            shift = a * form[n]
            for (m, den), num in _poly_of_form(P, form, n).items():
                _add_term(out, (m, geo, den), {e + shift: sign * c for e, c in num.items()})
    return tuple((m, g, d, tuple(num.items())) for (m, g, d), num in out.items())


def _sum_over(terms: dict, k: int, lo: tuple, hi: tuple) -> dict:
    out: dict = {}
    for (mono, geo, den), num in terms.items():
        p, a = mono[k], geo[k]
        base_m = mono[:k] + (0,) + mono[k + 1 :]
        base_g = geo[:k] + (0,) + geo[k + 1 :]
        for m, g, d, knum in _kernel(p, a, lo, hi):
            _add_term(
                out,
                (_vadd(base_m, m), _vadd(base_g, g), _den_merge(den, d)),
                _lmul(num, dict(knum)),
            )
    return out


# --- reading and writing sympy ---------------------------------------------------------------


def _linear(expr, symbols) -> tuple:
    """Integer coefficients of a linear form over ``symbols`` and 1."""
    expr = sp.expand(expr)
    poly = sp.Poly(expr, *symbols) if symbols else None
    out = [0] * (len(symbols) + 1)
    if poly is None:
        if not expr.is_Integer:
            raise InvalidParameter(f"{expr} has a non-integer coefficient")
        out[-1] = int(expr)
        return tuple(out)
    for monom, coeff in poly.terms():
        if sum(monom) > 1:
            raise InvalidParameter(f"{expr} is not linear in {symbols}")
        if not coeff.is_Integer:
            raise InvalidParameter(f"{expr} has a non-integer coefficient")
        out[monom.index(1) if sum(monom) else -1] = int(coeff)
    return tuple(out)


def from_expr(expr: sp.Expr, symbols: list, base: sp.Symbol) -> dict:
    """The representation of a polynomial x geometric sympy expression in ``symbols`` (the
    variables and v) with geometric base ``base`` and rational coefficients in ``base``;
    :class:`NotPolyGeo` if it is outside."""
    from .time_sums import expand

    n = len(symbols)
    index = {x: i for i, x in enumerate(symbols)}
    out: dict = {}
    for term in sp.Add.make_args(expand(expr)):
        mono, geo, const = [0] * n, [0] * n, []
        for f in sp.Mul.make_args(term):
            if f in index:
                mono[index[f]] += 1
            elif f.is_Pow and f.base in index:
                if not (f.exp.is_Integer and f.exp > 0):
                    raise NotPolyGeo(f)
                mono[index[f.base]] += int(f.exp)
            elif f.is_Pow and f.base == base and f.exp.free_symbols & set(symbols):
                try:
                    lin = _linear(f.exp, symbols)
                except (InvalidParameter, sp.PolynomialError) as exc:
                    raise NotPolyGeo(f) from exc
                geo = [g + c for g, c in zip(geo, lin)]
                const.append(base ** lin[-1])
            elif f.free_symbols <= {base}:
                const.append(f)
            else:
                raise NotPolyGeo(f)
        c = sp.Mul(*const)
        if c.free_symbols - {base}:
            raise NotPolyGeo(c)
        num, den = sp.fraction(sp.cancel(c))
        try:
            nump = sp.Poly(num, base)
            denp = sp.Poly(den, base)
        except sp.PolynomialError as exc:
            raise NotPolyGeo(c) from exc
        if len(denp.terms()) != 1:  # only monomial denominators are read (s^-k)
            raise NotPolyGeo(c)
        (((dk,), dc),) = denp.terms()
        laurent = {}
        for (e,), cc in nump.terms():
            q = sp.Rational(cc) / dc
            if not q.is_Rational:
                raise NotPolyGeo(c)
            laurent[e - dk] = Fraction(int(q.p), int(q.q))
        _add_term(out, (tuple(mono), tuple(geo), ()), laurent)
    return out


def _laurent_expr(num: dict, s) -> sp.Expr:
    return sp.Add(*[sp.Rational(c.numerator, c.denominator) * s**e for e, c in num.items()])


def to_expr(terms: dict, symbols: list, base: sp.Symbol) -> sp.Expr:
    """The sympy expression of a representation (inverse of :func:`from_expr`)."""
    out = []
    for (mono, geo, den), num in terms.items():
        f = _laurent_expr(num, base)
        for a, m in den:
            f = f / (base**a - 1) ** m
        mon = sp.Mul(*[x**p for x, p in zip(symbols, mono) if p])
        g = sp.Add(*[c * x for x, c in zip(symbols, geo) if c])
        out.append(f * mon * base**g)
    return sp.Add(*out)


# --- the constrained sum ---------------------------------------------------------------------


def _v_range(form: tuple) -> tuple | None:
    """The integers v with a v + c >= 0 (form = (..., a, c), nothing else)."""
    a, c = form[-2], form[-1]
    if a == 0:
        return (None, None) if c >= 0 else None
    if a > 0:
        return (-(c // a), None)
    return (None, c // -a)


def _meet(r1, r2):
    if r1 is None or r2 is None:
        return None
    lo = max((x for x in (r1[0], r2[0]) if x is not None), default=None)
    hi = min((x for x in (r1[1], r2[1]) if x is not None), default=None)
    if lo is not None and hi is not None and hi < lo:
        return None
    return (lo, hi)


def _subst_form(f: tuple, k: int, value: tuple) -> tuple:
    a = f[k]
    if not a:
        return f
    g = f[:k] + (0,) + f[k + 1 :]
    return tuple(x + a * y for x, y in zip(g, value))


def _normal(f: tuple) -> tuple:
    """``f >= 0`` divided by the gcd g of its coefficients but the constant: the same
    integer points (``sum (a_i/g) y_i + floor(c/g) >= 0``), with small coefficients after
    the splits ``y -> m y' + r``."""
    g = functools.reduce(math.gcd, f[:-1], 0)
    if g <= 1:
        return f
    return tuple(c // g for c in f)


def polygeo_sum(summand, variables, eqs, ineqs, v, v_min) -> list:
    """The pieces ``[(terms, (lo, hi)), ...]`` of the constrained sum (see
    :func:`~nnqft.derive.loops.block_sums.constrained_sum`): each a closed form in v (the
    representation over ``[*variables, v]``) valid for ``lo <= v <= hi``; their sum is the
    sum at each integer v >= v_min.  The base is the summand's one geometric base
    (:class:`NotPolyGeo` if it has several or is outside the representation)."""
    symbols = [*variables, v]
    bases = {
        f.base
        for f in sp.preorder_traversal(summand)
        if isinstance(f, sp.Pow) and f.exp.free_symbols & set(symbols)
    }
    if len(bases) > 1 or any(not isinstance(b, sp.Symbol) for b in bases):
        raise NotPolyGeo(bases)
    base = next(iter(bases)) if bases else S.sigma_w2
    terms = from_expr(summand, symbols, base)
    eq_forms = [_linear(e, symbols) for e in eqs]
    ineq_forms = [_linear(f, symbols) for f in ineqs]
    n = len(variables)
    pieces = _sum(terms, tuple(range(n)), eq_forms, ineq_forms, n, v_min, (None, None))
    return pieces, base


def _sum(terms, variables, eqs, ineqs, n, v_min, rng):
    """``n`` is the slot of v; forms have n + 2 entries."""
    if not terms:
        return []
    eqs = [e for e in eqs if any(e)]
    vs = set(variables)
    for e in eqs:
        if not any(e[i] for i in vs):
            a, c = e[n], e[n + 1]
            if a == 0 or c % a or -c // a < v_min:
                return []
            raise InvalidParameter("an equality holds at one depth only")
    if eqs:
        e = eqs[0]
        unit = [x for x in variables if abs(e[x]) == 1]
        if not unit:
            g = functools.reduce(math.gcd, [e[x] for x in variables if e[x]])
            if e[n] % g:
                raise NeedsResidue("an equality needs a parity of v")
            if e[n + 1] % g:
                return []
            eqs[0] = tuple(c // g for c in e)
            return _sum(terms, variables, eqs, ineqs, n, v_min, rng)
        x = unit[0]
        a = e[x]
        # x = -(e - a x)/a
        value = tuple(0 if i == x else -c * a for i, c in enumerate(e))
        rest = tuple(y for y in variables if y != x)
        return _sum(
            _substitute(terms, x, value),
            rest,
            [_subst_form(f, x, value) for f in eqs[1:]],
            [_subst_form(f, x, value) for f in ineqs],
            n,
            v_min,
            rng,
        )
    keep = []
    for f in map(_normal, ineqs):
        if any(f[i] for i in vs):
            keep.append(f)
            continue
        rng = _meet(rng, _v_range(f))
        if rng is None:
            return []
    rng = _meet(rng, (v_min, None))
    if rng is None:
        return []
    ineqs = keep
    if not variables:
        return [(terms, rng)]
    order = [*variables, n]  # the order in which an odd coefficient is reported
    best, split = None, None
    for x in variables:
        lows, ups, ok = [], [], True
        for f in ineqs:
            a = f[x]
            if a == 0:
                continue
            aa = abs(a)
            odd = [y for y in order if y != x and f[y] % aa]
            if odd:
                ok = False
                if split is None and odd[0] != n:
                    split = (odd[0], aa // math.gcd(aa, f[odd[0]]))
                break
            c0 = f[n + 1] % aa
            # bound = (g - c0)/|a|, g = f - a x
            bound = tuple(
                0 if i == x else ((c - c0) // aa if i == n + 1 else c // aa)
                for i, c in enumerate(f)
            )
            if a > 0:
                lows.append(tuple(-c for c in bound))
            else:
                ups.append(bound)
        if ok and lows and ups and (best is None or len(lows) * len(ups) < best[0]):
            best = (len(lows) * len(ups), x, lows, ups)
    if best is None and split is not None:  # y = m y' + r, r = 0..m-1
        y, m = split
        total = []
        for r in range(m):
            value = tuple(m if i == y else (r if i == n + 1 else 0) for i in range(n + 2))
            total += _sum(
                _substitute(terms, y, value),
                variables,
                [],
                [_subst_form(f, y, value) for f in ineqs],
                n,
                v_min,
                rng,
            )
        return total
    if best is None:
        raise NeedsResidue("no variable has integer bounds")
    _, x, lows, ups = best
    others = [f for f in ineqs if not f[x]]
    rest = tuple(y for y in variables if y != x)
    total = []

    def sub(f1, f2, c=0):
        return tuple(p - q for p, q in zip(f1, f2))[:-1] + (f1[-1] - f2[-1] - c,)

    for i, j in itertools.product(range(len(lows)), range(len(ups))):
        lo, hi = lows[i], ups[j]
        case = list(others)
        case += [sub(lo, lows[k], 1 if k < i else 0) for k in range(len(lows)) if k != i]
        case += [sub(ups[k], hi, 1 if k < j else 0) for k in range(len(ups)) if k != j]
        case.append(sub(hi, lo, -1))  # hi - lo + 1 >= 0
        inner = _sum_over(terms, x, lo, hi)
        total += _sum(inner, rest, [], case, n, v_min, rng)
    return total


# --- the generic form and its check ----------------------------------------------------------


def generic(pieces) -> dict:
    """The sum of the pieces valid for every large v."""
    out: dict = {}
    for terms, (_, hi) in pieces:
        if hi is None:
            for key, num in terms.items():
                _add_term(out, key, num)
    return out


#: a prime: the check at the edges is exact arithmetic modulo it
_PRIME = 2**61 - 1
#: the points s = sigma_w2 (modulo the prime) the generic form is checked at (fixed: the
#: check is reproducible; two points make a wrong agreement as likely as 1 in 10^30)
_POINTS = tuple(random.Random(20261204).randrange(2, _PRIME - 1) for _ in range(2))


def _value(terms: dict, n: int, point: int, s0: int) -> int:
    """``terms`` at v = point and s = s0, modulo the prime (only v left in the terms)."""
    P = _PRIME
    total = 0
    for (mono, _geo, den), num in terms.items():
        c = 0
        for e, x in num.items():
            c += x.numerator * pow(x.denominator, -1, P) * pow(s0, e, P)
        c *= pow(point, mono[n], P) * pow(s0, _geo[n] * point, P)
        for a, m in den:
            c *= pow(pow(s0, a, P) - 1, -m, P)
        total = (total + c) % P
    return total


def agrees(pieces, n: int, v_min: int) -> int | None:
    """The first integer v (from v_min to the last edge of a piece) where the generic form
    differs from the sum of the pieces valid there, or None.  Each side is a rational
    function of s, compared at two fixed points s modulo a prime of 61 bits, exactly
    (Schwartz-Zippel: unequal rational functions of degree d agree at a point with
    probability d/2^61)."""
    gen = generic(pieces)
    edges = [x for _, r in pieces for x in r if x is not None]
    for point in range(v_min, max(edges, default=v_min - 1) + 1):
        for s0 in _POINTS:
            true = sum(_value(t, n, point, s0) for t, r in pieces if _meet(r, (point, point)))
            if (true - _value(gen, n, point, s0)) % _PRIME:
                return point
    return None
