"""Factored strings of O(N) factors without sympy: the same text as
``str(sympy.factor(sum c_p N**p))``.

An O(N) factor is a polynomial in N with rational coefficients, ``{power: Fraction}``.
:func:`factor_string` factors it exactly over the rationals as far as it can prove:
content, a power of N, every rational root (found by exact real-root isolation with a
Sturm sequence, then the simplest rational in an interval narrower than the gap
between rationals of denominator <= the leading coefficient, checked exactly), and a
remainder of degree <= 3 without rational roots (irreducible).  It prints the result
the way sympy's ``str`` does (factors in sympy's ``sort_key`` order).  Anything else
(negative coefficients, a remainder of degree >= 4) goes to sympy itself, so the text
is always sympy's.  Results are cached: a run has few distinct factors.

>>> from fractions import Fraction
>>> factor_string({0: Fraction(4, 9), 1: Fraction(4, 9), 2: Fraction(1, 9)})
'(N + 2)**2/9'
>>> factor_string({1: Fraction(2, 27), 2: Fraction(1, 27)})
'N*(N + 2)/27'
"""

from __future__ import annotations

import functools
import math
from fractions import Fraction

__all__ = ["factor_string"]


def factor_string(poly: dict) -> str:
    """``str(sympy.factor(...))`` of a polynomial ``{power of N: coefficient}`` (cached).

    >>> factor_string({0: Fraction(1, 3)}), factor_string({}), factor_string({1: 1})
    ('1/3', '0', 'N')
    """
    return _cached(tuple(sorted((p, Fraction(c)) for p, c in poly.items() if c)))


@functools.lru_cache(maxsize=1 << 14)
def _cached(items: tuple) -> str:
    text = _fast(items)
    if text is None:  # outside what is proved here: sympy decides
        from .on_tensor import on_factor_expr

        text = str(on_factor_expr(dict(items)))
    return text


# --------------------------------------------------------------------------------------
# exact factorisation (integer coefficient lists, lowest power first)


def _eval(p: list, x: Fraction) -> Fraction:
    acc = Fraction(0)
    for c in reversed(p):
        acc = acc * x + c
    return acc


def _divmod(a: list, b: list) -> tuple[list, list]:
    """Polynomial division over Q (coefficient lists, lowest first)."""
    a = [Fraction(c) for c in a]
    q = [Fraction(0)] * max(len(a) - len(b) + 1, 1)
    lead = Fraction(b[-1])
    while len(a) >= len(b) and any(a):
        k = len(a) - len(b)
        f = a[-1] / lead
        q[k] = f
        for i, c in enumerate(b):
            a[i + k] -= f * c
        a.pop()
        while a and a[-1] == 0:
            a.pop()
    return q, a


def _derivative(p: list) -> list:
    return [k * c for k, c in enumerate(p)][1:]


def _gcd(a: list, b: list) -> list:
    while b and any(b):
        _, r = _divmod(a, b)
        a, b = b, r
    return a


def _sturm(p: list) -> list[list]:
    seq = [p, _derivative(p)]
    while len(seq[-1]) > 1:
        _, r = _divmod(seq[-2], seq[-1])
        if not r:
            break
        seq.append([-c for c in r])
    return seq


def _variations(seq, x: Fraction) -> int:
    signs = [s for s in (_eval(p, x) for p in seq) if s]
    return sum(1 for a, b in zip(signs, signs[1:]) if (a < 0) != (b < 0))


def _simplest(x: Fraction, y: Fraction) -> Fraction:
    """The rational of smallest denominator in [x, y] (0 <= x <= y)."""
    n = math.floor(x)
    if n == x or n + 1 <= y:
        return Fraction(n if n == x else n + 1)
    return n + 1 / _simplest(1 / (y - n), 1 / (x - n))


def _rational_roots(p: list) -> list[Fraction]:
    """Every rational root of the integer polynomial ``p`` (all coefficients > 0, so
    every real root is negative), by isolating the real roots of its square-free part."""
    q = _gcd(p, _derivative(p))
    sq = _divmod(p, q)[0] if len(q) > 1 else [Fraction(c) for c in p]
    lead = abs(p[-1])
    bound = 1 + max(Fraction(abs(c), lead) for c in p[:-1])
    width = Fraction(1, 2 * lead * lead)  # rationals of denominator <= lead are further apart
    roots: list[Fraction] = []
    while len(sq) > 1:
        r = _one_root(sq, bound, width)
        if r is None:
            break
        roots.append(r)
        sq = _divmod(sq, [-r, 1])[0]
    return roots


