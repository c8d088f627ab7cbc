"""The exception hierarchy of nnqft.

Every user mistake raises a subclass of :class:`NnqftError`; the CLI turns it into one
line on stderr and exit code 2.  Messages name the bad value and what is allowed.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = [
    "NnqftError",
    "InvalidParameter",
    "InvalidType",
    "UnknownName",
    "UnknownActivation",
    "OrderTooHigh",
    "NoExactForm",
    "ParseError",
    "unknown_name",
]


class NnqftError(Exception):
    """Base class of every error nnqft raises for bad input."""


class InvalidParameter(NnqftError, ValueError):
    """A parameter has a value outside its allowed range (e.g. a negative variance)."""


class InvalidType(NnqftError, TypeError):
    """A parameter has the wrong type (e.g. a string where a number is needed)."""


class UnknownName(NnqftError, ValueError):
    """A name (architecture, model, formula id, language, ...) that nnqft does not know."""


class UnknownActivation(UnknownName):
    """An activation name that is not in the registry."""


class OrderTooHigh(NnqftError, ValueError):
    """A requested perturbative order beyond what the engine can reach."""


class NoExactForm(NnqftError, ValueError):
    """An exact (all orders in 1/N) form was requested where the engine has none."""


class ParseError(NnqftError, ValueError):
    """A user expression could not be parsed."""


def unknown_name(kind: str, name: str, known: Iterable[str], cls=UnknownName) -> UnknownName:
    """Build the error for an unknown ``name`` of some ``kind``, listing ``known`` names.

    >>> str(unknown_name("activation", "tnah", ["erf", "relu", "tanh"]))
    "unknown activation 'tnah'; known: erf, relu, tanh (did you mean 'tanh'?)"
    """
    known = sorted(known)
    msg = f"unknown {kind} {name!r}; known: {', '.join(known)}"
    close = difflib.get_close_matches(str(name), known, n=1)
    if close:
        msg += f" (did you mean {close[0]!r}?)"
    return cls(msg)
