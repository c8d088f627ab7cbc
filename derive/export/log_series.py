r"""A branch that is exact at sigma_w2 = 1: the closed form as a power series in ln sigma_w2.

The recurrent means of the linear network are sums over time of polynomial x geometric
terms; their closed forms (:mod:`nnqft.derive.loops.time_sums`) carry poles at
sigma_w2 = 1 of order up to 10 (in powers of sqrt(sigma_w2) - 1) that cancel, so near
there double precision loses every digit, and an interpolation through the closed form
(:func:`nnqft.derive.export.base.finite_branches`) inherits the loss.  Here the closed form
is expanded exactly, with the depth T symbolic:

* every power of sigma_w2 is an exponential in ``L = ln sigma_w2``: sigma_w2**(a T + b) =
  exp(a T L) exp(b L), sqrt(sigma_w2) = exp(L/2), and (-1)**T stays a constant;
* over one common denominator, the numerator is a sum of ``c(T, ...) exp(r L)`` (rates
  r = a T + b), whose Taylor coefficients are ``c r**j / j!``, and the denominator a
  polynomial in exp(L/2) with numeric coefficients; the coefficients of the numerator
  below the denominator's order of vanishing must be zero (checked exactly: this is the
  statement that the point is removable), and the quotient of the two series is the
  Taylor series ``sum_j c_j(T, ...) L**j``, each c_j a polynomial in T (degree j + 5 for the
  1/N^2 mean) with rational coefficients.

The series converges for |L| < 2 pi (the zero of sqrt(sigma_w2) + 1 nearest to L = 0) at
fixed T; in the scaling variable ``u = T L`` its terms fall like u**j/j!, so
:data:`SERIES_ORDER` = 30 terms keep about 1e-15 for |u| <= 5: the branch is used for
``|ln sigma_w2| < SERIES_RADIUS/(T + 4)`` (|u| < 5, and |L| < 1 at T = 1).

>>> from nnqft.rules.symbols import sigma_w2, T
>>> c = log_series((1 - sigma_w2**T) / (1 - sigma_w2), sigma_w2, T, 2)
>>> c[0], sp.factor(c[1])
(T, T*(T - 1)/2)
"""

from __future__ import annotations

import sympy as sp

from ...errors import InvalidParameter

__all__ = [
    "SERIES_ORDER",
    "SERIES_RADIUS",
    "log_series",
    "series_branch",
    "series_branch_from",
    "series_error",
]

#: the highest power of ln(sigma_w2) kept
SERIES_ORDER = 30
#: the branch holds for |ln sigma_w2| < SERIES_RADIUS / (T + 4)
SERIES_RADIUS = 5


