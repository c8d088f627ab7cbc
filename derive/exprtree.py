"""A data-tree codec for sympy expressions: stored expressions are data, never code.

:func:`to_tree` turns an expression into nested JSON-able lists, one list per node,
``[node type, args...]``; :func:`from_tree` rebuilds it node by node from a FIXED table of
sympy classes (with ``evaluate=False``, so the stored form comes back exactly: same
``args``, same ``srepr``).  Nothing is evaluated, imported or looked up by a name read from
the data: an unknown node type, a wrong shape or arity, a non-canonical number or a tree
over :data:`MAX_NODES` nodes or :data:`MAX_DEPTH` levels raises :class:`ExprTreeError`.

Leaves: ``["Integer", "-3"]``, ``["Rational", "1", "3"]``, ``["Float", mantissa, exponent,
precision]`` (the exact binary value: mantissa * 2**exponent, precision in bits),
``["Symbol", name, {assumption: bool}]`` (the model's symbols of :mod:`nnqft.rules.symbols`
come back as those very objects), constants such as ``["Pi"]``; an undefined function
applied to arguments is ``["Function", name, args...]``.

>>> import sympy as sp
>>> from nnqft.rules import symbols as S
>>> tree = to_tree(S.sigma_w2**S.T / 2)
>>> tree
['Mul', ['Rational', '1', '2'], ['Pow', ['Symbol', 'sigma_w2', {'positive': True}], \
['Symbol', 'T', {'integer': True, 'positive': True}]]]
>>> from_tree(tree) == S.sigma_w2**S.T / 2 and from_tree(tree).args[1].base is S.sigma_w2
True
>>> from_tree(["eval", "print(1)"])
Traceback (most recent call last):
...
nnqft.derive.exprtree.ExprTreeError: expression tree: unknown node type 'eval'
"""

from __future__ import annotations

import functools
import importlib
import math
import re
import sys

import sympy as sp
from sympy.core.function import AppliedUndef

from ..errors import ParseError

__all__ = ["ExprTreeError", "to_tree", "from_tree", "MAX_NODES", "MAX_DEPTH", "node_types"]

#: the most nodes / the deepest nesting a tree may have (derived values: < 10^5 and < 20)
MAX_NODES = 2_000_000
MAX_DEPTH = 200
#: longest integer literal (Python's own int <-> str limit) and name
_MAX_DIGITS = 4300
_MAX_NAME = 256

_INT = re.compile(r"-?(0|[1-9][0-9]*)\Z")


class ExprTreeError(ParseError):
    """A tree that is not the data form of an expression this codec knows."""


def _fail(msg: str):
    raise ExprTreeError(f"expression tree: {msg}")


# --- the fixed table ---------------------------------------------------------------------

# kinds: how a node is built from its (already built) arguments and what they must be
#   assoc: cls(*args, evaluate=False), >= 2 Expr args      expr: cls(*args, evaluate=False)
#   rel: cls(a, b, evaluate=False), 2 Expr args            bool: cls(*args, evaluate=False)
#   plain: cls(*args)                                      piecewise: pairs, evaluate=False
_SYMPY_FUNCTIONS = (
    "exp log sin cos tan cot sec csc sinh cosh tanh coth asin acos atan atan2 acot asinh "
    "acosh atanh erf erfc erfi erfinv erfcinv gamma loggamma lowergamma uppergamma beta "
    "polygamma digamma trigamma harmonic factorial factorial2 binomial RisingFactorial "
    "FallingFactorial Abs sign re im conjugate Max Min Heaviside DiracDelta KroneckerDelta "
    "floor ceiling frac Mod"
).split()

_CONSTANTS = {
    "Pi": sp.pi,
    "Exp1": sp.E,
    "ImaginaryUnit": sp.I,
    "Infinity": sp.oo,
    "NegativeInfinity": -sp.oo,
    "EulerGamma": sp.EulerGamma,
    "Catalan": sp.Catalan,
    "GoldenRatio": sp.GoldenRatio,
    "BooleanTrue": sp.true,
    "BooleanFalse": sp.false,
}


