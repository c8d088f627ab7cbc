"""The one parser for text a user types: expressions and numbers, never ``eval``.

Every expression nnqft reads from a user (``--activation``, ``nnqft check``, activation
parameters, ``Network(..., "z*tanh(z)")``) goes through :func:`parse_expression` or
:func:`parse_number`.  The text is read by Python's :mod:`ast` module (which only parses)
and the tree is walked node by node against a whitelist, building sympy objects directly;
nothing is ever evaluated as Python, so ``__import__('os').system(...)``, attribute access,
subscripts, ``lambda``, strings and unknown names are refused with one line saying what is
allowed.

Allowed:

* numbers: integer and decimal literals (``0.1`` is exactly ``1/10``, ``1e-3`` is ``1/1000``);
* names: the model symbols ``sigma_w2, sigma_b2, q0, N, T, z, q, q11, q22, q12``, names the
  caller adds (``extra``), the constants ``pi`` and ``E``, and summation variables inside
  ``Sum(f, (k, a, b))``;
* operators: ``+ - * / **`` and unary ``- +``; ``^`` is read as ``**``;
* calls of the functions in :data:`FUNCTIONS` (positional arguments only).

Cost limits, checked before anything expensive is built (:data:`LIMITS`): at most
``MAX_LENGTH`` characters, ``MAX_NODES`` nodes and nesting depth ``MAX_DEPTH`` (a chain
``a + b - c + ...`` or ``a * b / c ...`` counts as one level); numbers of at most
``MAX_DIGITS`` digits, literal or computed (a numeric power is refused *before* it is
computed when its result would be longer); numeric exponents of magnitude at most
``MAX_EXPONENT`` (so ``9**9**9**9`` and ``sigma_w2**(10**10)`` are refused at once);
fractional powers (``sqrt``) of numbers of at most ``MAX_ROOT_DIGITS`` digits; sums with
numeric bounds of at most ``MAX_SUM_TERMS`` terms (nested sums: in all); ``polygamma``
of order at most ``MAX_POLYGAMMA_ORDER`` and numeric argument of magnitude at most
``MAX_POLYGAMMA_ARGUMENT`` (sympy evaluates it exactly as a harmonic-type sum).
Non-finite results (``nan``, ``zoo``, ``oo``, ``1/0``) are refused.

>>> parse_expression("sigma_w2^T*q0 + 0.1")
q0*sigma_w2**T + 1/10
>>> parse_expression("__import__('os')")
Traceback (most recent call last):
...
nnqft.errors.ParseError: cannot parse expression ...: names starting with '_' are not allowed
>>> parse_number("-1/3")
-1/3
"""

from __future__ import annotations

import ast
import difflib
import math
import re
from decimal import Decimal, InvalidOperation
from fractions import Fraction

import sympy as sp

from ..errors import InvalidParameter, InvalidType, ParseError
from . import symbols as S

__all__ = [
    "FUNCTIONS",
    "CONSTANTS",
    "LIMITS",
    "MAX_LENGTH",
    "MAX_NODES",
    "MAX_DEPTH",
    "MAX_DIGITS",
    "MAX_EXPONENT",
    "MAX_ROOT_DIGITS",
    "MAX_SUM_TERMS",
    "default_names",
    "parse_expression",
    "parse_number",
]

#: longest text accepted (the engine's longest formula prints in about 2300 characters)
MAX_LENGTH = 5000
#: most expression nodes (numbers, names, operators, calls) in one text
MAX_NODES = 2000
#: deepest nesting; a chain of + and - (or of * and /) counts as one level
MAX_DEPTH = 50
#: most decimal digits of any number, literal or computed (numerator and denominator each)
MAX_DIGITS = 400
#: largest |exponent| of a numeric exponent
MAX_EXPONENT = 1000
#: most digits of a number raised to a fractional power (sqrt(n) factors n)
MAX_ROOT_DIGITS = 100
#: most terms of a sum with numeric bounds (nested sums: the product)
MAX_SUM_TERMS = 10_000
#: highest order m of polygamma(m, x), and largest |x| for a numeric argument
MAX_POLYGAMMA_ORDER = 10
MAX_POLYGAMMA_ARGUMENT = 100

