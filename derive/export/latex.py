"""Export to LaTeX: an ``equation`` environment with the formula and its documentation.

Naming policy: ``sigma_w2`` -> ``\\sigma_w^2``, ``sigma_b2`` -> ``\\sigma_b^2``, ``q0`` ->
``q_0``, ``q11`` -> ``q_{11}``; N and T as they are.

>>> from nnqft.derive.export.base import export
>>> print(export("kernel/linear", "latex").splitlines()[-2])
  \\operatorname{kernel\\_linear}(q_{11}, q_{22}, q_{12}) = q_{12}
"""

from __future__ import annotations

import re

import sympy as sp
from sympy.printing.latex import LatexPrinter

from .base import Exporter

__all__ = ["LatexExporter", "NnqftLatexPrinter", "latex_symbol", "latex_expression", "EXPORTERS"]

_GREEK_SQUARED = re.compile(r"^(sigma|lambda|mu|nu|chi|xi|rho|tau)_([a-z])2$")


def latex_symbol(name: str) -> str:
    r"""LaTeX for one of nnqft's symbol names.

    >>> latex_symbol("sigma_w2"), latex_symbol("q12"), latex_symbol("N")
    ('\\sigma_w^2', 'q_{12}', 'N')
    """
    m = _GREEK_SQUARED.match(name)
    if m:
        return rf"\{m.group(1)}_{m.group(2)}^2"
    m = re.fullmatch(r"([A-Za-z]+)(\d+)", name)
    if m:
        return (
            f"{m.group(1)}_{{{m.group(2)}}}"
            if len(m.group(2)) > 1
            else f"{m.group(1)}_{m.group(2)}"
        )
    return sp.latex(sp.Symbol(name))


class NnqftLatexPrinter(LatexPrinter):
    """sympy's LaTeX printer with psi for digamma and polygamma."""

    def _print_polygamma(self, expr, exp=None):
        m, x = expr.args
        head = r"\psi" if m == 0 else rf"\psi^{{({self._print(m)})}}"
        out = rf"{head}\left({self._print(x)}\right)"
        return rf"{out}^{{{exp}}}" if exp else out


def latex_expression(expr: sp.Expr, symbol_names: dict | None = None) -> str:
    """LaTeX for ``expr`` under this module's naming policy.

    >>> from nnqft.rules.symbols import sigma_w2, N
    >>> print(latex_expression(sigma_w2 / N + sp.digamma(N)))
    \\psi\\left(N\\right) + \\frac{\\sigma_w^2}{N}
    """
    if symbol_names is None:
        symbol_names = {s: latex_symbol(s.name) for s in expr.free_symbols}
    return NnqftLatexPrinter({"symbol_names": symbol_names}).doprint(expr)


class LatexExporter(Exporter):
    """LaTeX target: the exact expression in an equation environment."""

    language = "latex"
    extension = "tex"
    exact = True
    default_settings = {"function_name": None}

    def symbol_name(self, name: str) -> str:
        return latex_symbol(name)

    def render(self, formula, prepared, names) -> str:
        fname = self.function_name(formula).replace("_", r"\_")
        symbol_names = {s: names[s] for s in formula.arguments}
        body = latex_expression(prepared.result, symbol_names)
        args = ", ".join(names[s] for s in formula.arguments)
        out = [f"% {line}" for line in self.doc_lines(formula, names)]
        out += [r"\begin{equation}", rf"  \operatorname{{{fname}}}({args}) = {body}"]
        out.append(r"\end{equation}")
        return "\n".join(out) + "\n"


EXPORTERS = {"latex": LatexExporter}
