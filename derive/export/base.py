"""Export a derived formula to other languages: the shared base of every target.

Every target lives in its own module (``export_c``, ``export_fortran``, ``export_rust``,
``export_julia``, ``export_python`` for numpy and JAX, ``export_mathematica``,
``export_latex``, ``export_json``) as a subclass of :class:`Exporter`, following sympy's
printers: one shared base, settings declared per class, unknown settings rejected.

What the base does for every numeric target (C, Fortran, Rust, Julia, numpy, JAX):

* **argument order** is the formula's (:data:`nnqft.derive.formulas.ARGUMENT_ORDER`), stated
  in the generated function's documentation;
* **naming policy**: each target maps nnqft's symbol names to identifiers that are legal
  and unambiguous there (:meth:`Exporter.symbol_name`): a trailing underscore for
  reserved words, lower case and a collision check in case-insensitive Fortran,
  ``sigmaW2`` in Mathematica (where ``sigma_w2`` is a pattern and ``N`` a built-in);
* **common subexpressions** are eliminated (:func:`sympy.cse`) into temporaries
  ``cse0, cse1, ...``;
* **numerically stable forms** (:func:`stable_form`): ``1 - s**T`` becomes
  ``-expm1(T*log(s))`` so that geometric sums ``(1 - s**T)/(1 - s)`` keep full precision as
  ``s -> 1``; ``log(1 + x)`` becomes ``log1p(x)``, ``exp(x) - 1`` becomes ``expm1(x)``;
* **special functions**: every target gets a correct erf and digamma/polygamma -- the
  language's own where it has one (C99 ``erf``, Fortran 2008 ``erf``, SpecialFunctions.jl,
  scipy, jax.scipy), otherwise a helper generated here from its asymptotic series
  (:func:`polygamma_asymptotic`), whose coefficients sympy computes from Bernoulli numbers;
* **integer depth**: N and T are passed as double-precision reals holding integer values
  (so that ``T/N`` is never an integer division); where the exponent of a power is an
  integer expression (``s**(T-1)``) Fortran raises to ``nint(...)`` so that negative bases
  stay valid.

>>> from nnqft.derive.formulas import get_formula
>>> print(export(get_formula("kernel/relu"), "c").splitlines()[-5])
    const double cse0 = sqrt(q11);
"""

from __future__ import annotations

import functools
import importlib
import re
from dataclasses import dataclass

import sympy as sp
from sympy.codegen.cfunctions import expm1 as _sympy_expm1
from sympy.codegen.cfunctions import log1p

from ...errors import InvalidParameter, unknown_name
from ..formulas import Formula, get_formula

__all__ = [
    "LANGUAGES",
    "Exporter",
    "Prepared",
    "export",
    "get_exporter",
    "prepare",
    "stable_form",
    "polygamma_asymptotic",
    "function_name",
]

#: language -> module defining its exporter (relative to nnqft.derive)
LANGUAGES = {
    "c": ".c",
    "fortran": ".fortran",
    "julia": ".julia",
    "rust": ".rust",
    "jax": ".python",
    "numpy": ".python",
    "mathematica": ".mathematica",
    "latex": ".latex",
    "json": ".json",
}

#: the prefix of common-subexpression temporaries (legal and clash-free in every target)
CSE_PREFIX = "cse"


class expm1(_sympy_expm1):  # noqa: N801 - printers dispatch on the name 'expm1'
    """exp(x) - 1 that stays as written: sympy's expm1 turns expm1(2*log(s) + log(a))
    back into s**2*a - 1, the cancellation it is there to avoid."""

    @classmethod
    def eval(cls, arg):
        return None


@dataclass(frozen=True)
class Prepared:
    """A formula ready to print: temporaries ``[(symbol, expr)]``, the result, and the
    special functions the code needs (``{'erf', 'polygamma0', 'expm1', ...}``)."""

    temporaries: tuple
    result: sp.Expr
    needs: frozenset
    #: the removable singularities of the closed form (:func:`removable_points`)
    removable: tuple = ()
    #: True for the branch around them (:func:`finite_branches`) that calls the closed form
    branch: bool = False
    #: the branch exact at sigma_w2 = 1 (:func:`nnqft.derive.export.log_series.series_branch`)
    #: as a function of the closed form's value: ``series(closed) -> Piecewise``
    series: object = None


def function_name(formula_id: str) -> str:
    """A snake_case identifier for a formula id.

    Parameters
    ----------
    formula_id : str
        A formula id such as ``'mft/length-map/erf'``.

    Returns
    -------
    str
        Letters, digits and underscores, never starting with a digit.

    Examples
    --------
    >>> function_name("mft/length-map/leaky_relu(1/100)")
    'mft_length_map_leaky_relu_1_100'
    """
    name = re.sub(r"[^0-9A-Za-z]+", "_", formula_id).strip("_").lower()
    if not name or name[0].isdigit():
        name = "f_" + name
    return name


def _expand_sums(expr: sp.Expr) -> sp.Expr:
    if expr.has(sp.Sum, sp.Product):
        expr = expr.doit()
        if expr.has(sp.Sum, sp.Product):
            raise InvalidParameter(
                "cannot export a formula with an unevaluated sum or product; "
                "ask the engine for its closed form"
            )
    return expr


def _is_power(f: sp.Expr) -> bool:
    """A factor b**e (b > 0) or exp(a) with a symbolic exponent: the depth-dependent part."""
    if isinstance(f, sp.exp):
        return not f.args[0].is_number
    return bool(f.is_Pow and not f.exp.is_number and f.base.is_positive)


