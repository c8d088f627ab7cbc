"""Check a hand calculation against a derived formula.

:func:`check` parses the user's expression (sympy syntax, or LaTeX through sympy's LaTeX
parser, whose antlr4 runtime is a dependency of nnqft) and decides whether it equals the
registered formula, by two independent routes:

1. **symbolic**: the difference is simplified (expand, cancel, simplify) towards zero;
2. **numeric**: both sides are evaluated in 40-digit arithmetic (mpmath through
   ``evalf``) at random points of the formula's validity domain (fixed seed; N and T
   integers).  Two values agree when ``|yours - formula| <= 1e-25 max(1, |yours|,
   |formula|)``: relative where the values are large, absolute where they are small, so
   a right answer where the formula vanishes (V(T) at T = 1) agrees.

A non-zero difference at a point is a proof of inequivalence.  Agreement at every point
with a symbolic proof is "equivalent (proven symbolically)"; agreement at every point
without one is "equivalent (numerically, 40 digits at 24 points; not proven
symbolically)".  When they differ, the report names the first order in 1/N at which they
do, the lowest power of sigma_w2 in that order's coefficient, and says in words what is
wrong where it can tell (:func:`diagnose`): a constant factor ("2 x the correct one"),
the sign of a 1/N coefficient, a term missing with one of the formula's symbols, a sum
running one term too far or too short, one extra or missing term.

With ``order=K`` both sides are truncated after 1/N^K before comparing; a formula that is
itself a 1/N series is compared through its own order by default.

>>> r = check("sigma_w2/2", "mft/chi1/relu")
>>> r.equivalent, r.difference, r.verdict
(True, 0, 'equivalent (proven symbolically; numerically at 24 points)')
>>> r = check("sigma_w2", "mft/chi1/relu")
>>> r.equivalent, r.difference, r.first_order, r.diagnosis
(False, sigma_w2/2, 0, ('your result is 2 x the correct one',))
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass, field

import mpmath
import sympy as sp

from ..errors import InvalidParameter, ParseError
from ..rules import symbols as S
from .formulas import Formula, get_formula

__all__ = ["CheckResult", "check", "diagnose", "parse_user_expression", "truncate"]

#: two 40-digit values agree when |a - b| <= NUMERIC_TOLERANCE * max(1, |a|, |b|): relative
#: above magnitude 1, absolute below it (a formula that vanishes at a point is matched there)
NUMERIC_TOLERANCE = 1e-25
#: random points per numerical comparison
DEFAULT_POINTS = 24
_DIGITS = 40
#: largest difference (in sympy operations) that is factored and cancelled for display:
#: on the recurrent 1/N series that takes tens of seconds and shortens nothing
_FACTOR_OPS = 150
#: points the diagnosis compares at (each comparison is exact to 40 digits; sums cost)
_DIAGNOSIS_POINTS = 6
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
    verdict: str = ""
    diagnosis: tuple = field(default=())
    max_absolute_difference: float = 0.0
    failed_points: int = 0
    correct: sp.Expr | None = None  # the formula as displayed: factored, 1/N order by order

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
            "verdict": self.verdict,
            "diagnosis": list(self.diagnosis),
            "numeric_max_absolute_difference": self.max_absolute_difference,
            "numeric_tolerance": f"{NUMERIC_TOLERANCE:g} x max(1, |value|)",
            "numeric_failed_points": self.failed_points,
            "correct": self.correct if self.correct is not None else self.target,
        }


# --- parsing ---------------------------------------------------------------------------


def _latex_name(name: str) -> str:
    name = re.sub(r"[\\{}\s]", "", name)
    m = re.fullmatch(r"([A-Za-z]+)_(\d+)", name)
    return m.group(1) + m.group(2) if m else name


#: the pip requirement of sympy's LaTeX parser: a dependency of nnqft (pyproject.toml pins
#: the same); sympy's parser needs exactly the 4.11 runtime
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
            f"LaTeX input needs sympy's LaTeX parser runtime, a dependency of nnqft that is "
            f"missing here: pip install '{LATEX_REQUIREMENT}' (or write the expression in "
            "sympy syntax)"
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
    return _close_simple_sums(_parse_as_written(text, formula))


def _parse_as_written(text: str, formula: Formula) -> sp.Expr:
    """The user's expression with its sums as written (the diagnosis moves their limits)."""
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
    return expr.xreplace({s: by_name[s.name] for s in expr.free_symbols})


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


