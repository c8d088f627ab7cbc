"""LaTeX export: the naming policy of the module docstring, and the equation it writes
against sympy's printer with the symbols renamed by that policy (two printers, one name
table)."""

import sympy as sp

from nnqft.derive.export.base import export
from nnqft.derive.export.latex import latex_expression, latex_symbol
from nnqft.derive.formulas import get_formula


def test_naming_policy():
    names = ["sigma_w2", "sigma_b2", "q0", "q11", "N", "T"]
    assert [latex_symbol(n) for n in names] == [
        r"\sigma_w^2",
        r"\sigma_b^2",
        "q_0",
        "q_{11}",
        "N",
        "T",
    ]


def test_equation_is_sympys_latex_under_the_policy():
    # formulas without powers of squared symbols, which the policy merges (sigma_w^{2T})
    for fid in ("mft/length-map/relu", "kernel/erf", "kernel/relu"):
        formula = get_formula(fid)
        names = {s: latex_symbol(s.name) for s in formula.expression.free_symbols}
        body = latex_expression(formula.expression)
        want = sp.latex(
            formula.expression, symbol_names=names, ln_notation=True, inv_trig_style="full"
        )
        assert body == want, fid
        assert body in export(formula, "latex")