def _exponents(term: sp.Expr):
    """(K, {positive base: exponent}) with term = K * prod base**exponent.

    Positive symbols and powers of positive bases (products split into their factors)
    go into the dict; numbers and everything else stay in K."""
    rest, powers = [], {}

    def add(base, e):
        for f in sp.Mul.make_args(base):
            if f.is_Pow and f.exp.is_number and f.base.is_positive:
                add(f.base, e * f.exp)
            elif f.is_positive and not f.is_number:
                powers[f] = powers.get(f, 0) + e
            else:
                return False
        return True

    for f in sp.Mul.make_args(term):
        if isinstance(f, sp.exp):
            powers[sp.E] = powers.get(sp.E, 0) + f.args[0]
        elif f.is_Pow and f.base.is_positive and not f.base.is_number:
            if not add(f.base, f.exp):
                rest.append(f)
        elif f.is_positive and not f.is_number:
            powers[f] = powers.get(f, 0) + 1
        else:
            rest.append(f)
    return sp.Mul(*rest), powers


def _pair_terms(terms: list, compound: bool, memo: dict) -> tuple[list, bool]:
    """Rewrite one pair K*P1 - K*P2 of terms, P1/P2 depth-dependent, as
    K*P2*expm1(log P1 - log P2) with the logarithm difference taken factor by factor."""
    split = []
    for t in terms:
        if t not in memo:
            k, p = _exponents(t)
            memo[t] = (sp.expand(k), p)
        split.append(memo[t])
    numeric = [[sp.sympify(e).is_number for e in p.values()] for _, p in split]  # safe: sympy
    depth = [sum(1 for n in row if not n) for row in numeric]
    by_key: dict = {}
    for idx, (k, _) in enumerate(split):
        by_key.setdefault(k, []).append(idx)
    pairs = [(i, j) for i, (k, _) in enumerate(split) for j in by_key.get(-k, ()) if j != i]
    pairs.sort(
        key=lambda ij: (
            depth[ij[1]],
            -depth[ij[0]],
            len(split[ij[1]][1]),
            -len(split[ij[0]][1]),
            ij,
        )
    )
    for i, j in pairs:
        (ki, pi), (_, pj) = split[i], split[j]
        delta = {b: sp.expand(pi.get(b, 0) - pj.get(b, 0)) for b in set(pi) | set(pj)}
        delta = {b: d for b, d in delta.items() if d != 0}
        if not delta:
            continue
        if (
            depth[i] == 0
            and depth[j] == 0
            and not (compound and any(not b.is_Symbol for b in delta))
        ):
            continue  # not depth-dependent: left as derived
        exponent = sum(d if b is sp.E else d * sp.log(b) for b, d in delta.items())
        p2 = sp.Mul(*(b**e for b, e in pj.items()))
        new = ki * p2 * expm1(exponent)
        return [t for k, t in enumerate(terms) if k not in (i, j)] + [new], True
    return terms, False


def _stable_add(add: sp.Add, compound: bool = False) -> sp.Expr:
    if not compound and not any(_is_power(f) for f in sp.preorder_traversal(add)):
        return add
    memo: dict = {}
    for candidate in (list(add.args), list(sp.Add.make_args(sp.expand_mul(add)))):
        terms, changed = candidate, False
        while True:
            terms, step = _pair_terms(terms, compound, memo)
            if not step:
                break
            changed = True
        if changed:
            return sp.Add(*terms)
    return add


def stable_form(expr: sp.Expr) -> sp.Expr:
    """Rewrite cancelling forms into ones that keep full precision.

    In every sum, a pair of terms ``K*P1 - K*P2`` whose P's are depth-dependent powers
    (``b**e`` with a symbolic exponent, b > 0; P2 may be 1) becomes
    ``K*P2*expm1(log P1 - log P2)``, the logarithms combined exactly first (where no pair
    shows, the sum is tried once more with products multiplied out).  So
    ``1 - sigma_w2**T`` near sigma_w2 = 1 loses no digits, nor the geometric sum
    ``(1 - sigma_w2**T)/(1 - sigma_w2)`` (whose denominator is exact there), nor
    ``a**T - b**T`` for a close to b.  In formulas of N or T, pairs whose ratio is a
    compound base are rewritten too (``s**2*(1 + 2/N) - s**2`` becomes
    ``s**2*expm1(log1p(2/N))``).  Then ``log(1 + x)`` becomes ``log1p(x)``.

    Parameters
    ----------
    expr : sympy.Expr
        A closed form.

    Returns
    -------
    sympy.Expr
        The same value (exactly, symbolically), in the stable form.

    Examples
    --------
    >>> from nnqft.rules.symbols import sigma_w2, T, N
    >>> stable_form((1 - sigma_w2**T) / (1 - sigma_w2))
    -expm1(T*log(sigma_w2))/(1 - sigma_w2)
    >>> stable_form((sigma_w2**2 * (1 + 2 / N))**T - sigma_w2**(2 * T))
    sigma_w2**(2*T)*expm1(T*log1p(2/N))
    """
    compound = any(s.is_integer for s in expr.free_symbols)
    out = expr.replace(lambda e: e.is_Add, lambda e: _stable_add(e, compound))
    return out.replace(_is_log_one_plus, lambda e: log1p(e.args[0] - 1))


def _is_log_one_plus(e) -> bool:
    """log(1 + x) with x not a number (sympy's log1p_opt factors the argument first, which
    turns log(1 + 2/N) into log(N + 2) - log(N) and loses the digits it should keep)."""
    return (
        isinstance(e, sp.log)
        and e.args[0].is_Add
        and e.args[0].as_coeff_add()[0] == 1
        and not e.args[0].is_number
    )


def _needs(exprs) -> frozenset:
    needs = set()
    for e in exprs:
        for node in sp.preorder_traversal(e):
            if isinstance(node, sp.erf):
                needs.add("erf")
            elif isinstance(node, sp.polygamma):
                m = node.args[0]
                if not (m.is_Integer and m >= 0):
                    raise InvalidParameter(
                        f"cannot export {node}: polygamma order must be 0, 1, ..."
                    )
                needs.add(f"polygamma{int(m)}")
            elif isinstance(node, expm1):
                needs.add("expm1")
            elif isinstance(node, log1p):
                needs.add("log1p")
            elif isinstance(node, (sp.gamma, sp.loggamma)):
                needs.add(type(node).__name__)
    return frozenset(needs)