@dataclass(frozen=True)
class _Comparison:
    """Both sides at every point: ``worst`` is the largest |a - b| / max(1, |a|, |b|)
    (the quantity held to :data:`NUMERIC_TOLERANCE`), ``absolute`` the largest |a - b|,
    ``differing`` how many points disagree, ``failed`` how many could not be evaluated."""

    worst: float
    absolute: float
    differing: int
    failed: int
    points: int

    @property
    def close(self) -> bool:
        return self.failed == 0 and self.worst <= NUMERIC_TOLERANCE


def _difference_measure(a, b) -> tuple[float, float]:
    """(|a - b| / max(1, |a|, |b|), |a - b|): relative above magnitude 1, absolute below."""
    diff = abs(sp.N(a - b, _DIGITS))
    scale = max(abs(sp.N(a, _DIGITS)), abs(sp.N(b, _DIGITS)), sp.Integer(1))
    out, absolute = float(diff / scale), float(diff)
    return (out if math.isfinite(out) else math.inf), absolute


def _evaluate(expr: sp.Expr, point: dict, digits: int = _DIGITS):
    """expr at point to ``digits`` digits (sums over symbolic ranges summed term by term)."""
    if expr.has(sp.Sum, sp.Product):
        return sp.N(expr.xreplace(point).doit(), digits)
    return expr.evalf(digits, subs=point)


def _values(expr: sp.Expr, points: list[dict]) -> list:
    """expr at every point, 40 digits; None where it cannot be evaluated or is not finite.

    Without sums the expression is compiled once for mpmath and run with 20 guard digits
    (evalf per point is ten times slower on the recurrent series; the guard digits cover
    the cancelling poles at sigma_w2 = 1 the sampled points come near); sums are summed
    term by term by evalf."""
    fast = None
    if points and not expr.has(sp.Sum, sp.Product):
        syms = sorted(set().union(*(p.keys() for p in points)), key=lambda s: s.name)
        try:
            fast = sp.lambdify(syms, expr, "mpmath")
        except Exception:  # a function mpmath lacks: evalf below
            fast = None
    out = []
    for p in points:
        v = None
        try:
            if fast is not None:
                with mpmath.workdps(_DIGITS + 20):
                    raw = fast(*(_mp(p[s]) for s in syms))
                if isinstance(raw, mpmath.mpc):
                    v = sp.Float(raw.real, _DIGITS) + sp.I * sp.Float(raw.imag, _DIGITS)
                else:
                    v = sp.Float(raw, _DIGITS) if isinstance(raw, mpmath.mpf) else None
            else:
                v = _evaluate(expr, p)
        except (TypeError, ValueError, ZeroDivisionError, ArithmeticError):
            v = None
        if v is not None and (not v.is_number or v.has(sp.zoo, sp.nan, sp.oo, -sp.oo)):
            v = None
        out.append(v)
    return out


def _mp(value):
    """A point's coordinate as an mpmath number at the working precision (exact for
    rationals)."""
    value = sp.sympify(value)
    if value.is_Rational:
        return mpmath.mpf(int(value.p)) / int(value.q)
    return mpmath.mpf(str(sp.N(value, mpmath.mp.dps)))


