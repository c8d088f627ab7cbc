"""Diagram values of the linear network, summed over time labels in closed form (PHYSICS.md §4-5).

The engine's working form is the W-pairing picture of PHYSICS.md §4.  For a recurrent
linear net

    E Q(T) = q0 M(T, T) + sigma_b2 sum_{k,m<T} M(k, m)          (shared bias)
    E Q(T) = q0 M(T, T) + sigma_b2 sum_{k<T} M(k, k)             (fresh bias)

with ``M(k, m) = (1/N) E tr[(W^T)^k W^m]``.  Every pairing of ``(W^T)^k W^m`` is one
reduced diagram of :func:`nnqft.diagrams.network.trace_diagrams` (ladders of parallel pairs
collapsed) with a multiplicity >= 1 on each reduced chord; a diagram with ``a`` chords
within the first factor, ``b`` across and ``c`` within the second, all at order
``1/N^d``, places its chords in

    C_abc(k, m) = sum_{2i+l=k, 2j+l=m} binom(i-1, a-1) binom(l-1, b-1) binom(j-1, c-1)

ways (compositions of the ladder lengths), each worth ``sigma_w2^((k+m)/2) / N^d``.  The
sums over the time labels (k, m, or the ladder lengths i, j, l) are done here in closed
form: polynomial-times-geometric sums by an exact antidifference, parity constraints
(k = m mod 2, floor((T-1-l)/2)) by substituting T = 2v + tau and recombining with
(1 +- (-1)^T)/2.  No unevaluated Sum remains.  The 1/N expansion is exact to the order
requested: the coefficient of 1/N^d is the sum of the diagrams of deficit d.

>>> from nnqft.rules.symbols import T, sigma_b2, sigma_w2, q0
>>> c = recurrent_mean_coefficients("shared", 1)
>>> sp.simplify(c[0] - (q0*sigma_w2**T + sigma_b2*(1 - sigma_w2**T)/(1 - sigma_w2)))
0
>>> sp.simplify(c[1].subs(T, 3))       # the 1/N term of E Q(3): 2 sigma_w2 sigma_b2
2*sigma_b2*sigma_w2
"""

from __future__ import annotations

import functools
from collections import defaultdict

import sympy as sp

from ..diagrams.network import MAX_TRACE_DEFICIT, trace_diagrams
from ..errors import InvalidParameter, OrderTooHigh
from ..rules import symbols as S

__all__ = [
    "sum_closed_form",
    "composition_count",
    "topologies",
    "type_sum",
    "recurrent_mean_coefficients",
    "expand",
    "MAX_RECURRENT_ORDER",
]

#: the highest power of 1/N the recurrent closed forms reach
MAX_RECURRENT_ORDER = MAX_TRACE_DEFICIT

_u = sp.Symbol("u", integer=True)
_v = sp.Symbol("v", integer=True, nonnegative=True)


# --- algebra backend ---------------------------------------------------------------------


def expand(expr: sp.Expr, backend: str = "auto") -> sp.Expr:
    """``sympy.expand`` done by symengine when it is installed (``backend='auto'``), with
    nnqft's symbols (and their assumptions) restored; ``backend='sympy'`` forces sympy.

    >>> from nnqft.rules.symbols import N
    >>> expand((1 + 1/N)**2, "sympy") == expand((1 + 1/N)**2, "symengine")
    True
    """
    if backend not in ("auto", "sympy", "symengine"):
        raise InvalidParameter(f"unknown backend {backend!r}; known: auto, sympy, symengine")
    if backend != "sympy":
        try:
            import symengine as se
        except ImportError:  # pragma: no cover - symengine is a dependency
            if backend == "symengine":
                raise
        else:
            names = {s.name: s for s in expr.free_symbols}
            out = sp.sympify(se.expand(se.sympify(expr)))
            return out.xreplace({s: names.get(s.name, s) for s in out.free_symbols})
    return sp.expand(expr)


# --- closed-form summation ---------------------------------------------------------------


@functools.cache
def _antidifference(r: sp.Expr, p: int) -> sp.Expr:
    """The polynomial P(u) of degree p with ``r P(u+1) - P(u) = u^p`` (r != 1), so that
    ``sum_{u=lo}^{hi} u^p r^u = r^(hi+1) P(hi+1) - r^lo P(lo)``."""
    cs = sp.symbols(f"c0:{p + 1}")
    P = sum(c * _u**j for j, c in enumerate(cs))
    eqs = sp.Poly(sp.expand(r * P.subs(_u, _u + 1) - P - _u**p), _u).all_coeffs()
    sol = sp.solve(eqs, cs, dict=True)[0]
    return sp.expand(P.subs(sol))