LIMITS = {
    "MAX_LENGTH": MAX_LENGTH,
    "MAX_NODES": MAX_NODES,
    "MAX_DEPTH": MAX_DEPTH,
    "MAX_DIGITS": MAX_DIGITS,
    "MAX_EXPONENT": MAX_EXPONENT,
    "MAX_ROOT_DIGITS": MAX_ROOT_DIGITS,
    "MAX_SUM_TERMS": MAX_SUM_TERMS,
    "MAX_POLYGAMMA_ORDER": MAX_POLYGAMMA_ORDER,
    "MAX_POLYGAMMA_ARGUMENT": MAX_POLYGAMMA_ARGUMENT,
}

_MAX_BITS = math.ceil(MAX_DIGITS * math.log2(10))
_ROOT_BITS = math.ceil(MAX_ROOT_DIGITS * math.log2(10))

#: name -> (sympy function, least and most positional arguments; None: any number)
FUNCTIONS: dict[str, tuple[object, int, int | None]] = {
    "exp": (sp.exp, 1, 1),
    "log": (sp.log, 1, 2),
    "ln": (sp.log, 1, 1),
    "sqrt": (sp.sqrt, 1, 1),
    "sin": (sp.sin, 1, 1),
    "cos": (sp.cos, 1, 1),
    "tan": (sp.tan, 1, 1),
    "asin": (sp.asin, 1, 1),
    "acos": (sp.acos, 1, 1),
    "atan": (sp.atan, 1, 1),
    "sinh": (sp.sinh, 1, 1),
    "cosh": (sp.cosh, 1, 1),
    "tanh": (sp.tanh, 1, 1),
    "asinh": (sp.asinh, 1, 1),
    "acosh": (sp.acosh, 1, 1),
    "atanh": (sp.atanh, 1, 1),
    "erf": (sp.erf, 1, 1),
    "erfc": (sp.erfc, 1, 1),
    "Abs": (sp.Abs, 1, 1),
    "abs": (sp.Abs, 1, 1),
    "Max": (sp.Max, 1, None),
    "max": (sp.Max, 1, None),
    "Min": (sp.Min, 1, None),
    "min": (sp.Min, 1, None),
    "Heaviside": (sp.Heaviside, 1, 2),
    "sign": (sp.sign, 1, 1),
    "KroneckerDelta": (sp.KroneckerDelta, 2, 2),
    "polygamma": (sp.polygamma, 2, 2),
    "digamma": (sp.digamma, 1, 1),
    "Sum": (sp.Sum, 2, None),
}

#: constant names and their values
CONSTANTS = {"pi": sp.pi, "E": sp.E}

_NON_FINITE = {"nan", "NaN", "zoo", "oo", "inf", "Inf", "infinity", "Infinity"}

_NODE_NAMES = {
    ast.Attribute: "attribute access (a.b)",
    ast.Subscript: "subscripts (a[b])",
    ast.Lambda: "lambda",
    ast.ListComp: "comprehensions",
    ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions",
    ast.GeneratorExp: "comprehensions",
    ast.List: "lists",
    ast.Tuple: "tuples (outside the limits of Sum)",
    ast.Set: "sets",
    ast.Dict: "dicts",
    ast.Compare: "comparisons",
    ast.BoolOp: "and/or",
    ast.IfExp: "if-else",
    ast.NamedExpr: "assignment (:=)",
    ast.Starred: "starred arguments",
    ast.JoinedStr: "strings",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
    ast.Slice: "slices",
    ast.Call: "calls",
    ast.BinOp: "this operator",
}

_ALLOWED = "numbers, + - * / ** ^, the constants pi and E, and calls of the known functions"
_IDENT = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


class _Refused(Exception):
    """Why a text was refused (the reason only; the caller adds what was parsed)."""