def _one_root(sq: list, bound: Fraction, width: Fraction) -> Fraction | None:
    """A rational root of the square-free ``sq`` in (-bound, 0), or None if it has none."""
    seq = _sturm(sq)
    stack = [(-bound, Fraction(0))]
    while stack:
        lo, hi = stack.pop()
        if _variations(seq, lo) == _variations(seq, hi):  # no root in (lo, hi]
            continue
        if hi - lo > width:
            mid = (lo + hi) / 2
            if _eval(sq, mid) == 0:
                return mid
            stack += [(lo, mid), (mid, hi)]
            continue
        r = -_simplest(-hi, -lo)  # the only candidate of denominator <= lead in [lo, hi]
        if _eval(sq, r) == 0:
            return r
    return None


def _factors(items: tuple):
    """``(content, power of N, [(integer coefficients, exponent)])`` or None."""
    if any(c <= 0 for _, c in items):
        return None
    low = items[0][0]
    degree = items[-1][0]
    coeffs = [Fraction(0)] * (degree - low + 1)
    for k, c in items:
        coeffs[k - low] = c
    denom = math.lcm(*(c.denominator for c in coeffs))
    ints = [int(c * denom) for c in coeffs]
    g = math.gcd(*ints)
    ints = [c // g for c in ints]
    content = Fraction(g, denom)
    out = []
    if len(ints) > 1:
        for r in sorted(_rational_roots(ints)):
            lin = [-r.numerator, r.denominator]  # b N - a for the root a/b
            e = 0
            while len(ints) > 1:
                quo, rem = _divmod(ints, lin)
                if rem:
                    break
                ints = [int(c) for c in quo]
                e += 1
            out.append((lin, e))
        if len(ints) > 4:
            return None  # a remainder of degree >= 4 might still factor
        if len(ints) > 1:
            out.append((ints, 1))
    return content, low, out


# --------------------------------------------------------------------------------------
# printing like sympy's StrPrinter (Mul factors in sort_key order, Add terms by degree)

_NUMBER = (1, 0, "Number")
_SYMBOL = (2, 0, "Symbol")


def _num_key(k):
    return (_NUMBER, (0, ()), (), k)


def _term_key(k: int, c: int):
    return _num_key(c) if k == 0 else (_SYMBOL, (1, ("N",)), _num_key(k), c)


def _monomial(k: int) -> str:
    return "N" if k == 1 else f"N**{k}"


def _add_text(coeffs: list) -> str:
    out = []
    for k in range(len(coeffs) - 1, -1, -1):
        c = coeffs[k]
        if not c:
            continue
        a = abs(c)
        t = str(a) if k == 0 else (_monomial(k) if a == 1 else f"{a}*{_monomial(k)}")
        if not out:
            out.append(("-" if c < 0 else "") + t)
        else:
            out.append((" - " if c < 0 else " + ") + t)
    return "".join(out)


def _fast(items: tuple) -> str | None:
    if not items:
        return "0"
    found = _factors(items)
    if found is None:
        return None
    content, n_power, polys = found
    factors = []  # (sort key, text as a Mul factor, text alone)
    if n_power:
        factors.append(((0,), _monomial(n_power), _monomial(n_power)))
    for coeffs, e in polys:
        terms = [_term_key(k, c) for k in range(len(coeffs) - 1, -1, -1) if (c := coeffs[k])]
        key = (1, (len(terms), tuple(terms)), _num_key(e))
        body = _add_text(coeffs)
        text = f"({body})" if e == 1 else f"({body})**{e}"
        factors.append((key, text, body if e == 1 else text))
    factors.sort(key=lambda f: f[0])
    p, q = content.numerator, content.denominator
    if len(factors) == 1 and content == 1:
        return factors[0][2]
    num = ([str(p)] if p != 1 else []) + [f[1] for f in factors]
    text = "*".join(num) if num else "1"
    return text if q == 1 else f"{text}/{q}"