def _compare(mine: list, right: list) -> _Comparison:
    """The two sides' values (from :func:`_values`) point by point."""
    worst = absolute = 0.0
    differing = failed = 0
    for a, b in zip(mine, right):
        if a is None or b is None:
            failed += 1
            continue
        measure, diff = _difference_measure(a, b)
        worst, absolute = max(worst, measure), max(absolute, diff)
        differing += measure > NUMERIC_TOLERANCE
    return _Comparison(worst, absolute, differing, failed, len(mine))


def _same(a: sp.Expr, b: sp.Expr, points: list[dict]) -> bool:
    """a = b at every point (the numeric route's criterion)."""
    return _compare(_values(a, points), _values(b, points)).close


# --- locating the difference --------------------------------------------------------------


def _coefficients(expr: sp.Expr, upto: int):
    """({k: coefficient of 1/N^k} for k <= upto, method), or (None, None) without a power
    series in 1/N."""
    if S.N not in expr.free_symbols:
        return {k: expr if k == 0 else sp.Integer(0) for k in range(upto + 1)}, "N-independent"
    e = sp.expand(expr.subs(S.N, 1 / _EPS))
    if e.is_polynomial(_EPS):
        return {k: e.coeff(_EPS, k) for k in range(upto + 1)}, "exact polynomial in 1/N"
    try:
        series = sp.series(e, _EPS, 0, upto + 1).removeO()
    except Exception:  # sympy raises many types for functions without a series
        return None, None
    if series.has(sp.log(_EPS)) or series.has(sp.O):
        return None, None
    poly = sp.expand(series)
    return {k: poly.coeff(_EPS, k) for k in range(upto + 1)}, "series in 1/N"


def _first_order(diff: sp.Expr, points: list[dict], max_order: int):
    """(k, coefficient, method): the first power of 1/N with a non-zero coefficient (at
    any of a few sample points: a coefficient may vanish at small T)."""
    if S.N not in diff.free_symbols:
        return 0, _simplify(diff), "N-independent"
    samples = [{s: v for s, v in p.items() if s != S.N} for p in points[:6]]
    others = max(samples, key=lambda p: p.get(S.T, 0))

    def nonzero(coeff):
        return any(abs(complex(_evaluate(coeff, p))) > 1e-30 for p in samples)

    coeffs, how = _coefficients(diff, max_order + 1)
    if coeffs is not None:
        degree = max(coeffs)
        if how == "exact polynomial in 1/N":
            degree = sp.degree(sp.expand(diff.subs(S.N, 1 / _EPS)), _EPS)
            coeffs, _ = _coefficients(diff, degree)
        for k in range(degree + 1):
            if coeffs[k] != 0 and nonzero(coeffs[k]):
                return k, _simplify(coeffs[k]), how
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


# --- what is wrong, in words ------------------------------------------------------------------


def _constant_ratio(mine: list, right: list):
    """r when mine = r right at every point (values from :func:`_values`; r an exact
    number where one fits), else None."""
    ratios = []
    for a, b in zip(mine, right):
        if a is None or b is None:
            return None
        if abs(b) > 1e-20:
            ratios.append(a / b)
    if len(ratios) < 2 or any(abs(r - ratios[0]) > 1e-20 * max(1, abs(ratios[0])) for r in ratios):
        return None
    guess = sp.nsimplify(sp.Float(ratios[0], 30), [sp.pi], tolerance=1e-20, rational=False)
    return guess if sp.N(abs(guess - ratios[0]), 30) < 1e-20 else ratios[0]


def _order_name(k: int) -> str:
    return "1/N" if k == 1 else f"1/N^{k}"


def _series_diagnosis(target, k: int, leading, points) -> str | None:
    """What is wrong with the 1/N^k coefficient, the first one that differs (k >= 1):
    ``leading`` is the difference's coefficient there (yours minus the formula's)."""
    right, _ = _coefficients(target, k)
    if right is None or leading is None:
        return None
    ratio = _constant_ratio(_values(leading, points), _values(right[k], points))
    if ratio is None:
        return None
    if ratio == -1:
        return f"the {_order_name(k)} term is missing"
    if ratio == -2:
        return f"the {_order_name(k)} coefficient has the wrong sign"
    return f"the {_order_name(k)} coefficient is {sp.sstr(1 + ratio)} x the correct one"


