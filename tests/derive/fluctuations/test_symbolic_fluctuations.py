"""The symbolic fluctuation route (derive/fluctuations/symbolic.py) against second routes:
the numeric diagram pipeline (feedforward_correlators, T = 1..8, sigma_b2 > 0 too), the
PDLT recursion's scale_invariant_closed_form at sigma_b2 = 0 (symbolically), and the exact
finite-N variance of the linear net (linear-feedforward/variance, its 1/N coefficient)."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from nnqft.derive.finite_width.recursions import scale_invariant_closed_form
from nnqft.derive.fluctuations.feedforward import feedforward_correlators
from nnqft.derive.fluctuations.symbolic import fluctuation_closed_form, symbolic_layer_couplings
from nnqft.derive.formulas import get_formula, list_formulas
from nnqft.errors import InvalidParameter
from nnqft.rules import symbols as S
from nnqft.rules.network import Network

ACTS = ("linear", "relu", "leaky_relu")
POINTS = ((0.8, 0.3, 1.3), (1.7, 0.5, 0.7), (2.4, 0.0, 1.1), (1.2, 1.0, 0.4))


@pytest.mark.parametrize("act", ACTS)
def test_closed_form_equals_numeric_pipeline(act):
    cf = fluctuation_closed_form(act)
    f = {k: sp.lambdify((S.sigma_w2, S.sigma_b2, S.q0, S.T), cf[k]) for k in ("K0", "K1", "V")}
    for cw, cb, q0 in POINTS:
        rows = feedforward_correlators(Network("feedforward", act, cw, cb, q0=q0), 8)
        for r in rows:
            T = r["layer"]
            k0, v = f["K0"](cw, cb, q0, T), f["V"](cw, cb, q0, T)
            assert abs(k0 - r["mean"][0]) <= 1e-10 * max(1.0, abs(k0))
            assert abs(v - r["covariance"][0]) <= 1e-10 * max(1.0, abs(v))
            assert abs(f["K1"](cw, cb, q0, T) - r["mean"][1]) <= 1e-10 * max(1.0, abs(k0))


@pytest.mark.parametrize("act", ACTS)
def test_matches_recursion_closed_form_at_zero_bias(act):
    cf = fluctuation_closed_form(act)
    rec = scale_invariant_closed_form(act, S.T)
    # in r = chi (sigma_w2 = r/A2) every layer power is a power of r: simplify decides it
    r = sp.Symbol("r", positive=True)
    A2 = cf["chi"] / S.sigma_w2
    for key in ("K0", "V", "K1"):
        diff = (cf[key].subs(S.sigma_b2, 0) - rec[key]).subs(S.sigma_w2, r / A2)
        diff = sp.powsimp(sp.expand_power_base(sp.expand(diff), force=True), force=True)
        assert sp.simplify(diff) == 0, (act, key)


def test_linear_variance_matches_exact_finite_n():
    # Var Q(T) = V/N + 2 K0^2/N + O(1/N^2) (Q = |z|^2/N, z_i iid given the layer below)
    exact = get_formula("linear-feedforward/variance").expression
    cf = fluctuation_closed_form("linear")
    for cw, cb, q0 in ((sp.Rational(4, 5), sp.Rational(3, 10), sp.Rational(13, 10)),
                       (sp.Rational(17, 10), sp.Rational(1, 2), sp.Rational(7, 10))):  # fmt: skip
        for T in (1, 2, 3, 5):
            sub = {S.sigma_w2: cw, S.sigma_b2: cb, S.q0: q0, S.T: T}
            first = sp.limit(sp.cancel(S.N * exact.subs(sub)), S.N, sp.oo)
            mine = (cf["V"] + 2 * cf["K0"] ** 2).subs(sub)
            assert sp.simplify(first - mine) == 0


def test_couplings_and_errors():
    c = symbolic_layer_couplings("linear")
    assert c[(1, 1, 0)] == -1 and c[(1, 0, 1)] == S.sigma_w2
    with pytest.raises(InvalidParameter):
        symbolic_layer_couplings("tanh")


def test_leaky_relu_big_integers_compile_in_fortran(tmp_path):
    # its V carries integers such as 10004000600040001, beyond a default Fortran integer
    import shutil
    import subprocess

    from nnqft.derive.export.base import export

    assert fluctuation_closed_form("leaky_relu")["K1"] == 0
    src = export("fluctuations/V/leaky_relu", "fortran")
    assert "10004000600040001.0d0" in src
    if shutil.which("gfortran") is None:
        pytest.skip("gfortran is not installed")
    f = tmp_path / "v.f90"
    f.write_text(src)
    run = subprocess.run(["gfortran", "-std=f2008", "-c", str(f), "-o", str(tmp_path / "v.o")],
                         capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 0, run.stderr


@pytest.mark.parametrize("act", ACTS)
def test_formula_ids_export_and_evaluate(act):
    from click.testing import CliRunner

    from nnqft.cli import cli

    for what in ("K0", "K1", "V"):
        fid = f"fluctuations/{what}/{act}"
        assert fid in list_formulas()
        f = get_formula(fid)
        assert [a.name for a in f.arguments] == ["sigma_w2", "sigma_b2", "q0", "T"]
    fid = f"fluctuations/V/{act}"
    out = CliRunner().invoke(cli, ["export", fid, "--lang", "numpy"])
    assert out.exit_code == 0, out.output
    namespace: dict = {}
    exec(out.output, namespace)  # the generated module (test only)
    fn = next(v for k, v in namespace.items() if k.startswith("fluctuations_v_"))
    rows = feedforward_correlators(Network("feedforward", act, 0.8, 0.3, q0=1.3), 6)
    assert np.isclose(fn(0.8, 0.3, 1.3, 6.0), rows[-1]["covariance"][0], rtol=1e-10)
    c = CliRunner().invoke(cli, ["export", fid, "--lang", "c"])
    assert c.exit_code == 0 and "double fluctuations_v_" in c.output
    from nnqft.derive.check import check

    # the engine's form against an independent expression: V(1) = 0, V(2) = the noise of
    # layer 2, sigma_w2^2 Var(phi^2) at K0(1) (the tree line of one layer)
    assert check(sp.sstr(get_formula(fid).expression), fid).equivalent
    from nnqft.derive.gaussian import closed_form
    from nnqft.rules.activations import get_activation

    a = get_activation(act)
    m2, m4 = (closed_form(a, w, integrate=True) for w in ("phi^2", "phi^4"))
    K = S.sigma_b2 + S.sigma_w2 * S.q0
    noise = (S.sigma_w2**2 * (m4 - m2**2)).subs(S.q, K)
    expr = get_formula(fid).expression
    assert sp.simplify(expr.subs(S.T, 2) - noise) == 0
    assert sp.simplify(expr.subs(S.T, 1)) == 0


def test_check_rejects_the_zero_bias_form_at_positive_bias():
    from nnqft.derive.check import check

    # the sigma_b2 = 0 result of the recursion is not the formula for sigma_b2 > 0
    wrong = sp.sstr(scale_invariant_closed_form("relu", S.T)["V"])
    r = check(wrong, "fluctuations/V/relu")
    assert not r.equivalent and r.verdict.startswith("not equivalent")