def prepare(
    expr: sp.Expr, *, cse: bool = True, stable: bool = True, optimizations="basic"
) -> Prepared:
    """Closed forms for sums, stable forms, and common subexpressions, in that order.

    Parameters
    ----------
    expr : sympy.Expr
        The expression (sympy, a number or text for the whitelist parser).
    cse : bool, optional
        Eliminate common subexpressions into temporaries ``cse0, cse1, ...``.
    stable : bool, optional
        Apply :func:`stable_form`.
    optimizations : str or None, optional
        Passed to :func:`sympy.cse` (None for a long polynomial: the "basic"
        preprocessing costs minutes there and finds nothing).

    Returns
    -------
    Prepared
        The temporaries, the result and the special functions it needs.

    Raises
    ------
    InvalidParameter
        For a sum or product without a closed form, or a polygamma of a non-integer order.

    Examples
    --------
    >>> from nnqft.rules.symbols import q11, q22
    >>> p = prepare(sp.exp(q11 * q22) + 1 / sp.exp(q11 * q22))
    >>> p.temporaries, p.result
    (((cse0, q11*q22),), exp(cse0) + exp(-cse0))
    """
    from ..convert import to_sympy

    expr = _expand_sums(to_sympy(expr, "expression"))
    if stable:
        expr = stable_form(expr)
    if cse:
        symbols = sp.numbered_symbols(CSE_PREFIX, real=True)
        temps, (result,) = sp.cse(expr, symbols=symbols, optimizations=optimizations)
    else:
        temps, result = [], expr
    temps = tuple((s, e) for s, e in temps)
    return Prepared(temps, result, _needs([result] + [e for _, e in temps]))


def polygamma_asymptotic(m: int, x: sp.Symbol, terms: int = 10) -> sp.Expr:
    """The asymptotic series of polygamma(m, x) at large x (Abramowitz & Stegun 6.3.18 and
    6.4.11).

    Generated helpers shift x up by the recurrence psi^(m)(x) = psi^(m)(x+1) -
    (-1)^m m!/x^(m+1) until x >= :data:`POLYGAMMA_SHIFT`, then evaluate this series.

    Parameters
    ----------
    m : int
        The order (0: digamma).
    x : sympy.Symbol
        The variable.
    terms : int, optional
        Bernoulli terms kept.

    Returns
    -------
    sympy.Expr
        The series, its coefficients computed by sympy from Bernoulli numbers.

    Examples
    --------
    >>> x = sp.Symbol("x", positive=True)
    >>> s = polygamma_asymptotic(0, x, terms=3)
    >>> s
    log(x) - 1/(2*x) - 1/(12*x**2) + 1/(120*x**4) - 1/(252*x**6)
    >>> abs(float(s.subs(x, 20)) - float(sp.digamma(20).evalf(30))) < 1e-12
    True
    """
    if m == 0:
        out = sp.log(x) - 1 / (2 * x)
        out -= sum(sp.bernoulli(2 * k) / (2 * k * x ** (2 * k)) for k in range(1, terms + 1))
        return out
    inner = sp.factorial(m - 1) / x**m + sp.factorial(m) / (2 * x ** (m + 1))
    inner += sum(
        sp.bernoulli(2 * k) * sp.factorial(2 * k + m - 1) / (sp.factorial(2 * k) * x ** (2 * k + m))
        for k in range(1, terms + 1)
    )
    return (-1) ** (m + 1) * inner


#: helpers shift the argument of polygamma up to at least this before the series
POLYGAMMA_SHIFT = 16
#: Bernoulli terms kept in the helpers' series (error below 1e-17 relative for x >= 16)
POLYGAMMA_TERMS = 12


def polygamma_pieces(m: int):
    """(series in w = 1/x as a Horner polynomial plus the log term, shift increment) for a
    generated polygamma(m, .) helper: psi^(m)(x) = acc + series(x) after shifting, where
    each shift adds ``increment(x)`` to acc."""
    x = sp.Symbol("x", positive=True)
    w = sp.Symbol("w", positive=True)
    series = polygamma_asymptotic(m, x, POLYGAMMA_TERMS)
    log_part = sp.log(x) if m == 0 else sp.Integer(0)
    poly = sp.expand((series - log_part).subs(x, 1 / w))
    horner = sp.horner(sp.Poly(poly, w).as_expr(), w) if poly != 0 else sp.Integer(0)
    increment = -((-1) ** m) * sp.factorial(m) / x ** (m + 1)
    return x, w, log_part, horner, increment


# --- removable singularities: a branch that is finite where the closed form is 0/0 ----

#: Chebyshev nodes (first kind) of the interpolation branch; even, so the centre is no node
INTERPOLATION_NODES = 16
#: half-width of the branch in units of 1/T (the scale on which sigma_w2**T varies)
BRANCH_HALF_WIDTH = sp.Rational(1, 2)


@dataclass(frozen=True)
class RemovablePoint:
    """A point ``variable = value`` where a denominator of the closed form vanishes and
    its numerator too (the value may depend on the other arguments: N/(N + 2)); ``factor``
    is the vanishing denominator factor, for the comment."""

    variable: sp.Symbol
    value: sp.Expr
    factor: sp.Expr


def _sample_values(arguments, variable) -> dict:
    """Exact values for every argument but ``variable``: integers for N and T, small
    rationals otherwise (the check below holds for generic values)."""
    out = {}
    for k, a in enumerate(arguments):
        if a != variable:
            out[a] = sp.Integer(3 + 2 * k) if a.is_integer else sp.Rational(3 + 2 * k, 7)
    return out