def _missing_symbol(user, target, points) -> str | None:
    """'missing sigma_b2 term' when the user's result is the formula with a symbol set to 0."""
    for sym in sorted(target.free_symbols - user.free_symbols, key=lambda s: s.name):
        if sym in (S.N, S.T) or sym.is_integer:
            continue
        try:
            at_zero = target.subs(sym, 0)
        except (TypeError, ValueError, ZeroDivisionError):
            continue
        if at_zero.has(sp.zoo, sp.nan) or at_zero == target:
            continue
        if _same(user, at_zero, points):
            return f"missing {sym.name} term: your result is the correct one at {sym.name} = 0"
    return None


def _sum_limits(written, target, points) -> str | None:
    """'an extra term k = T' when moving one limit of one of the user's sums by one gives
    the formula."""
    for total in sorted(written.atoms(sp.Sum), key=sp.default_sort_key):
        if len(total.limits) != 1:
            continue
        var, lo, hi = total.limits[0]
        moves = (
            (
                (lo, hi - 1),
                f"an extra term {var} = {sp.sstr(hi)} (the sum should end at {sp.sstr(hi - 1)})",
            ),
            (
                (lo, hi + 1),
                f"a missing term {var} = {sp.sstr(hi + 1)} (the sum should end "
                f"at {sp.sstr(hi + 1)})",
            ),
            (
                (lo + 1, hi),
                f"an extra term {var} = {sp.sstr(lo)} (the sum should start at {sp.sstr(lo + 1)})",
            ),
            (
                (lo - 1, hi),
                f"a missing term {var} = {sp.sstr(lo - 1)} (the sum should start "
                f"at {sp.sstr(lo - 1)})",
            ),
        )
        for (a, b), words in moves:
            moved = written.xreplace({total: sp.Sum(total.function, (var, a, b))})
            if _same(_close_simple_sums(moved), target, points):
                return words
    return None


def _one_term(user, target, diff=None) -> str | None:
    """'an extra term X' / 'a missing term X' when the difference is one term of one side
    (as written or expanded); ``diff`` is the short form of user - target if known."""
    d = _simplify(user - target) if diff is None else diff
    if d == 0 or isinstance(d, sp.Add):
        return None

    def terms(e):
        return set(sp.Add.make_args(e)) | set(sp.Add.make_args(sp.expand(e)))

    if d in terms(user):
        return f"an extra term {sp.sstr(d)}"
    if -d in terms(target):
        return f"a missing term {sp.sstr(-d)}"
    return None


