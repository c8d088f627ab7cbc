"""The symbols nnqft's formulas are written in (docs/conventions.md §1).

``sigma_w2``, ``sigma_b2`` and ``q0`` are positive reals; ``N`` (width) and ``T`` (depth or
time) are positive integers.  They are built with :class:`sympy.Symbol` directly, never
through ``sympify("N")`` (which is sympy's numerical-evaluation function ``N``), and
:func:`parse_expression` parses user input with them in scope (safely: :mod:`.parse`).

The symbols are made when first read (PEP 562 module ``__getattr__``), so that importing
this module, and the numeric commands that need none of them, do not import sympy:

>>> from nnqft.rules import symbols as S
>>> S.N.is_integer, S.q12.is_real
(True, True)
"""

from __future__ import annotations

import sys

#: name -> sympy assumptions of each standard symbol
_ASSUMPTIONS = {
    "sigma_w2": {"positive": True},
    "sigma_b2": {"nonnegative": True},
    "q0": {"positive": True},
    "N": {"positive": True, "integer": True},
    "T": {"positive": True, "integer": True},
    # a pre-activation variable, the argument of every activation expression
    "z": {"real": True},
    # the entries of a 2x2 Gaussian covariance, the arguments of every kernel expression
    "q11": {"positive": True},
    "q22": {"positive": True},
    "q12": {"real": True},
    # a single variance (the diagonal q11 = q22 = q12 = q)
    "q": {"positive": True},
}
#: the names parse_expression and the printers treat as nnqft's own
_STANDARD = ("sigma_w2", "sigma_b2", "q0", "N", "T")

__all__ = [*_ASSUMPTIONS, "STANDARD", "parse_expression", "is_sympy"]  # noqa: F822


def __getattr__(name: str):
    if name in _ASSUMPTIONS:
        import sympy as sp

        value = sp.Symbol(name, **_ASSUMPTIONS[name])
    elif name == "STANDARD":
        # read each symbol, never remake it: a second Symbol("N") is equal but not the
        # same object once sympy's cache has let the first one go
        value = {s: getattr(sys.modules[__name__], s) for s in _STANDARD}
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # made once: every later read is a plain attribute
    return value


def __dir__():
    return sorted(list(globals()) + list(_ASSUMPTIONS) + ["STANDARD"])


def is_sympy(obj) -> bool:
    """True when ``obj`` is a sympy object; never imports sympy (an object of a module that
    is not loaded cannot be one of its objects).

    >>> is_sympy(1.5), is_sympy(__getattr__("q"))
    (False, True)
    """
    sp = sys.modules.get("sympy")
    return sp is not None and isinstance(obj, sp.Basic)


def parse_expression(text: str, extra: dict | None = None):
    """Parse ``text`` as a sympy expression in the standard symbols, never through ``eval``.

    Names such as ``N`` and ``T`` are nnqft's symbols, not sympy functions; ``extra`` adds
    names.  The whitelist and the cost limits are those of :mod:`nnqft.rules.parse`, which
    holds the implementation; anything else raises :class:`~nnqft.errors.ParseError`.

    >>> from nnqft.rules.symbols import N, T, q0, sigma_w2
    >>> parse_expression("sigma_w2**T*q0 + N") - (sigma_w2**T*q0 + N)
    0
    """
    from .parse import parse_expression as parse

    return parse(text, extra)
