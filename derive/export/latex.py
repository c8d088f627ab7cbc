r"""Export to LaTeX: an ``equation`` environment with the formula and its documentation.

The printing is nnqft's one printer, :func:`nnqft.derive.document.printer.latex` (the same
string as in documents and ``nnqft correlator --json``): ``sigma_w2`` -> ``\sigma_w^2``,
``sigma_b2`` -> ``\sigma_b^2``, ``q0`` -> ``q_0``, ``q11`` -> ``q_{11}``; N and T as they are.

>>> from nnqft.derive.export.base import export
>>> print(export("kernel/linear", "latex").splitlines()[-2])
  \operatorname{kernel\_linear}(q_{11}, q_{22}, q_{12}) = q_{12}
"""

from __future__ import annotations

import sympy as sp

from ..document.printer import latex, symbol_latex
from .base import Exporter

__all__ = ["LatexExporter", "latex_symbol", "latex_expression", "EXPORTERS"]


def latex_symbol(name: str) -> str:
    r"""LaTeX for one of nnqft's symbol names (the printer's policy).

    Parameters
    ----------
    name : str
        A symbol name of :mod:`nnqft.rules.symbols`.

    Returns
    -------
    str

    Examples
    --------
    >>> latex_symbol("sigma_w2"), latex_symbol("q12"), latex_symbol("N")
    ('\\sigma_w^2', 'q_{12}', 'N')
    """
    tex = symbol_latex(name)
    return tex if tex is not None else latex(sp.Symbol(name))


def latex_expression(expr: sp.Expr) -> str:
    r"""LaTeX for ``expr``: the printer's output.

    Parameters
    ----------
    expr : sympy.Expr
        Any expression.

    Returns
    -------
    str

    Examples
    --------
    >>> from nnqft.rules.symbols import sigma_w2, N
    >>> print(latex_expression(sigma_w2**2 / N + sp.digamma(N)))
    \psi\left(N\right) + \frac{\sigma_w^4}{N}
    """
    return latex(expr)


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
        body = latex_expression(prepared.result)
        args = ", ".join(names[s] for s in formula.arguments)
        out = [f"% {line}" for line in self.doc_lines(formula, names)]
        out += [r"\begin{equation}", rf"  \operatorname{{{fname}}}({args}) = {body}"]
        out.append(r"\end{equation}")
        return "\n".join(out) + "\n"


EXPORTERS = {"latex": LatexExporter}