def diagnose(
    user: sp.Expr,
    target: sp.Expr,
    points: list[dict],
    written=None,
    first_order: tuple | None = None,
    values: tuple | None = None,
    difference=None,
) -> tuple:
    """What is wrong, in words: a tuple of sentences (empty when nothing simple fits).

    Parameters
    ----------
    user, target : sympy.Expr
        The two sides as compared.
    points : list of dict
        Where to compare them (a few points suffice: every test is exact in 40 digits).
    written : sympy.Expr, optional
        The user's expression with its sums as typed (their limits are moved by one).
    first_order : tuple, optional
        ``(k, coefficient)``: the first differing power of 1/N and the difference's
        coefficient there.
    values : tuple of two lists, optional
        Both sides' values at ``points``, when the caller has them.
    difference : sympy.Expr, optional
        ``user - target`` in its short form, when the caller has it.

    Returns
    -------
    tuple of str
        Sentences such as "your result is 2 x the correct one".

    Examples
    --------
    >>> from nnqft.rules.symbols import sigma_w2, sigma_b2, q
    >>> pts = [{sigma_w2: sp.Rational(k, 3), sigma_b2: sp.Rational(1, k), q: k} for k in (1, 2, 4)]
    >>> diagnose(sigma_w2 * q, sigma_w2 * q + sigma_b2, pts)
    ('missing sigma_b2 term: your result is the correct one at sigma_b2 = 0',)
    >>> diagnose(-2 * sigma_w2 * q, sigma_w2 * q, pts)
    ('your result is -2 x the correct one',)
    """
    out = []
    mine, right = values if values is not None else (_values(user, points), _values(target, points))
    ratio = _constant_ratio(mine, right)
    if ratio is not None and ratio != 1:
        if ratio == -1:
            out.append("your result has the wrong overall sign (-1 x the correct one)")
        elif ratio == 0:
            out.append("your result vanishes where the formula does not")
        else:
            out.append(f"your result is {sp.sstr(ratio)} x the correct one")
        return tuple(out)
    if first_order is not None and first_order[0] is not None and first_order[0] >= 1:
        words = _series_diagnosis(target, *first_order, points)
        if words:
            out.append(words)
    for finder in (
        lambda: _missing_symbol(user, target, points),
        lambda: _sum_limits(written, target, points) if written is not None else None,
        lambda: _one_term(user, target, difference),
    ):
        words = finder()
        if words:
            out.append(words)
            break
    return tuple(out)


# --- the verdict -----------------------------------------------------------------------------


def _verdict(symbolic: str, comparison: _Comparison) -> tuple[bool, str]:
    n = comparison.points
    if comparison.close:
        if symbolic == "zero":
            return True, f"equivalent (proven symbolically; numerically at {n} points)"
        return True, (
            f"equivalent (numerically, {_DIGITS} digits at {n} points; not proven symbolically)"
        )
    if symbolic == "zero":  # only an evaluation failure can get here
        bad = comparison.failed + comparison.differing
        return True, (
            f"equivalent (proven symbolically; the {_DIGITS}-digit evaluation failed "
            f"at {bad} of {n} points)"
        )
    if comparison.differing:
        return False, f"not equivalent (they differ at {comparison.differing} of {n} points)"
    return False, (
        f"undecided, counted as not equivalent: neither route could decide (no symbolic "
        f"proof; {comparison.failed} of {n} points could not be evaluated)"
    )


