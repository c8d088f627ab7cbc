"""Turning a caller's value into a sympy object without evaluating text as code.

sympy's ``sympify`` runs ``eval`` on strings (and on ``str()`` of objects it does not
know); :func:`to_sympy` sends strings to :func:`nnqft.rules.symbols.parse_expression` (the
expression parser with nnqft's symbols in scope) and converts everything else with
``sympify`` in its strict mode; containers (whose items sympy converts loosely) are
rejected.

>>> from nnqft.rules import symbols as S
>>> to_sympy(3), to_sympy("sigma_w2*q0") == S.sigma_w2 * S.q0
(3, True)
>>> to_sympy(object(), "q")
Traceback (most recent call last):
...
nnqft.errors.InvalidType: q must be a number, a sympy expression or a string, got object
"""

from __future__ import annotations

import numbers

import sympy as sp

from ..errors import InvalidType

__all__ = ["to_sympy"]


def to_sympy(value, what: str = "value") -> sp.Basic:
    """``value`` as a sympy object, without evaluating text as code.

    Parameters
    ----------
    value : sympy.Basic, int, float, fractions.Fraction or str
        Sympy objects are returned as they are, numbers converted, strings parsed by
        :func:`nnqft.rules.symbols.parse_expression` (the whitelist parser).
    what : str, optional
        What the value is, for the error message.

    Returns
    -------
    sympy.Basic

    Raises
    ------
    InvalidType
        For anything else (a list, None, an object).
    ParseError
        For a string the parser refuses.

    Examples
    --------
    >>> to_sympy("sigma_w2**2 + 1/2")
    sigma_w2**2 + 1/2
    >>> to_sympy([1, 2], "expression")
    Traceback (most recent call last):
    ...
    nnqft.errors.InvalidType: expression must be a number, a sympy expression or a string, got list
    """
    if isinstance(value, sp.Basic):
        return value
    if isinstance(value, str):
        from ..rules.symbols import parse_expression

        return parse_expression(value)
    # numbers only: sympify(strict=True) of a container converts its items non-strictly
    # (a dict's string keys are parsed as code)
    if isinstance(value, numbers.Number) and not isinstance(value, bool):
        try:
            out = sp.sympify(value, strict=True)  # safe: a number, never text
        except (sp.SympifyError, TypeError, ValueError):
            out = None
        if isinstance(out, sp.Basic):
            return out
    raise InvalidType(
        f"{what} must be a number, a sympy expression or a string, got {type(value).__name__}"
    )