def removable_points(expr: sp.Expr, arguments) -> tuple[RemovablePoint, ...]:
    """The points where ``expr`` is 0/0 with a finite limit, in its continuous arguments.

    A factor of the denominator of ``expr`` (over one common denominator) that vanishes at
    ``variable = value`` for a positive real ``value`` (solved for the first continuous
    argument it contains, e.g. sigma_w2 = 1 or sigma_w2 = sqrt(N/(N + 2))) is kept where
    the numerator vanishes there too, checked exactly at generic values of the other
    arguments (integers for N and T): a removable singularity, not a pole.

    Parameters
    ----------
    expr : sympy.Expr
        A closed form (no unevaluated sums).
    arguments : sequence of sympy.Symbol
        Its arguments; the integer ones (N, T) are never solved for.

    Returns
    -------
    tuple of RemovablePoint
        One per distinct point, in a stable order.

    Examples
    --------
    >>> from nnqft.rules.symbols import sigma_w2, T
    >>> removable_points((1 - sigma_w2**T) / (1 - sigma_w2), (sigma_w2, T))
    (RemovablePoint(variable=sigma_w2, value=1, factor=1 - sigma_w2),)
    >>> removable_points(1 / (1 - sigma_w2), (sigma_w2,))    # a pole: nothing to do
    ()
    """
    numerator, denominator = sp.fraction(sp.together(expr))
    continuous = [a for a in arguments if not a.is_integer]
    found: dict = {}
    for factor in sp.Mul.make_args(sp.factor(denominator)):
        if factor.is_Pow and factor.exp.is_Integer and factor.exp > 0:
            factor = factor.base
        variable = next((a for a in continuous if factor.has(a)), None)
        if variable is None:
            continue
        sample = _sample_values(arguments, variable)
        try:
            roots = sp.solve(factor, variable)
        except NotImplementedError:  # e.g. sigma_w2 and sigma_w2**T together: no root found
            continue
        for value in roots:
            at = value.subs(sample)
            if not (at.is_real and at.is_positive):
                continue
            for t_sample in (sample, {a: v + 1 for a, v in sample.items()}):
                num = sp.nsimplify(numerator.subs(t_sample).subs(variable, value.subs(t_sample)))
                if sp.simplify(num) != 0:
                    break
            else:
                key = (variable, sp.simplify(value))
                found.setdefault(key, RemovablePoint(variable, key[1], sp.expand(factor)))
    return tuple(found[k] for k in sorted(found, key=lambda k: sp.default_sort_key(k[1])))


def _chebyshev(n: int) -> list[tuple[sp.Float, sp.Float]]:
    """Chebyshev points of the first kind on [-1, 1] and their barycentric weights."""
    angles = [(2 * k + 1) * sp.pi / (2 * n) for k in range(n)]
    return [
        (sp.Float(sp.cos(a).evalf(20), 17), sp.Float(((-1) ** k * sp.sin(a)).evalf(20), 17))
        for k, a in enumerate(angles)
    ]


def finite_branches(closed_form, points, arguments) -> sp.Expr:
    """The value near each removable point: within ``|x - x0| < w`` the polynomial through
    the closed form at :data:`INTERPOLATION_NODES` Chebyshev nodes of ``[x0 - w, x0 + w]``
    (none at x0), elsewhere the closed form itself.

    ``w`` is :data:`BRANCH_HALF_WIDTH` over the depth T where T is an argument (the
    closed form varies on the scale 1/T there), else :data:`BRANCH_HALF_WIDTH`.  The
    value at x0 is the limit, to the interpolation's accuracy; the closed form is never
    evaluated closer to x0 than ``w sin(pi/32) = 0.098 w``, where it keeps its digits.

    Parameters
    ----------
    closed_form : callable
        ``closed_form(values)`` with ``values`` the argument list: the closed form there
        (a sympy expression, or a call of the generated closed-form function).
    points : sequence of RemovablePoint
        From :func:`removable_points`.
    arguments : sequence of sympy.Symbol
        The arguments of the closed form, in order.

    Returns
    -------
    sympy.Expr
        A :class:`sympy.Piecewise`, or ``closed_form(arguments)`` where there is no point.

    Examples
    --------
    >>> from nnqft.rules.symbols import sigma_w2, T
    >>> geometric = (1 - sigma_w2**T) / (1 - sigma_w2)
    >>> at = lambda values: geometric.subs(dict(zip((sigma_w2, T), values)))
    >>> points = removable_points(geometric, (sigma_w2, T))
    >>> f = finite_branches(at, points, (sigma_w2, T))
    >>> abs(float(f.subs({sigma_w2: 1, T: 7})) - 7) < 1e-13
    True
    """
    arguments = list(arguments)
    if not points:
        return closed_form(arguments)
    depth = next((a for a in arguments if a.is_integer and a.name == "T"), None)
    width = BRANCH_HALF_WIDTH / depth if depth is not None else BRANCH_HALF_WIDTH
    nodes = _chebyshev(INTERPOLATION_NODES)
    branches = []
    for point in points:
        h = point.variable - point.value
        x = h / width
        # the second barycentric form: sum_k c_k f_k / sum_k c_k, c_k = lambda_k/(x - x_k)
        numerator = denominator = sp.Integer(0)
        for xk, lam in nodes:
            at = point.value + width * xk
            c = lam / (x - xk)
            numerator += c * closed_form([at if a == point.variable else a for a in arguments])
            denominator += c
        branches.append((numerator / denominator, sp.Abs(h) < width))
    return sp.Piecewise(*branches, (closed_form(arguments), True))


#: the accuracy a branch must show (relative, against exact arithmetic) to be emitted
BRANCH_TOLERANCE = 1e-10