def log_series(expr, variable, depth, order: int = SERIES_ORDER) -> tuple:
    """The Taylor coefficients ``c_0..c_order`` of ``expr`` in ``L = ln(variable)`` at
    variable = 1, exact, with ``depth`` (T) symbolic.

    Parameters
    ----------
    expr : sympy.Expr
        A closed form in ``variable`` (through its powers, symbolic exponents linear in
        ``depth``, half-integer powers and ``(-1)**depth`` allowed) and other symbols.
    variable, depth : sympy.Symbol
        sigma_w2 and T.
    order : int, optional
        The highest power of L kept.

    Returns
    -------
    tuple of sympy.Expr
        ``c_j`` with ``expr = sum_j c_j L**j``.

    Raises
    ------
    InvalidParameter
        Where ``expr`` has a pole at variable = 1 (the principal part does not cancel) or
        a power of the variable this expansion does not take.

    Examples
    --------
    >>> from nnqft.rules.symbols import sigma_w2, T
    >>> log_series(sigma_w2**T, sigma_w2, T, 2)
    (1, T, T**2/2)
    >>> log_series(1 / (sigma_w2 - 1), sigma_w2, T, 1)
    Traceback (most recent call last):
    ...
    nnqft.errors.InvalidParameter: the closed form has a pole at sigma_w2 = 1 (order 1)
    """
    from sympy.polys.domains import QQ
    from sympy.polys.rings import ring

    y = sp.Dummy("y", positive=True)  # sqrt(variable) = exp(L/2)
    parity = sp.Dummy("parity")  # (-1)**depth
    markers: dict = {}

    def power(e):
        exponent = sp.expand(e.exp)
        a = exponent.coeff(depth)
        b = sp.expand(exponent - a * depth)
        if b.free_symbols or not (a.is_Rational and b.is_Rational):
            raise InvalidParameter(f"cannot expand {e} in ln({variable})")
        if a == 0:
            return y ** (2 * b)
        return markers.setdefault(a, sp.Dummy(f"x{len(markers)}")) * y ** (2 * b)

    e = sp.sympify(expr).xreplace({sp.Pow(-1, depth): parity})
    e = e.replace(lambda x: x.is_Pow and x.base == variable, power)
    e = e.xreplace({variable: y**2})
    numerator, denominator = sp.fraction(sp.together(e))
    rates = dict((m, a) for a, m in markers.items())
    others = sorted((numerator.free_symbols | denominator.free_symbols) - {y, *rates}, key=str)
    if depth not in others:
        others.append(depth)
    R, *gens = ring([str(g) for g in others], QQ)
    t = gens[others.index(depth)]

    def to_ring(c):
        return R(dict(sp.Poly(c, *others).as_dict()))

    den = sp.Poly(sp.expand(denominator), y)
    content = sp.gcd_list(den.coeffs())
    den = sp.Poly(sp.expand(denominator / content), y)
    if den.free_symbols - {y}:
        raise InvalidParameter(f"cannot expand {expr} in ln({variable}): the denominator")
    num = sp.Poly(sp.expand(numerator), y, *rates)
    length = order + den.degree() + 1  # enough: the denominator vanishes to at most its degree
    num_s = [R(0)] * length
    for monomial, c in num.terms():
        k, *es = monomial
        rate = R(QQ(k, 2))
        for m, e in zip(rates, es):
            rate += R(QQ(rates[m].p, rates[m].q)) * e * t
        term = to_ring(c)
        for j in range(length):
            num_s[j] += term
            term = term * rate * QQ(1, j + 1)
    den_s = [QQ(0)] * length
    for (k,), c in den.terms():
        term = QQ(int(sp.numer(c)), int(sp.denom(c)))
        for j in range(length):
            den_s[j] += term
            term = term * QQ(k, 2) / (j + 1)
    vanishing = next(j for j, d in enumerate(den_s) if d != 0)
    pole = [j for j in range(vanishing) if num_s[j] != 0]
    if pole:
        raise InvalidParameter(
            f"the closed form has a pole at {variable} = 1 (order {vanishing - min(pole)})"
        )
    n, d = num_s[vanishing:], den_s[vanishing:]
    out = []
    for j in range(order + 1):
        acc = n[j] - sum((out[j - i] * d[i] for i in range(1, j + 1)), R(0))
        out.append(acc * (1 / d[0]))
    scale, symbolic = sp.sympify(content).as_coeff_Mul()
    gens_back = [sp.Pow(-1, depth) if g == parity else g for g in others]

    def back(c):  # term by term: sympy's expand of the whole would cost seconds per c_j
        terms = []
        for monomial, q in c.terms():
            factors = [g**e for g, e in zip(gens_back, monomial) if e]
            terms.append(sp.Mul(sp.Rational(q.numerator, q.denominator) / scale, *factors))
        return sp.Add(*terms) / symbolic

    return tuple(back(c) for c in out)