#: node types whose classes live in modules imported only when a tree needs them:
#: {node type: (module, attribute)}, fixed here (never read from the data)
_LAZY = {
    "expm1": ("sympy.codegen.cfunctions", "expm1"),
    "log1p": ("sympy.codegen.cfunctions", "log1p"),
    # nnqft's own Function subclasses: the averages of the action, the exporters' expm1
    "nnqft.GaussianMean": ("nnqft.rules.action.objects", "GaussianMean"),
    "nnqft.BivariateGaussianMean": ("nnqft.rules.action.objects", "BivariateGaussianMean"),
    "nnqft.PathIntegral": ("nnqft.rules.action.objects", "PathIntegral"),
    "nnqft.DisorderAverage": ("nnqft.rules.action.objects", "DisorderAverage"),
    "nnqft.Average": ("nnqft.rules.action.objects", "Average"),
    "nnqft.expm1": ("nnqft.derive.export.base", "expm1"),
}


@functools.lru_cache(maxsize=1)
def _table() -> dict:
    """{node type: (class, kind)}: the sympy classes a tree may name (see also _LAZY)."""
    table = {"Add": (sp.Add, "assoc"), "Mul": (sp.Mul, "assoc"), "Pow": (sp.Pow, "expr")}
    table.update({name: (getattr(sp, name), "expr") for name in _SYMPY_FUNCTIONS})
    for name in ("Eq", "Ne", "Lt", "Le", "Gt", "Ge"):
        cls = getattr(sp, name)
        table[cls.__name__] = (cls, "rel")  # Equality, Unequality, StrictLessThan, ...
    table.update({"And": (sp.And, "bool"), "Or": (sp.Or, "bool"), "Not": (sp.Not, "bool")})
    table.update(
        {
            "Tuple": (sp.Tuple, "plain"),
            "Lambda": (sp.Lambda, "plain"),
            "Sum": (sp.Sum, "plain"),
            "Product": (sp.Product, "plain"),
            "Derivative": (sp.Derivative, "derivative"),
            "Piecewise": (sp.Piecewise, "piecewise"),
            "ExprCondPair": (sp.functions.elementary.piecewise.ExprCondPair, "plain"),
        }
    )
    return table


@functools.cache
def _lazy_entry(kind: str):
    module, attr = _LAZY[kind]
    return getattr(importlib.import_module(module), attr), "expr"


def _entry(kind: str):
    entry = _table().get(kind)
    if entry is None and kind in _LAZY:
        entry = _lazy_entry(kind)
    return entry


@functools.lru_cache(maxsize=1)
def _names() -> dict:
    """{class: node type}, the inverse of :func:`_table`."""
    return {cls: name for name, (cls, _) in _table().items()}


def _name_of(cls):
    name = _names().get(cls)
    if name is None:
        # a class of _LAZY exists only once its (fixed) module has been imported
        for kind, (module, attr) in _LAZY.items():
            loaded = sys.modules.get(module)
            if loaded is not None and getattr(loaded, attr, None) is cls:
                return kind
    return name


def node_types() -> list[str]:
    """Every node type a tree may use (leaves, constants and the function table).

    Returns
    -------
    list of str
        The node names, sorted.

    Examples
    --------
    >>> "Add" in node_types() and "eval" not in node_types()
    True
    """
    leaves = ["Integer", "Rational", "Float", "Symbol", "Function"]
    return sorted(leaves + list(_CONSTANTS) + list(_table()) + list(_LAZY))


@functools.lru_cache(maxsize=1)
def _assumption_names() -> frozenset:
    from sympy.core.assumptions import _assume_defined

    return frozenset(_assume_defined)


@functools.lru_cache(maxsize=1)
def _model_symbols() -> dict:
    """{(name, assumptions): symbol} for the symbols of :mod:`nnqft.rules.symbols`."""
    from ..rules import symbols

    out = {}
    # the symbols are made on first read (PEP 562): read each, not only those made so far
    for value in [getattr(symbols, name) for name in symbols._ASSUMPTIONS]:
        if type(value) is sp.Symbol:
            out.setdefault(_symbol_key(value.name, value._assumptions_orig), value)
    return out


def _symbol_key(name: str, assumptions: dict):
    return name, frozenset(assumptions.items())


# --- encoding ----------------------------------------------------------------------------


