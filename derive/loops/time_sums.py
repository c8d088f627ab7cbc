"""Sums over time labels in closed form: the sum engine of the loop evaluator.

Conventions: docs/conventions.md §4-5.

A diagram of the linear network is placed along its response lines in many ways; the sum
over the placements (ladder lengths, injection times of the bias) is a sum of polynomial x
geometric terms in each summed label, done here in closed form in the depth T:

* :func:`sum_closed_form` sums ``u^p r^u`` by an exact antidifference (r != 1) or by
  Faulhaber's polynomials (r = 1), for symbolic bounds;
* :func:`type_sum` sums the placements of a reduced chord diagram of types (a, b, c)
  (pairs within the first factor, across, within the second) for the three ways a word
  meets its source: the input (``'diagonal'``), a shared bias (``'shared'``), a fresh bias
  (``'fresh'``); parity constraints (k = m mod 2) are handled by T = 2v + tau and
  recombined with (1 +- (-1)^T)/2, and bounds that need a residue of T modulo 4, 6 or 12
  by the weights of :func:`residue_weight` (cos and sin of 2 pi k T/p);
* :func:`tidy` brings a closed form to its normal form (terms grouped by their
  T-dependent factor, each coefficient over one denominator, factored).

>>> from nnqft.rules.symbols import T, sigma_w2
>>> type_sum("diagonal", 0, 1, 0)        # the planar rung ladder of E Q(T): sigma_w2^T
sigma_w2**T
>>> tidy(sum_closed_form(sigma_w2**_u, _u, 0, T - 1))   # grouped by the power of T
sigma_w2**T/(sigma_w2 - 1) - 1/(sigma_w2 - 1)
"""

from __future__ import annotations

import functools
from collections import defaultdict

import sympy as sp

from ...errors import InvalidParameter
from ...rules import symbols as S

__all__ = [
    "expand",
    "sum_closed_form",
    "composition_count",
    "type_sum",
    "tidy",
    "stationary_limit",
    "geometric_partial",
    "residue_weight",
    "SUM_KINDS",
]

#: the three ways a word meets its source (see :func:`type_sum`)
SUM_KINDS = ("diagonal", "shared", "fresh")
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
            out = sp.sympify(se.expand(se.sympify(expr)))  # safe: sympy/symengine objects
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