def check(
    expression,
    against: str | Formula,
    order: int | None = None,
    points: int = DEFAULT_POINTS,
    seed: int = 1,
) -> CheckResult:
    """Compare ``expression`` (text or sympy) with the formula ``against`` (an id).

    Parameters
    ----------
    expression : str or sympy.Expr
        The hand result, in the formula's symbols (sympy syntax or LaTeX).
    against : str or Formula
        A formula id (``nnqft list``) or a :class:`~nnqft.derive.formulas.Formula`.
    order : int, optional
        Compare through 1/N^order only (both sides truncated).
    points, seed : int
        Random points of the numeric route, and their seed.

    Returns
    -------
    CheckResult
        ``equivalent``, ``verdict`` in words, the factored ``difference``, ``diagnosis``.

    Raises
    ------
    ParseError
        When the expression cannot be read or names unknown symbols.

    Examples
    --------
    >>> check("q*sigma_w2 + sigma_b2", "mft/length-map/linear").equivalent
    True
    >>> check("2*q0**2*sigma_w2**(2*T)*T - 2*q0**2*exp(2*T*log(sigma_w2))",
    ...       "finite-width/V/linear").verdict   # V(1) = 0: agreement is absolute there
    'equivalent (proven symbolically; numerically at 24 points)'
    """
    formula = against if isinstance(against, Formula) else get_formula(against)
    if order is not None and formula.order is not None and order != formula.order:
        formula = get_formula(formula.id, order=order)  # a 1/N series: re-derived to order
    text = expression if isinstance(expression, str) else sp.sstr(expression)
    written = _parse_as_written(text, formula)
    user = _close_simple_sums(written)
    target = formula.expression.doit()
    used_order = order if order is not None else formula.order
    notes = []
    if used_order is not None and (S.N in target.free_symbols or S.N in user.free_symbols):
        target = truncate(target, used_order)
        user = truncate(user, used_order)
        written = user  # its sums are closed by the truncation
        notes.append(f"both sides truncated after 1/N^{used_order}")
    diff = user - target
    pts = _points(formula, points, seed)
    mine, right = _values(user, pts), _values(target, pts)
    comparison = _compare(mine, right)
    # a difference at a point is a proof: simplification (seconds to a minute on the
    # recurrent series) is for proving equality, and runs only when no point differs
    symbolic = "nonzero" if comparison.differing else _symbolic_zero(diff)
    equivalent, verdict = _verdict(symbolic, comparison)
    result = dict(
        formula_id=formula.id,
        equivalent=equivalent,
        expression=user,
        target=target,
        difference=sp.Integer(0) if equivalent else _simplify(diff),
        order=used_order,
        symbolic=symbolic,
        max_relative_difference=comparison.worst,
        points=len(pts),
        notes=tuple(notes),
        verdict=verdict,
        correct=_display(formula.expression if used_order is None else target, used_order),
        max_absolute_difference=comparison.absolute,
        failed_points=comparison.failed,
    )
    if not equivalent:
        simplified = result["difference"]
        # the deepest points: a 1/N coefficient may vanish at small T
        few = sorted(range(len(pts)), key=lambda i: -pts[i].get(S.T, 0))[:_DIAGNOSIS_POINTS]
        k, coeff, how = _first_order(diff, pts, used_order if used_order else 4)
        result.update(
            first_order=k,
            first_order_method=how,
            leading_difference=coeff,
            sigma_w2_power=_lowest_sigma_w2_power(coeff),
            diagnosis=diagnose(
                user,
                target,
                [pts[i] for i in few],
                written,
                (k, coeff),
                ([mine[i] for i in few], [right[i] for i in few]),
                simplified,
            ),
        )
    return CheckResult(**result)


def _display(expr: sp.Expr, order: int | None) -> sp.Expr:
    """The formula as a reader wants it: a 1/N series coefficient by coefficient, each
    factored (sympy keeps the sum unevaluated so the orders stay apart).

    >>> _display(1 + (2 * S.sigma_w2 - 2) / S.N, 1)
    1 + 2*(sigma_w2 - 1)/N
    """
    if order is None or S.N not in expr.free_symbols:
        return expr
    coeffs, _ = _coefficients(expr, order)
    if coeffs is None:
        return expr
    short = [_simplify(c, factor=False) / S.N**k for k, c in coeffs.items() if c != 0]
    return sp.Add(*short, evaluate=False)


def _simplify(diff: sp.Expr, factor: bool = True) -> sp.Expr:
    """A short form of the difference, factored where that is shorter (no log-combining:
    that turns log(N/2) into log(N**N/2**N)/N); ``factor=False`` skips the polynomial
    factorisation (the costly step on long series).

    >>> _simplify(S.sigma_w2**3 - 3*S.sigma_w2**2 + 3*S.sigma_w2 - 1)
    (sigma_w2 - 1)**3
    """
    small = sp.count_ops(diff) <= _FACTOR_OPS
    steps = [  # factored forms first: the shortest wins, ties go to the factored one
        lambda e: sp.factor(sp.cancel(sp.together(e))),
        lambda e: sp.factor_terms(sp.cancel(sp.together(e))),
        lambda e: sp.factor_terms(sp.expand(e)),
        lambda e: sp.factor_terms(sp.powsimp(sp.expand(e))),
    ]
    if not factor:
        steps = steps[1:]
    if not small:  # cancelling a long series costs seconds and shortens nothing
        steps = [steps[-2]]
    candidates = []
    for step in steps:
        try:
            candidates.append(step(diff))
        except Exception:
            continue
    return min([*candidates, diff], key=sp.count_ops)
