"""Check a hand calculation against a derived formula.

:func:`check` parses the user's expression (sympy syntax, or LaTeX where sympy's LaTeX
parser is installed: ``pip install nnqft[latex]``) and decides whether it equals the
registered formula, by two independent routes:

1. **symbolic**: the difference is simplified (expand, cancel, simplify) towards zero;
2. **numeric**: both sides are evaluated in 40-digit arithmetic (mpmath through
   ``evalf``) at random points of the formula's validity domain (fixed seed; N and T
   integers), and the largest relative difference is reported.

The verdict is the numeric one (a non-zero difference at a point is a proof of
inequivalence; agreement to 1e-25 at every point, with the symbolic route not finding a
difference, is equivalence).  When they differ, the report names the first order in 1/N
at which they do (series in eps = 1/N, or the measured decay of the difference in N where
no series exists) and the lowest power of sigma_w2 in that order's coefficient.

With ``order=K`` both sides are truncated after 1/N^K before comparing; a formula that is
itself a 1/N series is compared through its own order by default.

>>> r = check("sigma_w2/2", "mft/chi1/relu")
>>> r.equivalent, r.difference
(True, 0)
>>> r = check("sigma_w2", "mft/chi1/relu")
>>> r.equivalent, r.difference, r.first_order
(False, sigma_w2/2, 0)
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass, field

import sympy as sp

from ..errors import InvalidParameter, ParseError
from ..rules import symbols as S
from .formulas import Formula, get_formula

__all__ = ["CheckResult", "check", "parse_user_expression", "truncate"]

#: relative difference below which two 40-digit evaluations count as equal
NUMERIC_TOLERANCE = 1e-25
#: random points per numerical comparison
DEFAULT_POINTS = 24
_DIGITS = 40
_EPS = sp.Symbol("eps", positive=True)


@dataclass(frozen=True)
class CheckResult:
    """The verdict of :func:`check` and how it was reached."""

    formula_id: str
    equivalent: bool
    expression: sp.Expr
    target: sp.Expr
    difference: sp.Expr
    order: int | None
    symbolic: str  # "zero", "nonzero" or "undecided"
    max_relative_difference: float
    points: int
    first_order: int | None = None
    first_order_method: str | None = None
    leading_difference: sp.Expr | None = None
    sigma_w2_power: sp.Expr | None = None
    notes: tuple = field(default=())

    def as_dict(self) -> dict:
        """JSON-ready fields (expressions as sympy-parsable strings)."""
        return {
            "formula": self.formula_id,
            "equivalent": self.equivalent,
            "expression": self.expression,
            "target": self.target,
            "difference": self.difference,
            "order": self.order,
            "symbolic": self.symbolic,
            "numeric_max_relative_difference": self.max_relative_difference,
            "numeric_points": self.points,
            # the CLI contract names this "first differing order" (in 1/N); both keys are kept
            "first_differing_order": self.first_order,
            "first_differing_order_in_1_over_N": self.first_order,
            "first_order_method": self.first_order_method,
            "leading_difference": self.leading_difference,
            "lowest_sigma_w2_power_in_leading_difference": self.sigma_w2_power,
            "notes": list(self.notes),
        }


# --- parsing ---------------------------------------------------------------------------


def _latex_name(name: str) -> str:
    name = re.sub(r"[\\{}\s]", "", name)
    m = re.fullmatch(r"([A-Za-z]+)_(\d+)", name)
    return m.group(1) + m.group(2) if m else name


#: the pip requirement of sympy's LaTeX parser (the extra ``nnqft[latex]`` pins the same)
LATEX_REQUIREMENT = "antlr4-python3-runtime==4.11.*"


def _latex_to_text(text: str) -> str:
    """LaTeX -> plain text for the safe parser: sympy's LaTeX parser builds unevaluated
    objects (no ``eval``); printing them with nnqft's names gives text that then passes
    the same whitelist and cost limits as any other input."""
    from ..rules.parse import MAX_LENGTH

    if len(text) > MAX_LENGTH:
        raise ParseError(f"cannot parse LaTeX: {len(text)} characters (at most {MAX_LENGTH})")
    try:
        import antlr4  # noqa: F401
    except ImportError:
        raise ParseError(
            f"LaTeX input needs the antlr4 runtime: pip install '{LATEX_REQUIREMENT}' "
            "(or pip install 'nnqft[latex]'), or write the expression in sympy syntax"
        ) from None
    from sympy.core.function import AppliedUndef
    from sympy.parsing.latex import parse_latex
    from sympy.printing.str import StrPrinter

    try:
        expr = parse_latex(text)
    except Exception as exc:  # the LaTeX parser raises many types for malformed input
        raise ParseError(f"cannot parse LaTeX {text[:80]!r}: {exc.__class__.__name__}") from None

    class _Names(StrPrinter):
        def _print_Symbol(self, s):
            name = _latex_name(s.name)
            if name in ("sigma_w", "sigma_b"):
                return f"sqrt({name}2)"  # \sigma_w^2 -> sigma_w2
            return name

        def _print_Function(self, f):
            # sympy's LaTeX parser reads "q_0 \left(x\right)" as a call q_0(x): no formula
            # has undefined functions, so a one-argument call of a name is a product
            if isinstance(f, AppliedUndef) and len(f.args) == 1:
                if f.func.__name__ == "psi":  # nnqft's printer writes digamma as \psi
                    return f"digamma({self._print(f.args[0])})"
                head = self._print_Symbol(sp.Symbol(f.func.__name__))
                return f"{head}*({self._print(f.args[0])})"
            return super()._print_Function(f)

    try:
        return _Names({"order": None}).doprint(expr)
    except Exception as exc:  # e.g. a number too long to print
        raise ParseError(f"cannot parse LaTeX {text[:80]!r}: {exc.__class__.__name__}") from None


def parse_user_expression(text: str, formula: Formula) -> sp.Expr:
    """The user's expression in the formula's own symbols (same names, same assumptions).

    Plain sympy syntax first; text that looks like LaTeX (a backslash or braces) goes to
    sympy's LaTeX parser.  Either way the expression is read by the safe parser of
    :mod:`nnqft.rules.parse` (never ``eval``); unknown names are refused, and so are
    non-finite expressions (``nan``, ``zoo``, ``oo``).

    >>> f = get_formula("mft/chi1/relu")
    >>> parse_user_expression("sigma_w2/2", f) == f.expression
    True
    """
    if not isinstance(text, str):
        raise ParseError(f"the expression must be text, got {type(text).__name__}")
    if "\\" in text or "{" in text:
        text = _latex_to_text(text)
    own = {s.name: s for s in formula.arguments}
    try:
        expr = S.parse_expression(text, own)
    except ParseError as exc:
        reason = getattr(exc, "reason", "")
        if reason.startswith("unknown symbol"):
            allowed = ", ".join(s.name for s in formula.arguments)
            raise ParseError(f"{exc}; {formula.id} is a function of {allowed}") from None
        raise
    by_name = dict(own)
    by_name.update({n: s for n, s in S.STANDARD.items() if n not in by_name})
    unknown = sorted(s.name for s in expr.free_symbols if s.name not in by_name)
    if unknown:
        allowed = ", ".join(s.name for s in formula.arguments)
        raise ParseError(
            f"unknown symbol(s) {', '.join(unknown)} in {text[:80]!r}; "
            f"{formula.id} is a function of {allowed}"
        )
    expr = expr.xreplace({s: by_name[s.name] for s in expr.free_symbols})
    return _close_simple_sums(expr)


def _generic(expr: sp.Expr) -> sp.Expr:
    """A Piecewise whose special cases are equalities (sigma_w2 = 1 in a geometric sum)
    becomes its generic branch: those cases have measure zero in the sampled domain."""
    if isinstance(expr, sp.Piecewise) and all(
        isinstance(c, sp.Eq) or c == sp.true for _, c in expr.args
    ):
        return expr.args[-1][0]
    return expr


def _close_simple_sums(expr: sp.Expr) -> sp.Expr:
    """Sums of plain powers (geometric sums) in closed form; sums over Min, Kronecker
    deltas or nested sums stay as they are (the numeric route sums them term by term).

    >>> _close_simple_sums(S.parse_expression("Sum(sigma_w2**k, (k, 0, T - 1))"))
    (1 - sigma_w2**T)/(1 - sigma_w2)
    """
    return expr.replace(
        lambda e: (
            isinstance(e, sp.Sum)
            and not e.function.has(sp.Sum, sp.Min, sp.Max, sp.KroneckerDelta, sp.Piecewise)
        ),
        lambda e: e.doit().replace(lambda x: isinstance(x, sp.Piecewise), _generic),
    )


# --- truncation in 1/N --------------------------------------------------------------------


def truncate(expr: sp.Expr, order: int) -> sp.Expr:
    """``expr`` through 1/N^order (a series in eps = 1/N; exact polynomials and rational
    functions of N, and powers (1 + a/N)**T, expand fine).

    >>> truncate((1 + 2 / S.N) ** 2, 1)
    1 + 4/N
    """
    if S.N not in expr.free_symbols:
        return expr
    e = sp.expand(expr.subs(S.N, 1 / _EPS))
    if e.is_polynomial(_EPS):  # already a polynomial in 1/N: drop the higher powers
        return sp.Add(*(e.coeff(_EPS, k) / S.N**k for k in range(order + 1)))
    try:
        series = sp.series(e, _EPS, 0, order + 1).removeO()
    except Exception as exc:  # sympy raises many types for functions without a series
        raise InvalidParameter(
            f"cannot expand the expression in 1/N ({exc.__class__.__name__})"
        ) from None
    if series.has(sp.O) or _EPS in series.free_symbols and series.has(sp.log(_EPS)):
        raise InvalidParameter("the expression has no plain power series in 1/N")
    return sp.expand(series.subs(_EPS, 1 / S.N))


# --- the two routes ---------------------------------------------------------------------


def _symbolic_zero(diff: sp.Expr) -> str:
    if diff == 0:
        return "zero"
    if diff.has(sp.Sum):
        diff = diff.doit()
        if diff.has(sp.Sum):
            return "undecided"  # sums over symbolic ranges: the numeric route decides
    for step in (
        sp.expand,
        lambda e: sp.expand(sp.powsimp(sp.expand(e), force=True)),
        lambda e: sp.cancel(sp.together(e)),
        sp.simplify,
    ):
        try:
            if step(diff) == 0:
                return "zero"
        except Exception:  # a step that fails simply does not decide
            continue
    return "undecided"


def _points(formula: Formula, count: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    dom = formula.sampling_domain()
    fixed = {}
    for cond in formula.validity:
        if isinstance(cond, sp.Eq) and cond.lhs.is_Symbol and cond.rhs.is_number:
            fixed[cond.lhs.name] = cond.rhs
    syms = {s.name: s for s in formula.arguments}
    syms.update({n: s for n, s in S.STANDARD.items() if n not in syms})
    out = []
    for _ in range(count):
        point = {}
        for name, sym in syms.items():
            if name in fixed:
                point[sym] = fixed[name]
                continue
            lo, hi = dom[name] if name in dom else _default_range(name)
            if sym.is_integer:
                point[sym] = sp.Integer(rng.randint(int(lo), int(hi)))
            elif name != "q12":
                point[sym] = sp.Rational(round(rng.uniform(lo, hi), 6)).limit_denominator(10**6)
        if "q12" in syms:
            q12 = syms["q12"]
            lo, hi = dom.get("q12", (-0.9, 0.9))
            c = sp.Rational(round(rng.uniform(lo, hi), 6)).limit_denominator(10**6)
            point[q12] = c * sp.sqrt(point[syms["q11"]] * point[syms["q22"]])
        out.append(point)
    return out


def _default_range(name: str):
    from .formulas import DEFAULT_DOMAIN

    return DEFAULT_DOMAIN.get(name, (0.1, 2.0))


def _relative(a, b) -> float:
    diff = abs(sp.N(a - b, _DIGITS))
    scale = max(abs(sp.N(a, _DIGITS)), abs(sp.N(b, _DIGITS)), sp.Float(1e-300))
    out = float(diff / scale)
    return out if math.isfinite(out) else math.inf


def _evaluate(expr: sp.Expr, point: dict, digits: int = _DIGITS):
    """expr at point to ``digits`` digits (sums over symbolic ranges summed term by term)."""
    if expr.has(sp.Sum, sp.Product):
        return sp.N(expr.xreplace(point).doit(), digits)
    return expr.evalf(digits, subs=point)


def _numeric(user: sp.Expr, target: sp.Expr, points: list[dict]) -> float:
    worst = 0.0
    for p in points:
        try:
            a = _evaluate(user, p)
            b = _evaluate(target, p)
            if not (a.is_number and b.is_number):
                return math.inf
            worst = max(worst, _relative(a, b))
        except (TypeError, ValueError, ZeroDivisionError):
            return math.inf
    return worst


# --- locating the difference --------------------------------------------------------------


def _first_order(diff: sp.Expr, points: list[dict], max_order: int):
    """(k, coefficient, method): the first power of 1/N with a non-zero coefficient (at
    any of a few sample points: a coefficient may vanish at small T)."""
    if S.N not in diff.free_symbols:
        return 0, _simplify(diff), "N-independent"
    samples = [{s: v for s, v in p.items() if s != S.N} for p in points[:6]]
    others = max(samples, key=lambda p: p.get(S.T, 0))

    def nonzero(coeff):
        return any(abs(complex(_evaluate(coeff, p))) > 1e-30 for p in samples)

    e = sp.expand(diff.subs(S.N, 1 / _EPS))
    if e.is_polynomial(_EPS):
        for k in range(0, sp.degree(e, _EPS) + 1):
            coeff = e.coeff(_EPS, k)
            if coeff != 0 and nonzero(coeff):
                return k, _simplify(coeff), "exact polynomial in 1/N"
    try:
        series = sp.series(e, _EPS, 0, max_order + 2).removeO()
        if not series.has(sp.log(_EPS)):
            poly = sp.expand(series)
            for k in range(0, max_order + 2):
                coeff = poly.coeff(_EPS, k)
                if coeff != 0 and nonzero(coeff):
                    return k, sp.simplify(coeff), "series in 1/N"
    except Exception:  # no power series: measure the decay instead
        pass
    # numerical: |diff| ~ c N^-k at large N
    values = []
    for n in (10**6, 10**7, 10**8):
        values.append(abs(_evaluate(diff, {**others, S.N: sp.Integer(n)}, 60)))
    if values[0] == 0 or values[-1] == 0:
        return None, None, None
    slope = float(sp.log(values[0] / values[-1], 10)) / 2
    k = round(slope)
    if abs(slope - k) > 0.05 or k < 0:
        return None, None, None
    return k, None, "measured decay in N"


def _lowest_sigma_w2_power(coeff: sp.Expr):
    if coeff is None or S.sigma_w2 not in coeff.free_symbols:
        return sp.Integer(0) if coeff is not None else None
    powers = []
    for term in sp.Add.make_args(sp.expand(sp.powsimp(sp.expand(coeff)))):
        powers.append(term.as_powers_dict().get(S.sigma_w2, sp.Integer(0)))
    return min(powers, key=lambda p: float(p.subs(S.T, 1000)) if not p.is_number else float(p))


def check(
    expression,
    against: str | Formula,
    order: int | None = None,
    points: int = DEFAULT_POINTS,
    seed: int = 1,
) -> CheckResult:
    """Compare ``expression`` (text or sympy) with the formula ``against`` (an id).

    >>> check("q*sigma_w2 + sigma_b2", "mft/length-map/linear").equivalent
    True
    """
    formula = against if isinstance(against, Formula) else get_formula(against)
    if order is not None and formula.order is not None and order != formula.order:
        formula = get_formula(formula.id, order=order)  # a 1/N series: re-derived to order
    if isinstance(expression, str):
        user = parse_user_expression(expression, formula)
    else:
        user = parse_user_expression(sp.sstr(expression), formula)
    target = formula.expression.doit()
    used_order = order if order is not None else formula.order
    notes = []
    if used_order is not None and (S.N in target.free_symbols or S.N in user.free_symbols):
        target = truncate(target, used_order)
        user = truncate(user, used_order)
        notes.append(f"both sides truncated after 1/N^{used_order}")
    diff = user - target
    symbolic = _symbolic_zero(diff)
    pts = _points(formula, points, seed)
    worst = _numeric(user, target, pts)
    equivalent = worst < NUMERIC_TOLERANCE
    if symbolic == "undecided" and not equivalent:
        symbolic = "nonzero"
    if symbolic == "zero" and not equivalent:  # cannot happen unless evaluation failed
        notes.append("symbolic difference is zero but evaluation disagreed; trust the former")
        equivalent = True
    simplified = sp.Integer(0) if equivalent else _simplify(diff)
    result = dict(
        formula_id=formula.id,
        equivalent=equivalent,
        expression=user,
        target=target,
        difference=simplified,
        order=used_order,
        symbolic=symbolic,
        max_relative_difference=worst,
        points=len(pts),
        notes=tuple(notes),
    )
    if not equivalent:
        k, coeff, how = _first_order(diff, pts, used_order if used_order else 4)
        result.update(
            first_order=k,
            first_order_method=how,
            leading_difference=coeff,
            sigma_w2_power=_lowest_sigma_w2_power(coeff),
        )
    return CheckResult(**result)


def _simplify(diff: sp.Expr) -> sp.Expr:
    """A short form of the difference (no log-combining: that turns log(N/2) into
    log(N**N/2**N)/N)."""
    candidates = [diff]
    for step in (
        lambda e: sp.factor_terms(sp.expand(e)),
        lambda e: sp.factor_terms(sp.cancel(sp.together(e))),
        lambda e: sp.factor_terms(sp.powsimp(sp.expand(e))),
    ):
        try:
            candidates.append(step(diff))
        except Exception:
            continue
    return min(candidates, key=sp.count_ops)