def branch_error(expr: sp.Expr, points, arguments) -> float:
    """The worst relative error of the branch of :func:`finite_branches` in double
    precision, against exact rational arithmetic, at each point, 1e-9 off it and a third
    of the branch's width off it, for T = 1, 3, 8 and N = 3, 10 (where they are arguments).

    The closed form is evaluated in numpy in its :func:`stable_form`, as the targets
    evaluate it; the exact value comes from cancelling the common factor of numerator
    and denominator at integer T (the limit at the point itself).

    Parameters
    ----------
    expr : sympy.Expr
        The closed form.
    points : sequence of RemovablePoint
        From :func:`removable_points`.
    arguments : sequence of sympy.Symbol
        The arguments of ``expr``, in order.

    Returns
    -------
    float
        The worst relative error seen (``inf`` where a value is not finite).

    Examples
    --------
    >>> from nnqft.rules.symbols import sigma_w2, T
    >>> geometric = (1 - sigma_w2**T) / (1 - sigma_w2)
    >>> branch_error(geometric, removable_points(geometric, (sigma_w2, T)), (sigma_w2, T)) < 1e-13
    True
    """
    from fractions import Fraction

    import numpy as np

    arguments = list(arguments)
    closed = sp.lambdify(
        arguments, stable_form(expr), modules=[{"expm1": np.expm1, "log1p": np.log1p}, "numpy"]
    )
    nodes = [(float(x), float(lam)) for x, lam in _chebyshev(INTERPOLATION_NODES)]
    names = {a.name: a for a in arguments}
    worst = 0.0
    for depth in (1, 3, 8) if "T" in names else (None,):
        for width_n in (3, 10) if "N" in names else (None,):
            values = _sample_values(arguments, None)
            for name, v in (("T", depth), ("N", width_n)):
                if v is not None:
                    values[names[name]] = sp.Integer(v)
            w = float(BRANCH_HALF_WIDTH) / (depth or 1)
            for point in points:
                others = {a: v for a, v in values.items() if a != point.variable}
                exact = sp.cancel(sp.together(expr.subs(others)))
                x0 = float(point.value.subs(others))
                for offset in (0.0, 1e-9, -w / 3):
                    at = x0 + offset
                    args = [float(others[a]) if a in others else None for a in arguments]
                    i = arguments.index(point.variable)
                    num = den = 0.0
                    with np.errstate(all="ignore"):
                        for xk, lam in nodes:
                            args[i] = x0 + w * xk
                            c = lam / (offset / w - xk)
                            num += c * float(closed(*args))
                            den += c
                    got = num / den
                    want = float(exact.subs(point.variable, sp.Rational(Fraction(at))).evalf(30))
                    error = abs(got - want) / max(abs(want), 1e-300)
                    worst = max(worst, error if np.isfinite(got) else float("inf"))
    return worst


def _call(name: str, printmethod: str):
    """A sympy function ``name`` that every code printer prints as ``name(args)``."""

    def print_call(self, printer):
        return f"{name}({', '.join(printer._print(a) for a in self.args)})"

    return type(name, (sp.Function,), {printmethod: print_call})


#: what each argument is, in words, for the comment of every exported function
ARGUMENT_MEANINGS = {
    "sigma_w2": "weight variance sigma_w^2 (C_W in PDLT): W_ij ~ N(0, sigma_w2/N)",
    "sigma_b2": "bias variance sigma_b^2 (C_b in PDLT): b_i ~ N(0, sigma_b2)",
    "q0": "input size q0 = |x|^2/N",
    "N": "width N, an integer (neurons per layer)",
    "T": "depth T, number of layers (feedforward) or time steps (recurrent), an integer",
    "q": "pre-activation variance q of one neuron",
    "q11": "variance q11 of the pre-activation u1 of the first input",
    "q22": "variance q22 of the pre-activation u2 of the second input",
    "q12": "covariance q12 of u1 and u2",
}

#: "(docs/conventions.md §5)": a file the reader of exported code does not have
_FILE_POINTER = re.compile(
    r"\s*\(docs/conventions\.md(\s*§\d+)?\)|,\s*docs/conventions\.md(\s*§\d+)?"
)

_NETWORK = (
    "Network: z(1) = W(1) x + b(1), z(t) = W(t) phi(z(t-1)) + b(t) for t = 2..T, with N "
    "neurons per layer, W_ij ~ N(0, sigma_w2/N) and b_i ~ N(0, sigma_b2) independent; "
    "phi is not applied to the input x."
)
_CONVENTIONS = {
    "linear-feedforward": (
        _NETWORK,
        "Linear (phi(z) = z) and feedforward: each layer draws its own W and b.",
        "Observable: Q(T) = |z(T)|^2/N; E and Var are over W and b at a fixed input.",
    ),
    "linear-recurrent-shared": (
        _NETWORK,
        "Linear and recurrent: one W for every step, one bias b shared by all steps.",
        "Observable: Q(T) = |z(T)|^2/N; E and Var are over W and b at a fixed input.",
    ),
    "linear-recurrent-fresh": (
        _NETWORK,
        "Linear and recurrent: one W for every step, a new bias b at each step.",
        "Observable: Q(T) = |z(T)|^2/N; E and Var are over W and b at a fixed input.",
    ),
    "mft": (
        _NETWORK,
        "Mean-field theory (N -> infinity): pre-activations are Gaussian, with "
        "q(t+1) = sigma_w2 E[phi(u)^2] + sigma_b2, u ~ N(0, q(t)).",
    ),
    "kernel": (
        "Gaussian average over (u1, u2) of mean zero and covariance [[q11, q12], [q12, q22]].",
    ),
    "kernel-derivative": (
        "Gaussian average of phi'(u1) phi'(u2) over (u1, u2) of mean zero and covariance "
        "[[q11, q12], [q12, q22]].",
    ),
    "finite-width": (
        _NETWORK,
        "Finite width, feedforward (PDLT): E[z_i z_j] = d_ij (K0 + K1/N + ...), "
        "Cov(z_i^2, z_j^2) = V/N + ... (i != j) in layer T; C_W = sigma_w2, C_b = sigma_b2.",
    ),
}