@functools.cache
def _power_sum(p: int) -> sp.Expr:
    """Faulhaber's polynomial F(n) = sum_{u=1}^{n} u^p = (B_{p+1}(n+1) - B_{p+1}(1))/(p+1),
    in ``_u`` (so that a sum from lo to hi is F(hi) - F(lo-1), for any integer lo)."""
    b = sp.bernoulli(p + 1, _u + 1) - sp.bernoulli(p + 1, 1)
    return sp.expand(b / (p + 1))


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
    >>> exact = sp.summation(_u * x**_u, (_u, 0, n)).args[1][0]   # sympy's r != 1 branch
    >>> sp.simplify(sum_closed_form(_u * x**_u, _u, 0, n) - exact)
    0
    """
    groups: dict = defaultdict(lambda: defaultdict(list))
    for term in sp.Add.make_args(expand(expr)):
        const, p, ratio = _split_term(term, u)
        groups[ratio][p].append(const)
    total = []
    for ratio, by_power in groups.items():
        for p, consts in by_power.items():
            c = sp.Add(*consts)
            if ratio == 1:
                F = _power_sum(p)
                total.append(c * (F.subs(_u, hi) - F.subs(_u, lo - 1)))
            else:
                P = _antidifference(ratio, p)
                total.append(
                    c * (ratio ** (hi + 1) * P.subs(_u, hi + 1) - ratio**lo * P.subs(_u, lo))
                )
    return sp.Add(*total)


def composition_count(n: sp.Expr, parts: int) -> sp.Expr:
    """Ways to write n >= 1 as an ordered sum of ``parts`` >= 1 positive integers, as a
    polynomial in n: binomial(n - 1, parts - 1) (a ladder split into ``parts`` rungs).

    >>> composition_count(sp.Symbol("n"), 3)
    n**2/2 - 3*n/2 + 1
    """
    return sp.expand(sp.expand_func(sp.binomial(n - 1, parts - 1)))


def _parity_combine(parts: dict[int, sp.Expr]) -> sp.Expr:
    """Combine closed forms valid for T = 2v (tau=0) and T = 2v + 1 (tau=1) into one in T."""
    T = S.T
    forms = {tau: expand(e.subs(_v, (T - tau) / 2)) for tau, e in parts.items()}
    if tidy(forms[0] - forms[1], factor=False) == 0:
        return forms[0]
    even = (1 + (-1) ** T) / 2
    odd = (1 - (-1) ** T) / 2
    return even * forms[0] + odd * forms[1]


def residue_weight(tau: int, period: int, T=None) -> sp.Expr:
    """The indicator of ``T = tau (mod period)`` at integer T, as a real trigonometric
    polynomial in T: ``(1/p) sum_k cos(2 pi k (T - tau)/p)``, written with ``(-1)^T``
    for the frequency 1/2 and ``cos(2 pi k T/p)``, ``sin(2 pi k T/p)``, 0 < k < p/2.

    >>> w = residue_weight(1, 3)
    >>> [w.subs(S.T, t) for t in range(6)]
    [0, 1, 0, 0, 1, 0]
    """
    T = S.T if T is None else T
    total = sp.Integer(1)
    for k in range(1, period // 2 + 1):
        if 2 * k == period:
            total += (-1) ** (T - tau)
            continue
        a = 2 * sp.pi * k / period
        total += 2 * (sp.cos(a * tau) * sp.cos(a * T) + sp.sin(a * tau) * sp.sin(a * T))
    return sp.expand(total / period)


def _residue_combine(parts: dict[int, sp.Expr], modulus: int) -> sp.Expr:
    """Combine closed forms valid for T = modulus v + tau, tau = 0..modulus-1, into one in
    T: the residues are merged to the form's true period p first (the smallest divisor of
    ``modulus`` it repeats with); p = 1 or 2 gives :func:`_parity_combine`'s forms, a
    larger period the weights of :func:`residue_weight`."""
    if modulus == 2:
        return _parity_combine(parts)
    T = S.T
    forms = {tau: expand(e.subs(_v, (T - tau) / modulus)) for tau, e in parts.items()}

    def repeats(p):
        return all(
            tidy(forms[tau] - forms[tau % p], factor=False) == 0 for tau in range(p, modulus)
        )

    period = next(p for p in range(1, modulus + 1) if modulus % p == 0 and repeats(p))
    if period <= 2:
        return _parity_combine({t: forms[t % period].subs(T, 2 * _v + t) for t in (0, 1)})
    return sp.Add(*[expand(residue_weight(t, period, T) * forms[t]) for t in range(period)])


def _H(a: int, upper, s) -> sp.Expr:
    """H_a(U) = sum_{i>=0}^{U} comp(i, a) s^i (comp(i, 0) = [i = 0])."""
    if a == 0:
        return sp.Integer(1)
    i = sp.Symbol("i", integer=True)
    return sum_closed_form(composition_count(i, a) * s**i, i, 1, upper)


def type_sum(kind: str, a: int, b: int, c: int, critical: bool = False) -> sp.Expr:
    """The sum over time labels of the placements of a reduced diagram of types (a, b, c),
    each weighted sigma_w2^((k+m)/2), in closed form in T:

    * ``'diagonal'``: k = m = T (the input part, q0 M(T, T));
    * ``'shared'``: all k, m <= T - 1 (shared bias, sigma_b2 sum M(k, m));
    * ``'fresh'``: k = m <= T - 1 (fresh bias, sigma_b2 sum M(k, k)).

    Valid for T >= 1.  ``critical=True`` sums at sigma_w2 = 1 (pure polynomial sums).

    >>> type_sum("diagonal", 0, 1, 0)        # the planar rung ladder
    sigma_w2**T
    """
    if kind not in SUM_KINDS:
        raise InvalidParameter(f"unknown sum kind {kind!r}; known: {', '.join(SUM_KINDS)}")
    # every kind is symmetric under exchanging the two factors of z.z (a <-> c)
    return _type_sum(kind, min(a, c), b, max(a, c), bool(critical))


@functools.cache
def _type_sum(kind: str, a: int, b: int, c: int, critical: bool) -> sp.Expr:
    s = sp.Integer(1) if critical else S.sigma_w2
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
                val = sp.Integer(1) if b == 0 else _geometric_ladder(b, T - 1, s)
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
                val = _H(a, upper, s) * _H(c, upper, s)
            else:
                HH = _H(a, _u, s) * _H(c, _u, s)
                val = sp.Integer(0)
                for shift, top in ((1, _v - 1), (2, _v - 2 + tau)):  # l = T - shift - 2u
                    ell = T - shift - 2 * _u
                    summand = composition_count(ell, b) * s**ell * HH
                    val += sum_closed_form(summand, _u, 0, top)
        else:
            raise InvalidParameter(f"unknown sum kind {kind!r}; known: {', '.join(SUM_KINDS)}")
        parts[tau] = val
    return _parity_combine(parts)


def _geometric_ladder(b: int, upper, s) -> sp.Expr:
    l = sp.Symbol("l", integer=True)
    return sum_closed_form(composition_count(l, b) * s**l, l, 1, upper)


def _s_exponents(expr: sp.Expr, s: sp.Symbol) -> set:
    return {p.exp for p in expr.atoms(sp.Pow) if p.base == s}


def _rational_normal_form(coeff: sp.Expr, s, w, factor) -> sp.Expr:
    """``coeff`` (a rational function of sigma_w2 or sqrt(sigma_w2), T, q0, ...) over one
    denominator, computed in a sympy rational function field (much faster than
    together/factor on expression trees); numerator and denominator factored."""
    # fractional powers sigma_w2^(k/q) (a half from sqrt(sigma_w2) ladders, a third from
    # bounds 3 L >= 2 T) become integer powers of w = sigma_w2^(1/q)
    q = 1
    for e in _s_exponents(coeff, s):
        if not e.is_Rational:
            raise InvalidParameter(f"unexpected power sigma_w2**({e})")
        q = sp.ilcm(q, e.q)
    half = q > 1
    var = w if half else s
    expr = coeff.subs(s, w**q) if half else coeff
    gens = [var, *sorted(expr.free_symbols - {var}, key=str)]
    ring, *_ = sp.ring(gens, sp.QQ)
    # the terms share a few denominators (powers of r - 1 from the antidifferences): sum the
    # numerators over their least common multiple, then cancel once (a cancel per added
    # term in a rational function field cost most of a derivation)
    by_den: dict = defaultdict(list)
    for term in sp.Add.make_args(expr):
        n, d = term.as_numer_denom()
        by_den[d].append(n)
    dens = {d: ring.from_expr(d) for d in by_den}
    lcm = ring.one
    for d in dens.values():
        lcm = lcm.lcm(d)
    total = ring.zero
    for d, nums in by_den.items():
        total += ring.from_expr(sp.Add(*nums)) * lcm.exquo(dens[d])
    if not total:
        return sp.Integer(0)
    _, num_p, den_p = total.cofactors(lcm)
    if den_p.LC < 0:
        num_p, den_p = -num_p, -den_p
    num, den = num_p.as_expr(), den_p.as_expr()
    if factor == "denominator":  # cheap: the denominators are products of small factors
        den = sp.factor(den)
    elif factor:
        num, den = sp.factor(num), sp.factor(den)
    out = num / den
    return out.subs(w, s ** sp.Rational(1, q)) if half else out


def tidy(expr: sp.Expr, factor: bool = True) -> sp.Expr:
    """Normal form of a closed form in T: group the terms by their T-dependent factor
    ``(-1)^(jT) sigma_w2^(alpha T)`` and factor each (polynomial-in-T) coefficient
    (``factor=False``: only bring each coefficient over a common denominator, enough to
    decide whether the form is zero; ``factor="denominator"``: factor the denominators
    only)."""
    s, T = S.sigma_w2, S.T
    expr = expand(expr)
    # terms collected in lists and added once: accumulating a sympy Add term by term is
    # quadratic in the number of terms (hundreds at 1/N^3)
    groups: dict = defaultdict(list)
    for term in sp.Add.make_args(expr):
        sign, alpha, rest, wave = 0, sp.Integer(0), [], None
        for f in sp.Mul.make_args(term):
            if isinstance(f, (sp.cos, sp.sin)) and f.has(T):
                r = sp.expand(f.args[0] / (sp.pi * T))  # the wave cos or sin(pi r T)
                if wave is not None or not r.is_Rational:
                    raise InvalidParameter(f"unexpected T-dependent factor {f}")
                wave = (type(f), r)
            elif f.is_Pow and f.exp.has(T):
                base, exp = f.base, sp.expand(f.exp)
                if base.could_extract_minus_sign():
                    sign += exp.coeff(T)
                    rest.append((-1) ** (exp - exp.coeff(T) * T))
                    base = -base
                if base == 1:
                    continue
                if base.is_Pow and base.base == s:  # sqrt(sigma_w2)
                    exp, base = exp * base.exp, s
                if base != s:
                    raise InvalidParameter(f"unexpected T-dependent factor {f}")
                alpha += exp.coeff(T)
                rest.append(s ** sp.expand(exp - exp.coeff(T) * T))
            else:
                rest.append(f)
        if wave is not None:
            kind, r = wave
            if sign % 2:  # at integer T, (-1)^T cos(pi r T) = cos(pi (1 - r) T), sin: -sin
                sign, r = 0, 1 - r
                if kind is sp.sin:
                    rest.append(sp.Integer(-1))
            r = r % 2  # the waves have period 2 in r at integer T
            if r > 1:  # cos(pi r T) = cos(pi (2 - r) T), sin(pi r T) = -sin(pi (2 - r) T)
                r = 2 - r
                if kind is sp.sin:
                    rest.append(sp.Integer(-1))
            wave = kind(sp.pi * r * T)
            if r == 0 or (r == 1 and kind is sp.sin):
                wave = 0 if kind is sp.sin else None
            elif r == 1:
                wave, sign = None, sign + 1
            if wave == 0:
                continue
        groups[(sign % 2, alpha, wave)].append(sp.Mul(*rest))
    w = sp.Symbol("w", positive=True)  # sqrt(sigma_w2), so half-integer powers factor
    parts = []

    def order(kv):
        (sign, alpha, wave) = kv[0]
        return (alpha, sign, str(wave) if wave is not None else "")

    for (sign, alpha, wave), terms in sorted(groups.items(), key=order):
        coeff = _rational_normal_form(sp.Add(*terms), s, w, factor)
        if coeff != 0:
            q = 1 if wave is None else wave
            parts.append(coeff * (-1) ** (sign * T) * s ** (alpha * T) * q)
    return sp.Add(*parts)


def geometric_partial(upper, s) -> sp.Expr:
    """G(U) = sum_{y=0}^{U} s^y in closed form (G(-1) = 0)."""
    y = sp.Symbol("y", integer=True)
    return sum_closed_form(s**y, y, 0, upper)


def stationary_limit(expr: sp.Expr) -> sp.Expr:
    """The T -> oo limit of a closed form for 0 < sigma_w2 < 1: every term carrying
    sigma_w2^(alpha T) with alpha > 0 vanishes.

    >>> stationary_limit(S.sigma_w2**S.T * S.q0 + S.sigma_b2 / (1 - S.sigma_w2))
    -sigma_b2/(sigma_w2 - 1)
    """
    normal = tidy(expr)
    keep = [
        term
        for term in sp.Add.make_args(normal)
        if not any(f.is_Pow and f.exp.has(S.T) for f in sp.Mul.make_args(term))
    ]
    return sp.factor(sp.Add(*keep))