def _split_term(term: sp.Expr, u: sp.Symbol):
    """term = const * u^p * ratio^u; returns (const, p, ratio)."""
    const, p, ratio = sp.Integer(1), 0, sp.Integer(1)
    for f in sp.Mul.make_args(term):
        if not f.has(u):
            const *= f
        elif f == u:
            p += 1
        elif f.is_Pow and f.base == u and f.exp.is_Integer and f.exp > 0:
            p += int(f.exp)
        elif f.is_Pow and not f.base.has(u):
            exp = sp.expand(f.exp)
            alpha = exp.coeff(u)
            rest = sp.expand(exp - alpha * u)
            if rest.has(u) or alpha.has(u):
                raise InvalidParameter(f"exponent {f.exp} is not linear in {u}")
            ratio *= f.base**alpha
            const *= f.base**rest
        else:
            raise InvalidParameter(f"cannot sum {term} over {u} in closed form")
    return const, p, ratio


def sum_closed_form(expr: sp.Expr, u: sp.Symbol, lo, hi) -> sp.Expr:
    """``sum_{u=lo}^{hi} expr`` in closed form, for expr a sum of polynomial x geometric
    terms in u (exact for hi >= lo - 1; hi may be symbolic).

    >>> x, n = sp.symbols("x n")
    >>> sp.simplify(sum_closed_form(_u * x**_u, _u, 0, n) - sp.summation(_u * x**_u, (_u, 0, n)).args[1][0])
    0
    """
    groups: dict = defaultdict(lambda: defaultdict(lambda: sp.Integer(0)))
    for term in sp.Add.make_args(expand(expr)):
        const, p, ratio = _split_term(term, u)
        groups[ratio][p] += const
    total = sp.Integer(0)
    for ratio, by_power in groups.items():
        if ratio == 1:
            poly = sum(c * u**p for p, c in by_power.items())
            total += sp.summation(poly, (u, lo, hi))
            continue
        for p, c in by_power.items():
            P = _antidifference(ratio, p)
            total += c * (ratio ** (hi + 1) * P.subs(_u, hi + 1) - ratio**lo * P.subs(_u, lo))
    return total


def composition_count(n: sp.Expr, parts: int) -> sp.Expr:
    """Ways to write n >= 1 as an ordered sum of ``parts`` >= 1 positive integers, as a
    polynomial in n: binomial(n - 1, parts - 1) (a ladder split into ``parts`` rungs).

    >>> composition_count(sp.Symbol("n"), 3)
    n**2/2 - 3*n/2 + 1
    """
    return sp.expand(sp.expand_func(sp.binomial(n - 1, parts - 1)))


# --- topologies ---------------------------------------------------------------------------


@functools.lru_cache(maxsize=8)
def topologies(order: int) -> dict:
    """The reduced diagrams of M(k, m) through 1/N^order grouped by canonical id.

    Returns ``{id: (deficit, [types of each member])}``; a class holds a diagram and its
    transpose (the two factors of z.z exchanged), which is the only symmetry.

    >>> sorted(d for d, _ in topologies(1).values())
    [0, 0, 1, 1, 1, 1, 1]
    """
    classes: dict = {}
    for d in trace_diagrams(order):
        entry = classes.setdefault(d.id, (d.deficit, []))
        entry[1].append(d.types)
    return classes


def type_weights(order: int) -> dict[int, dict[tuple, int]]:
    """``{deficit: {(a, b, c): number of reduced diagrams}}`` through 1/N^order."""
    out: dict = defaultdict(lambda: defaultdict(int))
    for deficit, members in topologies(order).values():
        for types in members:
            out[deficit][types] += 1
    return {d: dict(w) for d, w in out.items()}


def _parity_combine(parts: dict[int, sp.Expr]) -> sp.Expr:
    """Combine closed forms valid for T = 2v (tau=0) and T = 2v + 1 (tau=1) into one in T."""
    T = S.T
    forms = {tau: expand(e.subs(_v, (T - tau) / 2)) for tau, e in parts.items()}
    if _tidy(forms[0] - forms[1]) == 0:
        return forms[0]
    even = (1 + (-1) ** T) / 2
    odd = (1 - (-1) ** T) / 2
    return even * forms[0] + odd * forms[1]


def _H(a: int, upper) -> sp.Expr:
    """H_a(U) = sum_{i>=0}^{U} comp(i, a) s^i (comp(i, 0) = [i = 0])."""
    if a == 0:
        return sp.Integer(1)
    i = sp.Symbol("i", integer=True)
    return sum_closed_form(composition_count(i, a) * S.sigma_w2**i, i, 1, upper)