def conventions(formula_id: str) -> list[str]:
    """The conventions a formula's family is stated in, in words (no file to look up).

    Parameters
    ----------
    formula_id : str
        A formula id (its first part names the family).

    Returns
    -------
    list of str
        Lines for the comment of the exported code (empty for an unknown family).

    Examples
    --------
    >>> conventions("linear-recurrent-fresh/mean")[2]
    '  Linear and recurrent: one W for every step, a new bias b at each step.'
    """
    lines = _CONVENTIONS.get(formula_id.split("/")[0], ())
    return ["Conventions:", *(f"  {line}" for line in lines)] if lines else []


def _variable_text(point) -> str:
    return f"{point.variable.name} = {sp.sstr(point.value)}"


def _branch_notes(expr, points, arguments) -> list[str]:
    """What the comment says about the removable points: the branch and its measured
    accuracy, or why there is none (the last line starts with 'Near' when there is one)."""
    if not points:
        return []
    from ..cache import cached

    where = ", ".join(_variable_text(p) for p in points)
    content = {
        "what": "export-branch-error",
        "nodes": INTERPOLATION_NODES,
        "width": str(BRANCH_HALF_WIDTH),
        "expression": sp.srepr(expr),
        "points": [sp.srepr(p.value) for p in points],
    }
    measured = cached(content, lambda: {"error": str(branch_error(expr, points, arguments))})
    error = float(measured["error"])
    depth = "T" if any(a.name == "T" for a in arguments) else "1"
    if error <= BRANCH_TOLERANCE:
        return [
            f"The closed form is 0/0 at {where} (removable: the limit is finite).",
            f"Near each such point x0, for |{points[0].variable.name} - x0| < 1/(2*{depth}), the "
            f"value is the polynomial through the closed form at {INTERPOLATION_NODES} "
            "Chebyshev nodes of that interval (none at x0): finite at x0, relative error "
            f"below {BRANCH_TOLERANCE:.0e} (measured at T = 1, 3, 8 against exact "
            f"arithmetic: {max(error, 1e-16):.0e}).",
        ]
    return [
        f"Warning: the closed form is 0/0 at {where} and loses its digits near there "
        f"(measured relative error {error:.0e} of an interpolation branch): this export is "
        "not finite at that point; evaluate the formula exactly (the json or mathematica "
        "export) near it.",
    ]


#: the pole order (in sqrt(sigma_w2) - 1) from which the series in ln(sigma_w2) is tried
#: first: the interpolation branch loses about this many powers of its node distance
SERIES_POLE_ORDER = 5


def _series_route(expr, points, arguments):
    """``(series(closed) -> Piecewise, comment lines)`` for a closed form that is 0/0 at
    sigma_w2 = 1 only, in T, whose Taylor series in ln(sigma_w2)
    (:mod:`nnqft.derive.export.log_series`) reaches :data:`BRANCH_TOLERANCE` against exact
    arithmetic (measured once and cached); None where it does not apply or fails."""
    from ..cache import cached
    from . import log_series as LS

    names = {a.name: a for a in arguments}
    if "T" not in names or "sigma_w2" not in names or len(points) != 1 or points[0].value != 1:
        return None
    s, depth = names["sigma_w2"], names["T"]
    content = {
        "what": "export-log-series",
        "version": 2,
        "order": LS.SERIES_ORDER,
        "radius": LS.SERIES_RADIUS,
        "expression": sp.srepr(expr),
    }

    def compute():
        try:
            coefficients = LS.log_series(expr, s, depth)
        except InvalidParameter:
            return {"coefficients": None}
        branch = LS.series_branch_from(coefficients, s, depth, expr)
        error = LS.series_error(branch, expr, arguments)
        return {
            "coefficients": list(coefficients),
            "inside": str(error["inside"]),
            "outside": {str(k): str(v) for k, v in error["outside"].items()},
        }

    data = cached(content, compute)
    if data["coefficients"] is None or float(data["inside"]) > BRANCH_TOLERANCE:
        return None
    coefficients = tuple(data["coefficients"])
    outside = {int(k): float(v) for k, v in data["outside"].items()}
    edge = ", ".join(f"T = {k}: {max(v, 1e-16):.0e}" for k, v in sorted(outside.items()))
    notes = [
        f"The closed form is 0/0 at sigma_w2 = 1 (removable: its poles there, of order up to "
        f"{_pole_order(expr, s)} in sqrt(sigma_w2) - 1, cancel).",
        f"Near sigma_w2 = 1, for |ln(sigma_w2)| < {LS.SERIES_RADIUS}/(T + 4), the value is its "
        f"Taylor series in ln(sigma_w2) through order {LS.SERIES_ORDER}, derived exactly with T "
        f"symbolic: finite and exact at sigma_w2 = 1, relative error below "
        f"{BRANCH_TOLERANCE:.0e} (measured at T = 1, 3, 8, 30 from ln(sigma_w2) = +- 1e-6 "
        f"to the edge against 150-digit arithmetic: {max(float(data['inside']), 1e-16):.0e}).",
        "Elsewhere the closed form as derived; measured just outside the branch (to 3x its "
        f"radius): {edge}; it loses digits there as T grows (about T^4 x 1e-16).",
    ]
    return (lambda closed: LS.series_branch_from(coefficients, s, depth, closed)), notes


def _pole_order(expr, variable) -> int:
    """The multiplicity of the zero of the denominator of ``expr`` at sqrt(variable) = 1."""
    y = sp.Dummy("y", positive=True)
    e = expr.replace(lambda x: x.is_Pow and x.base == variable, lambda x: y ** (2 * x.exp))
    _, den = sp.fraction(sp.together(e.xreplace({variable: y**2})))
    poly, order = sp.Poly(sp.expand(den), y), 0
    while not poly.is_zero and poly.eval(1) == 0:
        poly, order = poly.quo(sp.Poly(y - 1, y)), order + 1
    return order



