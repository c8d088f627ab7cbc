"""The expression-tree codec: every registered formula survives to_tree -> JSON ->
from_tree exactly (same srepr), and a tree is data: unknown nodes are refused."""

import json

import pytest
import sympy as sp

from nnqft.derive.exprtree import ExprTreeError, from_tree, node_types, to_tree
from nnqft.derive.formulas import get_formula, list_formulas
from nnqft.rules import symbols as S


@pytest.mark.parametrize(
    "fid",
    [
        pytest.param(f, marks=pytest.mark.slow) if f.startswith("linear-recurrent") else f
        for f in list_formulas()
    ],
)
def test_registry_round_trip_is_exact(fid):
    expr = get_formula(fid).expression
    back = from_tree(json.loads(json.dumps(to_tree(expr))))
    assert sp.srepr(back) == sp.srepr(expr)


def test_model_symbols_come_back_as_themselves():
    back = from_tree(to_tree(S.sigma_w2 * S.N))
    assert back.free_symbols == {S.sigma_w2, S.N} and back.has(S.N)
    assert from_tree(to_tree(sp.Float("0.1", 30))) == sp.Float("0.1", 30)


def test_trees_are_data():
    assert "Add" in node_types() and "Symbol" in node_types()
    for bad in (["Eval", "1"], ["Symbol"], ["Integer", "01"], {"Add": []}):
        with pytest.raises(ExprTreeError):
            from_tree(bad)
