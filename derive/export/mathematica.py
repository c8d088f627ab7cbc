"""Export to Mathematica (Wolfram Language): one ``SetDelayed`` definition per formula.

Naming policy: ``sigma_w2`` would be a *pattern* in Mathematica and ``N`` is a built-in
function, so every name is written in lower camel case (``sigmaW2``, ``sigmaB2``, ``q0``,
``n``, ``t``): lower-case initials never clash with a built-in.  The definition keeps the
exact expression (no temporaries, no floating-point rewrites): Mathematica simplifies and
evaluates it itself.  :func:`read_back` parses the output with sympy's Mathematica parser.

>>> from nnqft.derive.export.base import export
>>> print(export("kernel/sin", "mathematica").splitlines()[-1])
kernelSin[q11_, q22_, q12_] := Exp[-1/2*q11 - 1/2*q22]*Sinh[q12]
"""

from __future__ import annotations

import re

import sympy as sp
from sympy.printing.mathematica import MCodePrinter

from ...errors import ParseError
from .base import ExactExporter, Prepared, removable_points

__all__ = ["MathematicaExporter", "NnqftMathematicaPrinter", "read_back", "EXPORTERS"]


def camel(name: str) -> str:
    """``sigma_w2`` -> ``sigmaW2``, ``N`` -> ``n`` (lower camel case, letters and digits).

    >>> camel("sigma_w2"), camel("N"), camel("mft/length-map/erf")
    ('sigmaW2', 'n', 'mftLengthMapErf')
    """
    parts = [p for p in re.split(r"[^0-9A-Za-z]+", name) if p]
    if not parts:
        return "f"
    head = parts[0][0].lower() + parts[0][1:]
    return head + "".join(p[0].upper() + p[1:] for p in parts[1:])


class NnqftMathematicaPrinter(MCodePrinter):
    """MCodePrinter with Piecewise support."""

    def __init__(self, settings=None):
        super().__init__({"strict": True, **(settings or {})})

    def _print_Piecewise(self, expr):
        pairs = []
        default = "Indeterminate"
        for e, c in expr.args:
            if c == sp.true:
                default = self._print(e)
                break
            pairs.append(f"{{{self._print(e)}, {self._print(c)}}}")
        return f"Piecewise[{{{', '.join(pairs)}}}, {default}]"

    def _print_Limit(self, expr):
        e, x, x0, _ = expr.args
        return f"Limit[{self._print(e)}, {self._print(x)} -> {self._print(x0)}]"


class MathematicaExporter(ExactExporter):
    """Wolfram Language target: ``name[arg1_, ...] := expression`` (exact)."""

    language = "mathematica"
    extension = "wl"

    def symbol_name(self, name: str) -> str:
        return camel(name)

    def function_name(self, formula) -> str:
        return self.settings["function_name"] or camel(formula.id)

    printer_class = NnqftMathematicaPrinter
    comment = "(* {} *)"

    def prepare(self, formula) -> Prepared:
        """The exact expression; where it is 0/0 (:func:`removable_points`) a Piecewise
        whose branch at the point is Mathematica's ``Limit`` of the closed form there."""
        out = super().prepare(formula)
        points = removable_points(out.result, formula.arguments)
        if not points:
            return out
        x = sp.Symbol("nnqftX")  # the limit's own variable (no argument is named so)
        branches = [
            (sp.Limit(out.result.subs(p.variable, x), x, p.value), sp.Eq(p.variable, p.value))
            for p in points
        ]
        return Prepared((), sp.Piecewise(*branches, (out.result, True)), out.needs)

    def doc_lines(self, formula, names) -> list[str]:
        lines = super().doc_lines(formula, names)
        points = removable_points(_expand(formula), formula.arguments)
        if points:
            where = ", ".join(f"{names[p.variable]} == {p.value}" for p in points)
            lines.append(
                f"At {where} the closed form is 0/0 (removable): the definition takes "
                "Mathematica's Limit there; near it use exact or high-precision arguments."
            )
        return lines

    def opening(self, fname, args, formula, prepared, names) -> list[str]:
        return []  # exact: no temporaries, the definition is one line

    def closing(self, fname, args, code) -> list[str]:
        return [f"{fname}[{', '.join(f'{a}_' for a in args)}] := {code}"]


def _expand(formula) -> sp.Expr:
    return formula.expression.doit() if formula.expression.has(sp.Sum) else formula.expression


#: Wolfram names that sympy's parser leaves as undefined functions
_BACK = {"Erf": sp.erf, "PolyGamma": sp.polygamma, "Gamma": sp.gamma, "LogGamma": sp.loggamma}


def read_back(text: str, formula) -> sp.Expr:
    """The closed form in ``text`` (this module's output) as sympy, in nnqft's symbols.

    Parameters
    ----------
    text : str
        The Mathematica export of ``formula``.
    formula : Formula
        The formula it was exported from (for the argument names).

    Returns
    -------
    sympy.Expr
        The expression of the definition (its closed-form branch where the definition takes
        a Limit at a removable point).

    Raises
    ------
    ParseError
        For text without exactly one ``:=`` definition, or one sympy cannot parse.

    Examples
    --------
    >>> from nnqft.derive.formulas import get_formula
    >>> from nnqft.derive.export.base import export
    >>> f = get_formula("kernel/erf")
    >>> read_back(export(f, "mathematica"), f) == f.expression
    True
    """
    from sympy.parsing.mathematica import parse_mathematica

    lines = [ln for ln in text.splitlines() if ":=" in ln]
    if len(lines) != 1:
        raise ParseError("expected exactly one ':=' definition in the Mathematica text")
    rhs = lines[0].split(":=", 1)[1].strip()
    try:
        expr = parse_mathematica(rhs)
    except Exception as exc:
        raise ParseError(f"cannot parse Mathematica expression: {exc.__class__.__name__}") from None
    if getattr(expr.func, "__name__", "") == "Piecewise":  # Limit branches: the closed form
        expr = expr.args[-1][0] if isinstance(expr, sp.Piecewise) else expr.args[-1]
    back = {sp.Symbol(camel(s.name)): s for s in formula.arguments}
    expr = expr.xreplace(back)
    for name, func in _BACK.items():
        expr = expr.replace(sp.Function(name), func)
    return expr


EXPORTERS = {"mathematica": MathematicaExporter}