@functools.lru_cache(maxsize=128)
def _prepared_for_export(expr, arguments, *, exact, finite, cse, stable):
    """The language-independent part of an export: ``(Prepared, branch notes)``.

    Finding the removable points, measuring the branches and the common subexpressions
    take most of an export and do not depend on the target language, so one formula
    exported to several languages in a process is prepared once (sympy expressions are
    immutable, so the cached result cannot change under a caller)."""
    expr = _expand_sums(expr)
    if exact:
        return Prepared((), expr, _needs([expr])), []
    points = removable_points(expr, arguments) if finite else ()
    # poles of order SERIES_POLE_ORDER or more: no interpolation holds, the series does
    steep = len(points) == 1 and _pole_order(expr, points[0].variable) >= SERIES_POLE_ORDER
    notes = [] if steep else _branch_notes(expr, points, arguments)
    if steep or (notes and not notes[-1].startswith("Near")):
        series = _series_route(expr, points, arguments)
        if series is not None:  # exact at the point: the closed form as derived beside it
            out = prepare(expr, cse=cse, stable=False)
            return Prepared(out.temporaries, out.result, out.needs, points, series=series[0]), list(
                series[1]
            )
        if steep:  # no series here: the interpolation, measured
            notes = _branch_notes(expr, points, arguments)
        if notes and not notes[-1].startswith("Near"):
            points = ()  # no branch that does not reach its tolerance
    out = prepare(expr, cse=cse, stable=stable)
    return Prepared(out.temporaries, out.result, out.needs, points), notes

class Exporter:
    """Shared base of every export target.

    Subclasses set ``language``, ``extension``, ``reserved`` (words that cannot name a
    variable), may extend ``default_settings``, and fill in the pieces of :meth:`render`,
    a template method: ``printer_class`` (a sympy code printer), ``comment`` (how a doc
    line is commented), :meth:`preamble` (includes, helpers the function needs first),
    :meth:`opening` (the signature and declarations), :meth:`assignment` (one temporary),
    :meth:`closing` (the return and the end) and :meth:`postamble` (helpers after it).
    A target with another shape (JSON, LaTeX) overrides :meth:`render` itself.
    """

    language = ""
    extension = ""
    printer_class = None
    comment = "{}"  # a doc line as a comment: format string, trailing blanks stripped
    reserved: frozenset = frozenset()
    case_insensitive = False
    exact = False  # exact targets (CAS, LaTeX, JSON) keep the expression as derived
    default_settings = {"function_name": None, "cse": True, "stable": True, "finite": True}

    def __init__(self, **settings):
        unknown = set(settings) - set(self.default_settings)
        if unknown:
            raise InvalidParameter(
                f"unknown option(s) {', '.join(sorted(unknown))} for {self.language} export; "
                f"allowed: {', '.join(sorted(self.default_settings))}"
            )
        self.settings = {**self.default_settings, **settings}

    # --- naming policy -------------------------------------------------------------
    def symbol_name(self, name: str) -> str:
        """The identifier standing for nnqft's symbol ``name`` in this language."""
        name = re.sub(r"\W", "_", name)
        if self.case_insensitive:
            name = name.lower()
        if name.lower() in self.reserved or name in self.reserved:
            name += "_"
        return name

    def function_name(self, formula: Formula) -> str:
        return self.settings["function_name"] or function_name(formula.id)

    def names(self, formula: Formula, prepared: Prepared | None = None) -> dict:
        """{symbol: identifier} for the arguments and temporaries; raises on a collision."""
        syms = list(formula.arguments)
        if prepared is not None:
            syms += [s for s, _ in prepared.temporaries]
        out = {s: self.symbol_name(s.name) for s in syms}
        seen = {}
        for s, n in out.items():
            key = n.lower() if self.case_insensitive else n
            if key in seen:
                raise InvalidParameter(
                    f"{self.language} naming clash: {seen[key]} and {s.name} both become {n!r}"
                )
            seen[key] = s.name
        return out

    def renamed(self, expr: sp.Expr, names: dict) -> sp.Expr:
        """``expr`` with every symbol renamed (assumptions kept: integer exponents stay
        recognisable)."""
        return expr.xreplace({s: sp.Symbol(n, **s._assumptions_orig) for s, n in names.items()})

    # --- documentation --------------------------------------------------------------
    def doc_lines(self, formula: Formula, names: dict) -> list[str]:
        """The comment block every generated function carries: what it is, the
        conventions in words, each argument's meaning, validity, and the branches."""
        from ... import __version__

        lines = [f"{formula.id}: {formula.description}"]
        derivation = _FILE_POINTER.sub("", formula.derivation)
        lines.append(f"Derived by nnqft {__version__}: {derivation}.")
        if formula.order is not None:
            lines.append(f"Truncated after order 1/N^{formula.order}.")
        lines += conventions(formula.id)
        lines.append("Arguments, in order:")
        for s in formula.arguments:
            kind = (
                "positive integer, passed as a real"
                if s.is_integer
                else (
                    "positive real"
                    if s.is_positive
                    else ("non-negative real" if s.is_nonnegative else "real")
                )
            )
            meaning = ARGUMENT_MEANINGS.get(s.name, s.name)
            lines.append(f"  {names[s]}: {meaning} ({kind})")
        if formula.validity:
            lines.append("Valid where: " + "; ".join(sp.sstr(c) for c in formula.validity))
        for note in formula.notes:
            lines.append(note)
        lines += getattr(self, "branch_notes", [])
        return lines

    # --- the export -------------------------------------------------------------------
    def prepare(self, formula: Formula) -> Prepared:
        prepared, notes = _prepared_for_export(
            formula.expression,
            tuple(formula.arguments),
            exact=bool(self.exact),
            # the exact (document) exporters have no numeric settings
            finite=bool(self.settings.get("finite", False)),
            cse=bool(self.settings.get("cse", False)),
            stable=bool(self.settings.get("stable", False)),
        )
        self.branch_notes = list(notes)
        return prepared

    def export(self, formula: Formula) -> str:
        """The source text of one function (or document) for ``formula``."""
        prepared = self.prepare(formula)
        names = self.names(formula, prepared)
        return self.render(formula, prepared, names)

    def render(self, formula: Formula, prepared: Prepared, names: dict) -> str:
        """The source text: preamble, opening, one assignment per temporary, closing,
        postamble (each a list of lines), joined with a final newline.

        Where the closed form has removable singularities (``prepared.removable``) it is
        rendered as the function ``<name>_closed_form`` and ``<name>`` itself is the
        branch of :func:`finite_branches` that calls it (finite at the points)."""
        printer = self.printer_class()
        fname = self.function_name(formula)
        args = [names[s] for s in formula.arguments]
        out = self.preamble(formula, prepared, names, printer)
        if prepared.removable:
            closed = self.closed_form_name(fname)
            out += self.function(closed, args, formula, prepared, names, printer)
            call = _call(closed, printer.printmethod)
            if prepared.series is not None:
                branch = prepared.series(call(*formula.arguments))
            else:
                branch = finite_branches(lambda v: call(*v), prepared.removable, formula.arguments)
            # the series branch is a Horner polynomial: common subexpressions only in the
            # closed form (cse of the long polynomial costs minutes and finds little)
            use_cse = self.settings["cse"] and prepared.series is None
            inner = prepare(branch, cse=use_cse, stable=False)
            inner = Prepared(inner.temporaries, inner.result, inner.needs, branch=True)
            out += self.function(fname, args, formula, inner, self.names(formula, inner), printer)
        else:
            out += self.function(fname, args, formula, prepared, names, printer)
        out += self.postamble(formula, prepared, names, printer)
        return "\n".join(out) + "\n"

    def closed_form_name(self, fname: str) -> str:
        """The name of the closed-form function behind a branch."""
        return fname + "_closed_form"

    def function(self, fname, args, formula, prepared, names, printer) -> list[str]:
        """One function: opening, one assignment per temporary, closing."""
        out = self.opening(fname, args, formula, prepared, names)
        for sym, expr in prepared.temporaries:
            out += self.assignment(names[sym], self.code(printer, self.renamed(expr, names)))
        out += self.closing(fname, args, self.code(printer, self.renamed(prepared.result, names)))
        return out

    # --- the pieces of render (defaults: a commented doc block, no helpers) ---------------
    def code(self, printer, expr: sp.Expr) -> str:
        """The printed expression."""
        return printer.doprint(expr)

    def commented(self, formula: Formula, names: dict) -> list[str]:
        """The doc block, each line commented by :attr:`comment`."""
        return [self.comment.format(line).rstrip() for line in self.doc_lines(formula, names)]

    def preamble(self, formula, prepared, names, printer) -> list[str]:
        return self.commented(formula, names)

    def opening(self, fname, args, formula, prepared, names) -> list[str]:
        raise NotImplementedError

    def assignment(self, name: str, code: str) -> list[str]:
        raise NotImplementedError

    def closing(self, fname, args, code: str) -> list[str]:
        raise NotImplementedError

    def postamble(self, formula, prepared, names, printer) -> list[str]:
        return []

    def helpers(self, prepared, helper, printer) -> list[str]:
        """``helper(m, printer)`` (a function's source) for every polygamma order m the
        expression needs, in order."""
        needs = sorted(n for n in prepared.needs if n.startswith("polygamma"))
        return [helper(int(need[9:]), printer) for need in needs]


