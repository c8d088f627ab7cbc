"""The symbols nnqft's formulas are written in (docs/conventions.md §1).

``sigma_w2``, ``sigma_b2`` and ``q0`` are positive reals; ``N`` (width) and ``T`` (depth or
time) are positive integers.  They are built with :class:`sympy.Symbol` directly, never
through ``sympify("N")`` (which is sympy's numerical-evaluation function ``N``), and
:func:`parse_expression` parses user input with them in scope (safely: :mod:`.parse`).
"""

from __future__ import annotations

import sympy as sp

sigma_w2 = sp.Symbol("sigma_w2", positive=True)
sigma_b2 = sp.Symbol("sigma_b2", nonnegative=True)
q0 = sp.Symbol("q0", positive=True)
N = sp.Symbol("N", positive=True, integer=True)
T = sp.Symbol("T", positive=True, integer=True)
#: a pre-activation variable, the argument of every activation expression
z = sp.Symbol("z", real=True)
#: the entries of a 2x2 Gaussian covariance, the arguments of every kernel expression
q11 = sp.Symbol("q11", positive=True)
q22 = sp.Symbol("q22", positive=True)
q12 = sp.Symbol("q12", real=True)
#: a single variance (the diagonal q11 = q22 = q12 = q)
q = sp.Symbol("q", positive=True)

STANDARD = {s.name: s for s in (sigma_w2, sigma_b2, q0, N, T)}


def parse_expression(text: str, extra: dict | None = None) -> sp.Expr:
    """Parse ``text`` as a sympy expression in the standard symbols, never through ``eval``.

    Names such as ``N`` and ``T`` are nnqft's symbols, not sympy functions; ``extra`` adds
    names.  The whitelist and the cost limits are those of :mod:`nnqft.rules.parse`, which
    holds the implementation; anything else raises :class:`~nnqft.errors.ParseError`.

    >>> parse_expression("sigma_w2**T*q0 + N") - (sigma_w2**T*q0 + N)
    0
    """
    from .parse import parse_expression as parse

    return parse(text, extra)
