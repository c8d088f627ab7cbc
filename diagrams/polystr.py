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
import itertools
import math
from fractions import Fraction

__all__ = ["factor_string"]


def factor_string(poly: dict) -> str:
    """``str(sympy.factor(...))`` of a polynomial in N (cached).

    Parameters
    ----------
    poly : dict
        ``{power of N: coefficient}`` with integer or Fraction coefficients.

    Returns
    -------
    str
        The factored polynomial as sympy prints it (``'0'`` for the empty dict).

    Examples
    --------
    >>> factor_string({0: Fraction(1, 3)}), factor_string({}), factor_string({1: 1})
    ('1/3', '0', 'N')
    """
    return _cached(tuple(sorted((p, c) for p, c in poly.items() if c)))


@functools.lru_cache(maxsize=1 << 14)
def _cached(items: tuple) -> str:
    items = tuple((p, Fraction(c)) for p, c in items)
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
    """Sign changes of the integer Sturm sequence ``seq`` at ``x`` (exact integer
    arithmetic: the sign of p(n/d) is the sign of d^deg p(n/d))."""
    n, d = x.numerator, x.denominator
    last = 0
    changes = 0
    for p in seq:
        acc = 0
        scale = 1
        for c in reversed(p):  # Horner on sum c_k n^k d^(deg-k)
            acc = acc * n + c * scale
            scale *= d
        if acc:
            if last and (acc < 0) != (last < 0):
                changes += 1
            last = acc
    return changes


def _integer(p: list) -> list[int]:
    """A positive multiple of the rational coefficient list ``p`` with integer entries."""
    m = math.lcm(*(Fraction(c).denominator for c in p))
    return [int(c * m) for c in p]


def _float_root(p: list, lo: float, hi: float) -> float:
    """The root of ``p`` in (lo, hi), where it changes sign, by float bisection."""
    f = [float(c) for c in p]

    def ev(x):
        acc = 0.0
        for c in reversed(f):
            acc = acc * x + c
        return acc

    flo = ev(lo)
    for _ in range(200):
        mid = (lo + hi) / 2
        if mid in (lo, hi):
            break
        fm = ev(mid)
        if fm == 0:
            return mid
        if (fm < 0) == (flo < 0):
            lo, flo = mid, fm
        else:
            hi = mid
    return (lo + hi) / 2


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
    # proposals first: numerical roots, each rounded to the simplest nearby rational and
    # kept only if it is an exact root; the exact isolation below then proves that what
    # is left has no rational root (usually at once: no real root remains)
    if len(sq) > 2:
        try:
            proposals = _roots([float(c) for c in sq])
        except (OverflowError, ZeroDivisionError):
            proposals = []
        for z in proposals:
            x = z.real
            if abs(z.imag) > 1e-6 * (1 + abs(x)) or not -bound < x < 0 or len(sq) < 2:
                continue
            tol = Fraction(1e-9 * (1 + abs(x)))
            r = -_simplest(Fraction(-x) - tol, Fraction(-x) + tol)
            if _eval(sq, r) == 0:
                roots.append(r)
                sq = _divmod(sq, [-r, 1])[0]
    while len(sq) > 1:
        r = _one_root(sq, bound, width)
        if r is None:
            break
        roots.append(r)
        sq = _divmod(sq, [-r, 1])[0]
    return roots


def _one_root(sq: list, bound: Fraction, width: Fraction) -> Fraction | None:
    """A rational root of the square-free ``sq`` in (-bound, 0), or None if it has none.

    Sturm bisection down to isolated roots; an interval with exactly one root is then
    shrunk at once around a float estimate of it (the sign change there checked exactly)
    to below ``width``, where the simplest rational is the only candidate."""
    seq = [_integer(p) for p in _sturm(sq)]
    stack = [(-bound, Fraction(0))]
    while stack:
        lo, hi = stack.pop()
        vlo, vhi = _variations(seq, lo), _variations(seq, hi)
        if vlo == vhi:  # no root in (lo, hi]
            continue
        if hi - lo > width and vlo - vhi == 1:
            x = Fraction(_float_root(sq, float(lo), float(hi)))
            a, b = max(lo, x - width / 4), min(hi, x + width / 4)
            sa, sb = _eval(sq, a), _eval(sq, b)
            if sa == 0:
                return a
            if sb == 0:
                return b
            if (sa < 0) != (sb < 0) and lo < a < b <= hi:  # the root is in (a, b)
                r = -_simplest(-b, -a)
                if _eval(sq, r) == 0:
                    return r
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


# irreducibility of a remainder without rational roots, from its factor degrees mod p

_PRIMES = (3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79)


def _trim(a: list) -> list:
    while a and a[-1] == 0:
        a.pop()
    return a


def _pdivmod(a: list, b: list, p: int) -> tuple[list, list]:
    a = list(a)
    inv = pow(b[-1], -1, p)
    q = [0] * max(len(a) - len(b) + 1, 1)
    while len(a) >= len(b):
        k = len(a) - len(b)
        f = a[-1] * inv % p
        q[k] = f
        for i, c in enumerate(b):
            a[i + k] = (a[i + k] - f * c) % p
        _trim(a)
    return _trim(q), a