def default_names() -> dict:
    """The names every expression may use: nnqft's model symbols (docs/conventions.md §1).

    >>> sorted(default_names())
    ['N', 'T', 'q', 'q0', 'q11', 'q12', 'q22', 'sigma_b2', 'sigma_w2', 'z']
    """
    names = dict(S.STANDARD)
    names.update({s.name: s for s in (S.z, S.q, S.q11, S.q22, S.q12)})
    return names


def _shown(text: str) -> str:
    return repr(text if len(text) <= 80 else text[:77] + "...")


def parse_expression(text: str, extra: dict | None = None) -> sp.Expr:
    """Parse ``text`` as a sympy expression in nnqft's symbols, without evaluating Python.

    ``extra`` maps further names to sympy objects (they take precedence over the model
    symbols).  Anything outside the whitelist of the module docstring, and anything past
    the cost limits, raises :class:`~nnqft.errors.ParseError` with one line saying what
    was wrong and what is allowed.  Names such as ``N`` and ``T`` are nnqft's symbols,
    not sympy functions.

    >>> parse_expression("sigma_w2**T*q0 + N") == S.sigma_w2**S.T * S.q0 + S.N
    True
    >>> parse_expression("(1 + 2/N)*sigma_w2^2")
    sigma_w2**2*(1 + 2/N)
    >>> parse_expression("Sum(sigma_w2**k, (k, 0, T - 1))")
    Sum(sigma_w2**k, (k, 0, T - 1))
    >>> parse_expression("9**9**9**9")
    Traceback (most recent call last):
    ...
    nnqft.errors.ParseError: ...: numeric exponent 387420489 is too large (|exponent| <= 1000)
    """
    names = default_names()
    if extra:
        for key, value in extra.items():
            if not isinstance(key, str) or not _IDENT.fullmatch(key):
                raise InvalidType(f"extra name {key!r} must be an identifier")
            if not isinstance(value, sp.Basic):
                raise InvalidType(f"extra name {key!r} must map to a sympy object, got {value!r}")
        names.update(extra)
    try:
        return _Builder(names).parse(text)
    except _Refused as exc:
        shown = _shown(text) if isinstance(text, str) else repr(text)
        err = ParseError(f"cannot parse expression {shown}: {exc}")
        err.reason = str(exc)
        raise err from None


def parse_number(text: str, what: str = "number") -> sp.Rational:
    """Parse ``text`` as an exact real number: a literal, a sign, a simple fraction.

    Used for activation parameters (``leaky_relu(0.1)``); anything else, names and calls
    included, raises :class:`~nnqft.errors.InvalidParameter`.

    >>> parse_number("0.1"), parse_number("-2"), parse_number("1/3"), parse_number("2.5e-1")
    (1/10, -2, 1/3, 1/4)
    >>> parse_number("pi")
    Traceback (most recent call last):
    ...
    nnqft.errors.InvalidParameter: number 'pi' is not a number: names are not allowed (...)
    """
    try:
        value = _Builder({}, numbers_only=True).parse(text)
    except _Refused as exc:
        shown = _shown(text) if isinstance(text, str) else repr(text)
        raise InvalidParameter(
            f"{what} {shown} is not a number: {exc} (numbers such as 0.1, -2 or 1/3 only)"
        ) from None
    return value