class ExactExporter(Exporter):
    """Base of the exact targets (a CAS, a data format): the expression as derived, no
    common subexpressions and no numerically stable rewriting, so ``function_name`` is
    the only setting."""

    exact = True
    default_settings = {"function_name": None}


def get_exporter(language: str, **settings) -> Exporter:
    """The exporter of ``language`` with ``settings``.

    Parameters
    ----------
    language : str
        One of :data:`LANGUAGES` (case-insensitive).
    **settings
        The exporter's options: ``function_name``; for numeric targets also ``cse``,
        ``stable`` and ``finite`` (the branch at removable singularities).

    Returns
    -------
    Exporter

    Raises
    ------
    UnknownName
        For an unknown language.
    InvalidParameter
        For an option the target does not take.

    Examples
    --------
    >>> get_exporter("c").language
    'c'
    >>> get_exporter("cobol")
    Traceback (most recent call last):
    ...
    nnqft.errors.UnknownName: unknown language 'cobol'; known: c, fortran, ...
    """
    key = str(language).lower()
    if key not in LANGUAGES:
        raise unknown_name("language", language, LANGUAGES)
    module = importlib.import_module(LANGUAGES[key], __package__)
    return module.EXPORTERS[key](**settings)


def export(formula: Formula | str, language: str, **settings) -> str:
    """Source code for a formula in a language.

    Parameters
    ----------
    formula : Formula or str
        A :class:`~nnqft.derive.formulas.Formula` or a formula id.
    language : str
        One of :data:`LANGUAGES`.
    **settings
        Options of the exporter (:func:`get_exporter`).

    Returns
    -------
    str
        The source text, ending in a newline.

    Raises
    ------
    UnknownName
        For an unknown formula id or language.
    InvalidParameter
        For an unknown option or an expression the target cannot hold.

    Examples
    --------
    >>> print(export("kernel/linear", "fortran").splitlines()[-1])
    end module kernel_linear_mod
    """
    if isinstance(formula, str):
        formula = get_formula(formula)
    return get_exporter(language, **settings).export(formula)