def _pgcd(a: list, b: list, p: int) -> list:
    while b:
        a, b = b, _pdivmod(a, b, p)[1]
    return a


def _pmulmod(a: list, b: list, f: list, p: int) -> list:
    out = [0] * (len(a) + len(b) - 1) if a and b else []
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            out[i + j] = (out[i + j] + x * y) % p
    return _pdivmod(_trim(out), f, p)[1]


def _degrees_mod(f: list, p: int) -> list[int] | None:
    """Degrees of the irreducible factors of ``f`` mod ``p`` (distinct-degree
    factorisation), or None where p divides the leading coefficient or f is not
    square-free mod p."""
    f = _trim([c % p for c in f])
    if len(f) < 2:
        return None
    df = _trim([k * c % p for k, c in enumerate(f)][1:])
    if len(_pgcd(f, df, p)) != 1:
        return None
    degrees: list[int] = []
    h = [0, 1]
    i = 0
    while len(f) - 1 >= 2 * (i + 1):
        i += 1
        e, base, acc = p, h, [1]  # h <- h^p mod f
        while e:
            if e & 1:
                acc = _pmulmod(acc, base, f, p)
            base = _pmulmod(base, base, f, p)
            e >>= 1
        h = acc
        hx = list(h) + [0] * max(0, 2 - len(h))
        hx[1] = (hx[1] - 1) % p
        g = _pgcd(f, _trim(hx), p)
        if len(g) > 1:
            degrees += [i] * ((len(g) - 1) // i)
            f = _pdivmod(f, g, p)[0]
            h = _pdivmod(h, f, p)[1]
    if len(f) > 1:
        degrees.append(len(f) - 1)
    return degrees


def _irreducible(f: list) -> bool:
    """Whether the primitive integer polynomial ``f`` (no rational roots) is proved
    irreducible over Q: a factor's degree must be a sum of factor degrees mod every good
    prime; when no degree between 2 and deg - 2 survives, there is none."""
    d = len(f) - 1
    possible = set(range(2, d - 1))
    for p in _PRIMES:
        if not possible:
            return True
        if f[-1] % p == 0:
            continue
        degrees = _degrees_mod(f, p)
        if degrees is None:
            continue
        sums = {0}
        for k in degrees:
            sums |= {s + k for s in sums}
        possible &= sums
    return not possible


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
        if len(ints) > 1:
            parts = _split(ints)
            if parts is None:
                return None  # a remainder of degree >= 4 not settled here
            for f in sorted(set(map(tuple, parts))):
                out.append((list(f), parts.count(list(f))))
    return content, low, out


def _roots(f: list) -> list[complex]:
    """Numerical complex roots (Durand-Kerner), only to propose candidate factors."""
    lead = f[-1]
    c = [x / lead for x in f]
    d = len(f) - 1
    z = [(0.4 + 0.9j) ** k for k in range(d)]
    for _ in range(300):
        new = []
        for i, zi in enumerate(z):
            num = 0j
            for x in reversed(c):
                num = num * zi + x
            den = 1 + 0j
            for j, zj in enumerate(z):
                if j != i:
                    den *= zi - zj
            new.append(zi - num / den if den else zi + 1e-9)
        if max(abs(a - b) for a, b in zip(new, z)) < 1e-14:
            z = new
            break
        z = new
    return z


def _split(f: list) -> list[list] | None:
    """Irreducible factors (primitive integer coefficient lists, repeated by
    multiplicity) of ``f``, which has no rational roots; None where not settled.  A
    factor is proposed from a set of numerical roots and kept only if it divides exactly;
    every final factor is proved irreducible (degree <= 3, or :func:`_irreducible`)."""
    d = len(f) - 1
    if d <= 3 or _irreducible(f):
        return [f]
    lead = f[-1]
    if lead > 10**6:
        return None
    leads = [b for b in range(1, lead + 1) if lead % b == 0]
    try:
        roots = _roots(f)
    except (OverflowError, ZeroDivisionError):
        return None
    for k in range(2, d // 2 + 1):
        for subset in itertools.combinations(range(d), k):
            prod = [1 + 0j]
            for i in subset:
                prod = [0j] + prod
                for j in range(len(prod) - 1):
                    prod[j] -= roots[i] * prod[j + 1]
            if not all(math.isfinite(abs(x)) for x in prod) or any(
                abs(x.imag) > 1e-6 * (1 + abs(x.real)) for x in prod
            ):
                continue
            for b in leads:
                cand = [round(b * x.real) for x in prod]
                if cand[-1] != b or math.gcd(*cand) != 1:
                    continue
                quo, rem = _divmod(f, cand)
                if rem or any(q.denominator != 1 for q in quo):
                    continue
                left, right = _split(cand), _split([int(q) for q in quo])
                if left is None or right is None:
                    return None
                return left + right
    return None


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