def to_tree(expr) -> list:
    """The data tree of a sympy expression (nested lists of str, int, bool and dicts).

    Parameters
    ----------
    expr : sympy.Basic
        The expression to store.

    Returns
    -------
    list
        ``[node type, argument, ...]``, JSON-able.

    Raises
    ------
    ExprTreeError
        For a node outside the table (a Dummy, NaN, zoo, an unknown function class) or a
        tree over the size limits.

    Examples
    --------
    >>> to_tree(sp.Rational(2, 3))
    ['Rational', '2', '3']
    >>> to_tree(sp.nan)
    Traceback (most recent call last):
    ...
    nnqft.derive.exprtree.ExprTreeError: expression tree: cannot store a NaN node
    """
    if not isinstance(expr, sp.Basic):
        _fail(f"expected a sympy expression, got {type(expr).__name__}")
    count = [0]
    return _encode(expr, 0, count)


def _encode(e, depth: int, count: list) -> list:
    count[0] += 1
    if count[0] > MAX_NODES:
        _fail(f"more than {MAX_NODES} nodes")
    if depth > MAX_DEPTH:
        _fail(f"deeper than {MAX_DEPTH} levels")
    cls = type(e)
    if isinstance(e, sp.Integer):
        return ["Integer", str(int(e))]
    if isinstance(e, sp.Rational):
        return ["Rational", str(e.p), str(e.q)]
    if isinstance(e, sp.Float):
        _, man, exp, _ = e._mpf_
        sign = -1 if e._mpf_[0] else 1
        if man == 0 and exp != 0:
            _fail("cannot store a special Float")
        return ["Float", str(sign * man), int(exp), int(e._prec)]
    if cls is sp.Symbol:
        return ["Symbol", e.name, dict(sorted(e._assumptions_orig.items()))]
    if isinstance(e, AppliedUndef):
        name = e.func.__name__
        if e.func._kwargs or type(e.func) is not sp.core.function.UndefinedFunction:
            _fail(f"cannot store undefined function {name!r} with assumptions")
        _check_function_name(name)
        return ["Function", name, *(_encode(a, depth + 1, count) for a in e.args)]
    name = _name_of(cls)
    if name is None:
        for key, value in _CONSTANTS.items():
            if e is value:
                return [key]
        _fail(f"cannot store a {cls.__name__} node")
    return [name, *(_encode(a, depth + 1, count) for a in e.args)]


# --- decoding ----------------------------------------------------------------------------


def from_tree(tree) -> sp.Basic:
    """Rebuild the expression of a :func:`to_tree` tree, exactly (``evaluate=False``).

    Parameters
    ----------
    tree : list
        A tree as :func:`to_tree` writes it (for instance read back from JSON).

    Returns
    -------
    sympy.Basic
        The expression, node by node from the fixed table (nothing is evaluated or imported).

    Raises
    ------
    ExprTreeError
        For anything else: unknown node types, wrong shapes or arities, non-canonical
        numbers, trees over the size limits.

    Examples
    --------
    >>> from_tree(["Add", ["Integer", "1"], ["Symbol", "x", {}]])
    x + 1
    """
    return _Decoder().build(tree, 0)