@functools.cache
def type_sum(kind: str, a: int, b: int, c: int) -> sp.Expr:
    """The sum over time labels of the placements of a reduced diagram of types (a, b, c),
    each weighted sigma_w2^((k+m)/2), in closed form in T:

    * ``'diagonal'``: k = m = T (the input part, q0 M(T, T));
    * ``'shared'``: all k, m <= T - 1 (shared bias, sigma_b2 sum M(k, m));
    * ``'fresh'``: k = m <= T - 1 (fresh bias, sigma_b2 sum M(k, k)).

    Valid for T >= 1.

    >>> type_sum("diagonal", 0, 1, 0)        # the planar rung ladder
    sigma_w2**T
    """
    s = S.sigma_w2
    i, l = sp.Symbol("i", integer=True), sp.Symbol("l", integer=True)
    parts = {}
    for tau in (0, 1):
        T = 2 * _v + tau
        if kind == "diagonal":
            if a == 0 and c == 0:
                val = composition_count(T, b) if b else sp.Integer(0)
            elif a == 0 or c == 0:
                val = sp.Integer(0)
            elif b == 0:
                val = composition_count(_v, a) * composition_count(_v, c) if tau == 0 else 0
            else:
                summand = composition_count(i, a) * composition_count(i, c)
                summand *= composition_count(T - 2 * i, b)
                val = sum_closed_form(summand, i, 1, _v - 1 + tau)
            val = s**T * val
        elif kind == "fresh":
            if a == 0 and c == 0:
                val = sp.Integer(1) if b == 0 else _geometric_ladder(b, T - 1)
            elif a == 0 or c == 0:
                val = sp.Integer(0)
            else:
                pair = composition_count(i, a) * composition_count(i, c) * s ** (2 * i)
                if b == 0:
                    val = sum_closed_form(pair, i, 1, _v - 1 + tau)
                else:
                    inner = sum_closed_form(composition_count(l, b) * s**l, l, 1, T - 1 - 2 * i)
                    val = sum_closed_form(pair * inner, i, 1, _v - 1)
        elif kind == "shared":
            if b == 0:
                upper = _v - 1 + tau  # floor((T - 1)/2)
                val = _H(a, upper) * _H(c, upper)
            else:
                HH = _H(a, _u) * _H(c, _u)
                val = sp.Integer(0)
                for shift, top in ((1, _v - 1), (2, _v - 2 + tau)):  # l = T - shift - 2u
                    ell = T - shift - 2 * _u
                    summand = composition_count(ell, b) * s**ell * HH
                    val += sum_closed_form(summand, _u, 0, top)
        else:
            raise InvalidParameter(f"unknown sum kind {kind!r}; known: diagonal, shared, fresh")
        parts[tau] = val
    return _parity_combine(parts)


def _geometric_ladder(b: int, upper) -> sp.Expr:
    l = sp.Symbol("l", integer=True)
    return sum_closed_form(composition_count(l, b) * S.sigma_w2**l, l, 1, upper)


def _tidy(expr: sp.Expr) -> sp.Expr:
    """Normal form of a closed form in T: group the terms by their T-dependent factor
    ``(-1)^(jT) sigma_w2^(alpha T)`` and factor each (polynomial-in-T) coefficient."""
    s, T = S.sigma_w2, S.T
    expr = expand(expr)
    groups: dict = defaultdict(lambda: sp.Integer(0))
    for term in sp.Add.make_args(expr):
        sign, alpha, rest = 0, sp.Integer(0), sp.Integer(1)
        for f in sp.Mul.make_args(term):
            if f.is_Pow and f.exp.has(T):
                base, exp = f.base, sp.expand(f.exp)
                if base.could_extract_minus_sign():
                    sign += exp.coeff(T)
                    rest *= (-1) ** (exp - exp.coeff(T) * T)
                    base = -base
                if base == 1:
                    continue
                if base.is_Pow and base.base == s:  # sqrt(sigma_w2)
                    exp, base = exp * base.exp, s
                if base != s:
                    raise InvalidParameter(f"unexpected T-dependent factor {f}")
                alpha += exp.coeff(T)
                rest *= s ** sp.expand(exp - exp.coeff(T) * T)
            else:
                rest *= f
        groups[(sign % 2, alpha)] += rest
    out = sp.Integer(0)
    for (sign, alpha), coeff in sorted(groups.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        coeff = sp.factor(sp.together(coeff))
        if coeff != 0:
            out += coeff * (-1) ** (sign * T) * s ** (alpha * T)
    return out


@functools.lru_cache(maxsize=16)
def recurrent_mean_coefficients(bias: str, order: int) -> dict[int, sp.Expr]:
    """Coefficients ``{d: E_d(T)}`` of ``E Q(T) = sum_d E_d(T) / N^d`` for a recurrent linear
    net, summed from the diagrams of each order in closed form in T (valid for T >= 1).

    >>> recurrent_mean_coefficients("fresh", 1)[1]
    0
    """
    if bias not in ("shared", "fresh"):
        raise InvalidParameter(f"unknown bias {bias!r}; known: fresh, shared")
    if isinstance(order, bool) or not isinstance(order, int) or order < 0:
        raise InvalidParameter(f"order must be a non-negative integer, got {order!r}")
    if order > MAX_RECURRENT_ORDER:
        raise OrderTooHigh(
            f"order {order} is beyond reach for the recurrent linear network "
            f"(maximum {MAX_RECURRENT_ORDER})"
        )
    weights = type_weights(order)
    out = {}
    for d in range(order + 1):
        total = sp.Integer(0)
        for (a, b, c), w in weights.get(d, {}).items():
            total += w * (
                S.q0 * type_sum("diagonal", a, b, c) + S.sigma_b2 * type_sum(bias, a, b, c)
            )
        out[d] = _tidy(total)
    return out