def series_branch(expr, variable, depth, closed_form, order: int = SERIES_ORDER) -> sp.Expr:
    """``Piecewise((sum_j c_j L**j, |L| < SERIES_RADIUS/(T + 4)), (closed_form, True))``
    with ``L = ln(variable)`` and the coefficients of :func:`log_series`, the sum in
    Horner form.

    >>> from nnqft.rules.symbols import sigma_w2, T
    >>> geometric = (1 - sigma_w2**T) / (1 - sigma_w2)
    >>> f = series_branch(geometric, sigma_w2, T, geometric, order=12)
    >>> abs(float(f.subs({sigma_w2: 1, T: 7})) - 7) < 1e-14
    True
    """
    coefficients = log_series(expr, variable, depth, order)
    return series_branch_from(coefficients, variable, depth, closed_form)


def series_branch_from(coefficients, variable, depth, closed_form) -> sp.Expr:
    """The Piecewise of :func:`series_branch` from coefficients already derived.

    >>> from nnqft.rules.symbols import sigma_w2, T
    >>> series_branch_from((T, T**2), sigma_w2, T, sigma_w2).args[0][0]
    T**2*log(sigma_w2) + T
    """
    L = sp.log(variable)
    horner = sp.Integer(0)
    for c in reversed(coefficients):
        # rationals as doubles (17 digits): their exact numerators and denominators would
        # overflow the integer literals of the targets; small integers (exponents) stay
        c = sp.Add(*(_floated(term) for term in sp.Add.make_args(sp.expand_mul(c))))
        horner = horner * L + c
    inside = sp.Abs(L) * (depth + 4) < SERIES_RADIUS
    return sp.Piecewise((horner, inside), (closed_form, True))


def _floated(term: sp.Expr) -> sp.Expr:
    """A term with its rational coefficient as a 17-digit Float (integers up to 2^31 kept)."""
    k, rest = term.as_coeff_Mul()
    if k.is_Rational and (k.q != 1 or abs(k.p) > 2**31):
        return sp.Float(k, 17) * rest
    return term


def series_error(branch, exact, arguments, depths=(1, 3, 8, 30), widths=(3,)) -> dict:
    """The worst relative error of ``branch`` (a sympy Piecewise of :func:`series_branch`)
    evaluated in double precision (numpy), against ``exact`` (the closed form) in mpmath
    at 150 digits, inside the branch (ln sigma_w2 = +- 1e-6 .. the edge) and just outside
    it (where the closed form is used), per depth T; sigma_b2 = 3/10, q0 = 6/5.

    Returns
    -------
    dict
        ``{"inside": worst error in the branch, "outside": {T: worst error of the closed
        form within 3x the branch's radius}}``.
    """
    import math

    import mpmath
    import numpy as np

    names = {a.name: a for a in arguments}
    s = names["sigma_w2"]
    fast = sp.lambdify(arguments, branch, "numpy")
    slow = sp.lambdify(arguments, exact, "mpmath")
    inside, outside = 0.0, {}
    fixed = {"sigma_b2": 0.3, "q0": 1.2}
    with mpmath.workdps(150):
        for depth in depths:
            radius = SERIES_RADIUS / (depth + 4)
            worst_out = 0.0
            for width in widths:
                for where in (1e-6, 1e-3, 0.5, 0.99, 1.01, 1.5, 3.0):
                    for sign in (1, -1):
                        log_s = sign * where * (radius if where > 0.2 else 1)
                        if where <= 0.2 and abs(log_s) >= radius:
                            continue
                        at = float(math.exp(log_s))
                        values = {"T": float(depth), "N": float(width), **fixed, "sigma_w2": at}
                        row = [values[a.name] for a in arguments]
                        with np.errstate(all="ignore"):
                            got = float(fast(*row))
                        want = slow(*[mpmath.mpf(v) for v in row])
                        # an exact zero (V(1) = 0): the absolute error
                        scale = abs(want) if want != 0 else 1
                        error = float(abs(got - want) / scale) if np.isfinite(got) else math.inf
                        if abs(log_s) < radius:
                            inside = max(inside, error)
                        else:
                            worst_out = max(worst_out, error)
            outside[depth] = worst_out
    del s
    return {"inside": inside, "outside": outside}
