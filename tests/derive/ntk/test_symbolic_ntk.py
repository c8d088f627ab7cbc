"""The NTK as sympy expressions: per layer, and in closed form in the layer index.

Second routes: the closed forms in T against geometric sums derived by hand here (linear at
any sigma_b2; ReLU at sigma_b2 = 0, H(T) = lambda_W T q0 r^(T-1) + lambda_b (1 - r^T)/(1 - r),
r = sigma_w2/2) and against the numeric recursion of kernel.py at several T; the per-layer
expressions against the numbers at the same parameters (two inputs: relu's arc-cosine and
erf's arcsine kernels); the registered formula ids against the per-layer expressions.
"""

from __future__ import annotations

import pytest
import sympy as sp

from nnqft.derive.formulas import get_formula, list_formulas
from nnqft.derive.ntk.kernel import ntk_trajectory
from nnqft.derive.ntk.symbolic import ntk_closed_form, ntk_symbolic
from nnqft.errors import InvalidParameter, NoExactForm
from nnqft.rules import symbols as S
from nnqft.rules.network import Network

LB, LW = sp.symbols("lambda_b lambda_W", positive=True)
T, s, b, q0 = S.T, S.sigma_w2, S.sigma_b2, S.q0


def test_linear_closed_form_is_the_geometric_sum_by_hand():
    # K(m) = s^m q0 + b (1 - s^m)/(1 - s), K(0) = q0; H(T) = sum_m s^(T-1-m) (LB + LW K(m)):
    # sum_m s^(T-1-m) = (1 - s^T)/(1 - s), sum_m s^(T-1-m) s^m = T s^(T-1),
    # sum_m s^(T-1-m) (1 - s^m) = (1 - s^T)/(1 - s) - T s^(T-1)
    geometric = (1 - s**T) / (1 - s)
    by_hand = (
        LB * geometric
        + LW * q0 * T * s ** (T - 1)
        + LW * b / (1 - s) * (geometric - T * s ** (T - 1))
    )
    ours = ntk_closed_form("linear", lambda_b=LB, lambda_W=LW)
    for layer in (1, 2, 3, 7):
        assert sp.simplify((ours - by_hand).subs(T, layer)) == 0
    assert sp.simplify(sp.powsimp(sp.expand(ours - by_hand), force=True)) == 0


def test_relu_closed_form_at_zero_bias_variance():
    r = s / 2
    by_hand = LW * T * q0 * r ** (T - 1) + LB * (1 - r**T) / (1 - r)
    ours = ntk_closed_form("relu", lambda_b=LB, lambda_W=LW).subs(b, 0)
    assert sp.simplify(sp.powsimp(sp.expand(ours - by_hand), force=True)) == 0


@pytest.mark.parametrize("act", ["relu", "leaky_relu(0.2)", "linear"])
def test_closed_forms_against_the_numeric_recursion(act):
    cw, cb, x = 1.7, 0.3, 0.8
    net = Network("feedforward", act, cw, cb, q0=x)
    rows = ntk_trajectory(net, 9, lambda_b=0.6, lambda_W=1.4)
    form = ntk_closed_form(act, lambda_b=sp.Rational(3, 5), lambda_W=sp.Rational(7, 5))
    value = sp.lambdify(T, form.subs({s: sp.Rational(17, 10), b: sp.Rational(3, 10), q0: x}))
    for r in rows:
        assert float(value(r["layer"])) == pytest.approx(r["ntk"], rel=1e-12)


@pytest.mark.parametrize("act", ["relu", "erf", "sin"])
def test_per_layer_expressions_agree_with_the_numbers(act):
    cw, cb, x, c0 = 1.3, 0.2, 1.1, 0.4
    sym = ntk_symbolic(Network("feedforward", act, q0=S.q0), 3, c0=sp.Rational(2, 5))
    num = ntk_trajectory(Network("feedforward", act, cw, cb, q0=x), 3, c0=c0)
    at = {s: cw, b: cb, q0: x}
    for a, n in zip(sym, num):
        for i, j in ((0, 0), (0, 1)):
            assert float(a["ntk"][i, j].subs(at)) == pytest.approx(n["ntk"][i][j], rel=1e-10)
            assert float(a["K"][i, j].subs(at)) == pytest.approx(n["K"][i][j], rel=1e-10)


def test_single_input_per_layer_with_symbolic_learning_rates():
    rows = ntk_symbolic(
        Network("feedforward", "relu", sigma_b2=0, q0=q0), 3, lambda_b=LB, lambda_W=LW
    )
    assert sp.expand(rows[1]["ntk"] - (LB + LW * s * q0 / 2 + s / 2 * (LB + LW * q0))) == 0
    assert rows[0]["chi_perp"] == s / 2


@pytest.mark.parametrize("act", ["linear", "relu", "leaky_relu"])
def test_formula_ids_are_the_per_layer_expressions(act):
    fid = f"ntk-feedforward-{act}/infinite-width"
    assert fid in list_formulas()
    f = get_formula(fid)
    assert [a.name for a in f.arguments] == ["sigma_w2", "sigma_b2", "q0", "T"]
    rows = ntk_symbolic(Network("feedforward", act, q0=q0), 3)
    for r in rows:
        assert sp.simplify(f.expression.subs(T, r["layer"]) - r["ntk"]) == 0


def test_no_closed_form_is_refused():
    with pytest.raises(NoExactForm):
        ntk_symbolic(Network("feedforward", "tanh"), 2)
    with pytest.raises(InvalidParameter, match="scale-invariant"):
        ntk_closed_form("erf")
    with pytest.raises(InvalidParameter):
        ntk_symbolic(Network("feedforward", "relu"), 2, c0=2)


@pytest.mark.slow  # an export measures its accuracy at the removable points (~10 s per id)
@pytest.mark.parametrize(
    "act, cw",
    [("relu", 2.0), ("relu", 2.0 + 1e-9), ("relu", 0.7), ("linear", 1.0), ("leaky_relu", 1.3)],
)
def test_exported_code_evaluates_to_the_recursion(act, cw):
    """The numpy export of each id, at and next to the removable pole C_W <phi'^2> = 1."""
    from nnqft.derive.export.base import export

    namespace: dict = {}
    exec(export(f"ntk-feedforward-{act}/infinite-width", "numpy", function_name="H"), namespace)
    rows = ntk_trajectory(Network("feedforward", act, cw, 0.3, q0=0.8), 8)
    for r in rows:
        got = float(namespace["H"](cw, 0.3, 0.8, r["layer"]))
        assert got == pytest.approx(r["ntk"], rel=1e-9)