class _Builder:
    """Walks a Python expression tree, building sympy objects from whitelisted nodes."""

    def __init__(self, names: dict, numbers_only: bool = False):
        self.names = names
        self.numbers_only = numbers_only
        self.src = ""

    # --- entry --------------------------------------------------------------------------

    def parse(self, text) -> sp.Expr:
        if not isinstance(text, str):
            raise _Refused(f"expected text, got {type(text).__name__}")
        text = text.strip()
        if not text:
            raise _Refused("expected a non-empty expression")
        if len(text) > MAX_LENGTH:
            raise _Refused(f"{len(text)} characters is too long (at most {MAX_LENGTH})")
        self.src = text.replace("^", "**")  # ^ is a power (strings are refused anyway)
        try:
            tree = ast.parse(self.src, mode="eval")
        except SyntaxError as exc:
            raise _Refused(f"invalid syntax ({exc.msg})") from None
        except (RecursionError, MemoryError):
            raise _Refused(f"nested deeper than {MAX_DEPTH} levels") from None
        except ValueError as exc:  # e.g. null bytes
            raise _Refused(f"invalid syntax ({exc})") from None
        self._check_size(tree.body)
        expr = self._build(tree.body, {}, 1)
        if not isinstance(expr, sp.Expr):
            raise _Refused("not a mathematical expression")
        if expr.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
            raise _Refused("not a finite expression")
        return expr

    def _check_size(self, root) -> None:
        # a chain continues (no deeper level) into both sides of + and -, and into the left
        # side of * and / (the order those are built in)
        count, stack = 0, [(root, 0, False)]
        while stack:
            node, depth, continues = stack.pop()
            if not isinstance(node, ast.expr):
                continue
            count += 1
            if count > MAX_NODES:
                raise _Refused(f"more than {MAX_NODES} terms, names and operators")
            if not continues:
                depth += 1
            if depth > MAX_DEPTH:
                raise _Refused(f"nested deeper than {MAX_DEPTH} levels")
            chain = _chain(node)
            for child in ast.iter_child_nodes(node):
                same = _chain(child) == chain and chain is not None
                if chain == "mul" and child is not getattr(node, "left", None):
                    same = False
                stack.append((child, depth, same))

    # --- nodes --------------------------------------------------------------------------

    def _build(self, node, scope: dict, sums: int):
        if isinstance(node, ast.Constant):
            return self._constant(node)
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.USub):
                return self._guard(-self._build(node.operand, scope, sums))
            if isinstance(node.op, ast.UAdd):
                return self._build(node.operand, scope, sums)
            raise _Refused(f"the operator {_op_text(node.op)} is not allowed; allowed: {_ALLOWED}")
        if isinstance(node, ast.BinOp):
            return self._binop(node, scope, sums)
        if self.numbers_only:
            if isinstance(node, ast.Name):
                raise _Refused("names are not allowed")
            raise _Refused(f"{_node_name(node)} cannot be used")
        if isinstance(node, ast.Name):
            return self._name(node.id, scope)
        if isinstance(node, ast.Call):
            return self._call(node, scope, sums)
        raise _Refused(f"{_node_name(node)} cannot be used; allowed: {_ALLOWED}")

    def _constant(self, node):
        value = node.value
        if isinstance(value, bool) or value is None or value is Ellipsis:
            raise _Refused(f"{value!r} is not allowed; allowed: {_ALLOWED}")
        if isinstance(value, (str, bytes)):
            raise _Refused(f"strings are not allowed; allowed: {_ALLOWED}")
        if isinstance(value, complex):
            raise _Refused("complex literals are not allowed")
        if isinstance(value, int):
            if value.bit_length() > _MAX_BITS:
                raise _Refused(f"the integer has more than {MAX_DIGITS} digits")
            return sp.Integer(value)
        if isinstance(value, float):
            segment = ast.get_source_segment(self.src, node) or repr(value)
            try:
                dec = Decimal(segment.replace("_", ""))
            except InvalidOperation:
                raise _Refused(f"cannot read the number {segment!r}") from None
            if not dec.is_finite():
                raise _Refused("not a finite expression")
            digits = len(dec.as_tuple().digits)
            if digits > MAX_DIGITS or abs(dec.adjusted()) > MAX_DIGITS:
                raise _Refused(f"the number {segment[:20]!r} has more than {MAX_DIGITS} digits")
            frac = Fraction(dec)
            return self._guard(sp.Rational(frac.numerator, frac.denominator))
        raise _Refused(f"{type(value).__name__} literals are not allowed")

    def _binop(self, node, scope, sums):
        chain = _chain(node)
        if chain is None:
            if isinstance(node.op, ast.Pow):
                if self.numbers_only:
                    raise _Refused("powers are not allowed")
                base = self._build(node.left, scope, sums)
                exp = self._build(node.right, scope, sums)
                return self._pow(base, exp)
            raise _Refused(f"the operator {_op_text(node.op)} is not allowed; allowed: {_ALLOWED}")
        if chain == "mul":
            return self._product(node, scope, sums)
        # a chain of + and -, parentheses included, in one sympy call and no recursion
        # (Add is associative in sympy: the result is the one pairwise addition gives)
        if self.numbers_only:
            raise _Refused("sums are not allowed")
        items, stack = [], [(node, False)]
        while stack:
            cur, flipped = stack.pop()
            if isinstance(cur, ast.BinOp) and _chain(cur) == "add":
                stack.append((cur.right, flipped != isinstance(cur.op, ast.Sub)))
                stack.append((cur.left, flipped))
            else:
                items.append((cur, flipped))
        parts = []
        for cur, flipped in items:
            value = self._build(cur, scope, sums)
            parts.append(self._guard(-value) if flipped else value)
        return self._guard(sp.Add(*parts))

    def _product(self, node, scope, sums):
        """a * b / c * ...: along the left spine, pairwise in Python's order (a number times
        a sum distributes in sympy, so the grouping matters and must be the written one)."""
        spine = []
        while isinstance(node, ast.BinOp) and _chain(node) == "mul":
            spine.append(node)
            node = node.left
        out = self._build(node, scope, sums)
        for cur in reversed(spine):
            right = self._build(cur.right, scope, sums)
            if isinstance(cur.op, ast.Div):
                right = self._pow(right, sp.Integer(-1))
            out = self._guard(sp.Mul(out, right))
        return out

    def _pow(self, base, exp):
        if exp.is_Rational:
            if abs(exp) > MAX_EXPONENT:
                raise _Refused(
                    f"numeric exponent {_short(exp)} is too large (|exponent| <= {MAX_EXPONENT})"
                )
            if base.is_Rational and base != 0:
                size = max(abs(base.p), base.q)
                if not exp.is_Integer and size.bit_length() > _ROOT_BITS:
                    raise _Refused(
                        f"a fractional power of a number of more than {MAX_ROOT_DIGITS} digits"
                    )
                if float(abs(exp)) * math.log10(size) > MAX_DIGITS + 1:
                    raise _Refused(f"the power would have more than {MAX_DIGITS} digits")
        return self._guard(sp.Pow(base, exp))

    def _guard(self, expr):
        """Refuse numbers and numeric exponents past the limits where sympy combined them."""
        for e in (expr, *expr.args):
            if e.is_Rational:
                if max(abs(e.p), e.q).bit_length() > _MAX_BITS:
                    raise _Refused(f"a number of more than {MAX_DIGITS} digits")
            elif e.is_Pow and e.exp.is_Rational and abs(e.exp) > MAX_EXPONENT:
                raise _Refused(
                    f"numeric exponent {_short(e.exp)} is too large (|exponent| <= {MAX_EXPONENT})"
                )
        return expr

    def _name(self, name: str, scope: dict):
        if name.startswith("_"):
            raise _Refused("names starting with '_' are not allowed")
        if name in scope:
            return scope[name]
        if name in self.names:
            return self.names[name]
        if name in CONSTANTS:
            return CONSTANTS[name]
        if name in _NON_FINITE:
            raise _Refused("not a finite expression")
        if name in FUNCTIONS:
            raise _Refused(f"the function {name!r} must be called, as in {name}(z)")
        known = sorted(set(self.names) | set(scope) | set(CONSTANTS))
        hint = difflib.get_close_matches(name, known, n=1)
        tip = f" (did you mean {hint[0]!r}?)" if hint else ""
        raise _Refused(f"unknown symbol {name!r}{tip}; allowed symbols: {', '.join(known)}")

    def _call(self, node, scope, sums):
        if not isinstance(node.func, ast.Name):
            raise _Refused(f"only the known functions may be called; allowed: {_ALLOWED}")
        name = node.func.id
        if name.startswith("_"):
            raise _Refused("names starting with '_' are not allowed")
        if name not in FUNCTIONS:
            hint = difflib.get_close_matches(name, list(FUNCTIONS), n=1)
            tip = f" (did you mean {hint[0]!r}?)" if hint else ""
            raise _Refused(
                f"unknown function {name!r}{tip}; allowed: {', '.join(sorted(FUNCTIONS))}"
            )
        if node.keywords:
            raise _Refused(f"keyword arguments are not allowed in {name}(...)")
        func, least, most = FUNCTIONS[name]
        if not least <= len(node.args) <= (most if most is not None else len(node.args)):
            want = f"{least} to {most}" if most is not None else f"{least} or more"
            want = str(least) if least == most else want
            raise _Refused(f"{name} takes {want} argument(s), got {len(node.args)}")
        if name == "Sum":
            return self._sum(node, scope, sums)
        args = [self._build(a, scope, sums) for a in node.args]
        if name == "sqrt":
            return self._pow(args[0], sp.Rational(1, 2))
        if name in ("polygamma", "digamma"):
            self._check_polygamma(args if name == "polygamma" else [sp.Integer(0), *args])
        try:
            return self._guard(func(*args))
        except Exception as exc:  # sympy raises many types for arguments it cannot take
            raise _Refused(f"{name}(...) is undefined here ({exc.__class__.__name__})") from None

    @staticmethod
    def _check_polygamma(args):
        m, x = args
        if m.is_number and not (m.is_Integer and 0 <= m <= MAX_POLYGAMMA_ORDER):
            raise _Refused(f"polygamma's order must be an integer 0 to {MAX_POLYGAMMA_ORDER}")
        if x.is_Rational and abs(x) > MAX_POLYGAMMA_ARGUMENT:
            raise _Refused(
                f"polygamma of a number beyond {MAX_POLYGAMMA_ARGUMENT} in magnitude "
                "(sympy would sum it exactly)"
            )

    def _sum(self, node, scope, sums):
        """Sum(f, (k, a, b), ...): bounds in the outer scope, f with k bound."""
        inner = dict(scope)
        limits = []
        for lim in node.args[1:]:
            triple = isinstance(lim, ast.Tuple) and len(lim.elts) == 3
            if not (triple and isinstance(lim.elts[0], ast.Name)):
                raise _Refused("the limits of Sum are written (k, lower, upper)")
            var = lim.elts[0].id
            if not _IDENT.fullmatch(var) or var in FUNCTIONS or var in CONSTANTS:
                raise _Refused(f"{var!r} cannot be a summation variable")
            if var in self.names:
                raise _Refused(f"the summation variable {var!r} is a model symbol; use k, m, ...")
            lo = self._build(lim.elts[1], inner, sums)
            hi = self._build(lim.elts[2], inner, sums)
            if lo.is_number and hi.is_number:
                try:
                    span = int(sp.floor(hi - lo)) + 1 if hi >= lo else 0
                except TypeError:
                    raise _Refused("the bounds of Sum must be real") from None
                sums *= max(span, 1)
                if sums > MAX_SUM_TERMS:
                    raise _Refused(f"a sum of more than {MAX_SUM_TERMS} terms")
            inner[var] = sp.Symbol(var)
            limits.append((inner[var], lo, hi))
        body = self._build(node.args[0], inner, sums)
        return sp.Sum(body, *limits)


def _chain(node):
    if isinstance(node, ast.BinOp):
        if isinstance(node.op, (ast.Add, ast.Sub)):
            return "add"
        if isinstance(node.op, (ast.Mult, ast.Div)):
            return "mul"
    return None


def _short(number) -> str:
    text = str(number)
    return text if len(text) <= 30 else f"{text[:12]}...({len(text)} digits)"


def _node_name(node) -> str:
    for cls, name in _NODE_NAMES.items():
        if isinstance(node, cls):
            return name
    return type(node).__name__


def _op_text(op) -> str:
    return {
        ast.FloorDiv: "//",
        ast.Mod: "%",
        ast.MatMult: "@",
        ast.LShift: "<<",
        ast.RShift: ">>",
        ast.BitOr: "|",
        ast.BitAnd: "&",
        ast.BitXor: "^",
        ast.Invert: "~",
        ast.Not: "not",
    }.get(type(op), type(op).__name__)