class _Decoder:
    def __init__(self):
        self.nodes = 0
        self.symbols: dict = {}

    def build(self, t, depth: int):
        self.nodes += 1
        if self.nodes > MAX_NODES:
            _fail(f"more than {MAX_NODES} nodes")
        if depth > MAX_DEPTH:
            _fail(f"deeper than {MAX_DEPTH} levels")
        if type(t) is not list or not t or type(t[0]) is not str:
            _fail(f"a node must be a list [type, args...], got {_short(t)}")
        kind = t[0]
        leaf = _LEAVES.get(kind)
        if leaf is not None:
            return leaf(self, t, depth)
        if kind in _CONSTANTS:
            if len(t) != 1:
                _fail(f"constant {kind} takes no arguments")
            return _CONSTANTS[kind]
        entry = _entry(kind)
        if entry is None:
            _fail(f"unknown node type {_short(kind)}")
        cls, how = entry
        args = [self.build(a, depth + 1) for a in t[1:]]
        return _construct(kind, cls, how, args)

    def symbol(self, t, depth):
        if len(t) != 3 or type(t[1]) is not str or type(t[2]) is not dict:
            _fail("a Symbol node is ['Symbol', name, {assumption: bool}]")
        name, assumptions = t[1], t[2]
        if not 0 < len(name) <= _MAX_NAME:
            _fail("a symbol name must have 1 to 256 characters")
        for k, v in assumptions.items():
            if k not in _assumption_names() or type(v) is not bool:
                _fail(f"bad symbol assumption {_short(k)}: {_short(v)}")
        key = (name, tuple(sorted(assumptions.items())))
        sym = self.symbols.get(key)
        if sym is None:
            sym = _model_symbols().get(_symbol_key(name, assumptions))
            if sym is None:
                try:
                    sym = sp.Symbol(name, **assumptions)
                except Exception:
                    _fail(f"inconsistent assumptions for symbol {name!r}")
                if sym._assumptions_orig != assumptions:
                    _fail(f"non-canonical assumptions for symbol {name!r}")
            self.symbols[key] = sym
        return sym

    def integer(self, t, depth):
        if len(t) != 2:
            _fail("an Integer node is ['Integer', digits]")
        return sp.Integer(_int(t[1]))

    def rational(self, t, depth):
        if len(t) != 3:
            _fail("a Rational node is ['Rational', numerator, denominator]")
        p, q = _int(t[1]), _int(t[2])
        if q < 2 or math.gcd(p, q) != 1:
            _fail("a Rational must be in lowest terms with denominator > 1")
        return sp.Rational(p, q)

    def float(self, t, depth):
        if len(t) != 4 or type(t[2]) is not int or type(t[3]) is not int:
            _fail("a Float node is ['Float', mantissa, exponent, precision]")
        man, exp, prec = _int(t[1]), t[2], t[3]
        if not 1 <= prec <= 100_000 or abs(exp) > 10**7:
            _fail("Float precision or exponent out of range")
        if (man == 0 and exp != 0) or (man != 0 and man % 2 == 0):
            _fail("a Float's mantissa must be odd (normalised), or 0 with exponent 0")
        from mpmath.libmp import from_man_exp

        mpf = from_man_exp(man, exp)
        value = sp.Float._new(mpf, prec, zero=False)
        if value._mpf_ != mpf:
            _fail("a Float's mantissa has more bits than its precision")
        return value

    def function(self, t, depth):
        if len(t) < 2 or type(t[1]) is not str:
            _fail("a Function node is ['Function', name, args...]")
        _check_function_name(t[1])
        args = [self.build(a, depth + 1) for a in t[2:]]
        if not all(isinstance(a, sp.Expr) for a in args):
            _fail(f"function {t[1]!r} takes expressions")
        return _construct("Function", sp.Function(t[1]), "expr", args)


_LEAVES = {
    "Symbol": _Decoder.symbol,
    "Integer": _Decoder.integer,
    "Rational": _Decoder.rational,
    "Float": _Decoder.float,
    "Function": _Decoder.function,
}


def _construct(kind: str, cls, how: str, args: list):
    if how in ("assoc", "expr", "rel"):
        if not all(isinstance(a, sp.Expr) for a in args):
            _fail(f"{kind} takes expressions")
    if how == "assoc" and len(args) < 2:
        _fail(f"{kind} needs at least 2 arguments")
    if how == "rel" and len(args) != 2:
        _fail(f"{kind} takes 2 arguments")
    if how == "bool":
        if not all(isinstance(a, sp.logic.boolalg.Boolean) for a in args):
            _fail(f"{kind} takes conditions")
        if len(args) < (1 if cls is sp.Not else 2) or (cls is sp.Not and len(args) != 1):
            _fail(f"{kind}: wrong number of arguments")
    if how == "derivative" and not (
        len(args) >= 2
        and isinstance(args[0], sp.Expr)
        and all(isinstance(a, sp.Tuple) for a in args[1:])
    ):
        _fail("Derivative takes an expression and (variable, count) tuples")
    if how == "piecewise":
        pair = _table()["ExprCondPair"][0]
        if not args or not all(type(a) is pair for a in args):
            _fail("Piecewise takes (expression, condition) pairs")
    try:
        if how in ("plain",):
            obj = cls(*args)
        else:
            obj = cls(*args, evaluate=False)
    except ExprTreeError:
        raise
    except Exception as exc:  # sympy's constructors reject bad arguments in many ways
        _fail(f"bad arguments for {kind}: {exc.__class__.__name__}")
    if type(obj) is not cls or obj.args != tuple(args):
        _fail(f"{kind} node is not in its stored (canonical) form")
    return obj


def _int(s) -> int:
    if type(s) is not str or len(s) > _MAX_DIGITS or not _INT.match(s) or s == "-0":
        _fail(f"an integer must be a string of decimal digits, got {_short(s)}")
    return int(s)


def _check_function_name(name: str) -> None:
    if not (0 < len(name) <= _MAX_NAME and name.isidentifier()) or name.startswith("__"):
        _fail(f"bad function name {_short(name)}")


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
