"""Gaussian expectations in closed form by symbolic integration (docs/conventions.md §7).

:func:`gaussian_moment` integrates E[f(u)], u ~ N(0, var), for the integrands whose
Gaussian integral closes: polynomials, piecewise polynomials split at 0 (the ReLU family),
polynomials times exponentials of linear forms (sin, cos, exp).  It is the closed-form
route of :func:`nnqft.derive.gaussian.expect` where an activation entry states no moment.
"""

from __future__ import annotations

import sympy as sp

from ...rules import symbols as S
from ...rules.activations import Activation
from ..convert import to_sympy

__all__ = ["gaussian_moment"]


def _half_line_moment(k: int, var) -> sp.Expr:
    """E[u^k 1(u > 0)] for u ~ N(0, var)."""
    return (2 * var) ** sp.Rational(k, 2) * sp.gamma(sp.Rational(k + 1, 2)) / (2 * sp.sqrt(sp.pi))


def _smooth_moment(expr: sp.Expr, var) -> sp.Expr | None:
    """E[expr(u)] for polynomials times exponentials of linear forms (sin, cos, exp, ...)."""
    a = sp.Dummy("a")
    expr = sp.expand(sp.powsimp(sp.expand(expr.rewrite(sp.exp)), combine="exp"))
    total = sp.Integer(0)
    for term in sp.Add.make_args(expr):
        exps = [f for f in sp.Mul.make_args(term) if isinstance(f, sp.exp) or f.func == sp.exp]
        rest = sp.Mul(*[f for f in sp.Mul.make_args(term) if f not in exps])
        arg = sp.expand(sum((f.args[0] for f in exps), sp.Integer(0)))
        poly_arg = sp.Poly(arg, S.z) if arg.is_polynomial(S.z) else None
        if poly_arg is None or poly_arg.degree() > 1 or not rest.is_polynomial(S.z):
            return None
        slope, offset = poly_arg.coeff_monomial(S.z), poly_arg.coeff_monomial(1)
        generating = sp.exp(offset + a**2 * var / 2)  # E exp(offset + a u)
        for (k,), c in sp.Poly(rest, S.z).terms():
            total += c * sp.diff(generating, a, k).subs(a, slope)
    return total


def gaussian_moment(expr, var=S.q) -> sp.Expr | None:
    """E[expr(u)] for u ~ N(0, var) in closed form, or None when the integral does not close.

    Handles polynomials, piecewise polynomials split at 0 (Max, Min, Abs, Heaviside,
    Piecewise: ReLU, leaky ReLU) and polynomials times sin, cos, exp of linear arguments.
    ``expr`` is a sympy expression in ``z`` (or an :class:`Activation`, meaning phi).

    >>> gaussian_moment(sp.Max(0, S.z) ** 4)
    3*q**2/2
    >>> sp.simplify(gaussian_moment(sp.sin(S.z) ** 2) - (1 - sp.exp(-2 * S.q)) / 2)
    0
    >>> gaussian_moment(sp.tanh(S.z) ** 2) is None
    True
    """
    if isinstance(expr, Activation):
        expr = expr.expr
    expr = to_sympy(expr, "expr")
    var = to_sympy(var, "var")
    if S.z not in expr.free_symbols:
        return expr
    pieces = expr.rewrite(sp.Piecewise)
    if not pieces.has(sp.Piecewise):
        out = _smooth_moment(expr, var)
        return None if out is None else sp.simplify(out)
    folded = sp.piecewise_fold(pieces)
    if not isinstance(folded, sp.Piecewise):
        return None
    remaining = sp.S.Reals
    total = sp.Integer(0)
    for piece, cond in folded.args:
        try:
            region = cond.as_set().intersect(remaining) if cond is not sp.true else remaining
        except (NotImplementedError, TypeError, AttributeError):
            return None
        remaining = remaining - region
        if region.is_empty or region.measure == 0:
            continue
        if region == sp.S.Reals:
            sign = None
        elif region in (sp.Interval.open(0, sp.oo), sp.Interval(0, sp.oo)):
            sign = 1
        elif region in (sp.Interval.open(-sp.oo, 0), sp.Interval(-sp.oo, 0)):
            sign = -1
        else:
            return None
        if not piece.is_polynomial(S.z):
            return None
        poly = sp.Poly(sp.expand(piece), S.z)
        for (k,), c in poly.terms():
            if sign is None:
                total += c * (0 if k % 2 else sp.factorial2(k - 1) * var ** sp.Rational(k, 2))
            else:
                total += c * sign**k * _half_line_moment(k, var)
    return sp.simplify(total)
