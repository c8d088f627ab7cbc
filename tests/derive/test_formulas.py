"""The formula registry: every id builds, carries its metadata, and is right by a second route.

Second routes: Gauss-Hermite/polar quadrature for the MFT maps and kernels, the docs/conventions.md
§5 recursions and a chi-square integral for the feedforward observables, and exhaustive
Wick pairing (nnqft.derive.loops.linear.exact_mean) for the recurrent 1/N series.
"""

from __future__ import annotations

import importlib
import json
import math
import random

import numpy as np
import pytest
import sympy as sp
from conftest import reference_values

from nnqft.derive import formulas
from nnqft.derive import gaussian as G
from nnqft.derive.formulas import ARGUMENT_ORDER, get_formula, list_formulas, register_formula
from nnqft.errors import InvalidParameter, UnknownName
from nnqft.rules import activations as A
from nnqft.rules import symbols as S
from nnqft.rules.network import Network

REQUIRED = [
    "linear-feedforward/mean",
    "linear-feedforward/variance",
    "linear-feedforward/log-mean",
    "linear-recurrent-shared/mean",
    "linear-recurrent-fresh/mean",
] + [
    f"mft/{what}/{act}"
    for what in ("length-map", "chi1")
    for act in ("linear", "relu", "leaky_relu", "erf", "sin", "cos", "gelu")
]

REFERENCE = reference_values()


def test_required_ids_are_listed():
    ids = list_formulas()
    missing = [i for i in REQUIRED if i not in ids]
    assert not missing, missing
    assert ids == sorted(ids)


@pytest.mark.parametrize("fid", list_formulas())
def test_every_formula_has_complete_metadata(fid):
    f = get_formula(fid)
    assert f.id == fid
    assert f.expression.free_symbols <= set(f.arguments)
    names = [s.name for s in f.arguments]
    rank = [ARGUMENT_ORDER.index(n) for n in names if n in ARGUMENT_ORDER]
    assert rank == sorted(rank), names
    assert f.description and f.derivation
    assert importlib.import_module(f.source.rsplit(".", 1)[0] if "." in f.source else f.source)
    record = f.metadata()
    json.dumps(record)
    for arg in record["arguments"]:
        assert arg["assumptions"], arg
    if S.N in f.arguments:
        assert {"integer", "positive"} <= set(record["arguments"][names.index("N")]["assumptions"])


def test_unknown_id_suggests_the_nearest():
    with pytest.raises(UnknownName, match="did you mean 'mft/length-map/erf'"):
        get_formula("mft/lenght-map/erf")


def test_a_provider_whose_module_is_missing_is_not_listed():
    register_formula("test/missing", ".derive.no_such_module", lambda order=None: None)
    try:
        assert "test/missing" not in list_formulas()
        with pytest.raises(UnknownName):
            get_formula("test/missing")
    finally:
        del formulas._PROVIDERS["test/missing"]


def test_orders():
    f1 = get_formula("linear-recurrent-shared/mean", order=1)
    assert f1.order == 1 and f1.expression.subs(S.N, sp.oo) != sp.nan
    assert get_formula("linear-recurrent-shared/mean").order == 2
    with pytest.raises(InvalidParameter):
        get_formula("linear-recurrent-shared/mean", order=-1)
    # exact formulas ignore the order: truncation is check's business
    assert get_formula("linear-feedforward/variance", order=1).order is None


# --- second routes ---------------------------------------------------------------------------

CLOSED = [a for a in formulas._closed_form_activations()]


def _phi(name, k=0):
    return A.get_activation(name).numeric(k)


def _mean_square(name, q, k=0):
    act = A.get_activation(name)
    f = act.numeric(k)
    if act.kinks == (0,):
        return float(G.polar_gaussian_mean(lambda u: f(u) ** 2, lambda u: 1.0, q, q, q))
    return float(G.gaussian_mean(lambda u: f(u) ** 2, q, 201))


@pytest.mark.parametrize("act", CLOSED)
def test_length_map_and_chi1_against_quadrature(act):
    lm = get_formula(f"mft/length-map/{act}").expression
    chi = get_formula(f"mft/chi1/{act}").expression
    for sw, sb, q in [(1.5, 0.1, 0.7), (0.6, 0.0, 2.3), (2.2, 0.4, 0.05)]:
        subs = {S.sigma_w2: sw, S.sigma_b2: sb, S.q: q}
        want_lm = sw * _mean_square(act, q) + sb
        want_chi = sw * _mean_square(act, q, 1)
        assert math.isclose(float(lm.evalf(subs=subs)), want_lm, rel_tol=1e-9), (act, q)
        assert math.isclose(float(chi.evalf(subs=subs)), want_chi, rel_tol=1e-9), (act, q)


@pytest.mark.parametrize("act", CLOSED)
def test_kernels_against_quadrature(act):
    k0 = get_formula(f"kernel/{act}").expression
    k1 = get_formula(f"kernel-derivative/{act}").expression
    a = A.get_activation(act)
    for q11, q22, c in [(1.0, 2.0, 0.3), (0.4, 0.9, -0.7)]:
        q12 = c * math.sqrt(q11 * q22)
        subs = {S.q11: q11, S.q22: q22, S.q12: q12}
        for k, expr in ((0, k0), (1, k1)):
            f = a.numeric(k)
            if a.kinks == (0,):
                want = G.polar_gaussian_mean(f, f, q11, q22, q12)
            else:
                want = G.bivariate_gaussian_mean(f, f, q11, q22, q12, 121)
            assert math.isclose(float(expr.evalf(subs=subs)), float(want), rel_tol=1e-8), (act, k)


def _points(n, seed):
    rng = random.Random(seed)
    for _ in range(n):
        yield (
            rng.choice([0.5, 0.8, 1.3, 2.0]) + rng.uniform(-0.05, 0.05),
            rng.uniform(0.05, 1.0),
            rng.uniform(0.2, 3.0),
            rng.randint(2, 50),
            rng.randint(1, 12),
        )


def test_feedforward_mean_and_variance_against_the_recursions():
    mean = get_formula("linear-feedforward/mean").expression
    var = get_formula("linear-feedforward/variance").expression
    for s, b, q0, n, t in _points(8, 1):
        m, v = q0, 0.0
        for _ in range(t):  # docs/conventions.md §5: V(t) = (1+2/N) s^2 V(t-1) + (2/N) m(t)^2
            m = s * m + b
            v = (1 + 2 / n) * s**2 * v + 2 / n * m**2
        subs = {S.sigma_w2: s, S.sigma_b2: b, S.q0: q0, S.N: n, S.T: t}
        assert math.isclose(float(mean.evalf(30, subs=subs)), m, rel_tol=1e-11)
        assert math.isclose(float(var.evalf(30, subs=subs)), v, rel_tol=1e-10)


def test_feedforward_log_mean_against_the_chi_square_integral():
    from scipy import integrate, stats

    f = get_formula("linear-feedforward/log-mean")
    assert S.sigma_b2 not in f.expression.free_symbols and f.validity
    for s, _, q0, n, t in _points(4, 2):
        # E ln(chi2_n / n) by direct integration of the density
        dist = stats.chi2(n)
        e_log, _ = integrate.quad(
            lambda x, n=n, dist=dist: math.log(x / n) * dist.pdf(x), 0, np.inf, limit=200
        )
        want = math.log(q0) + t * (math.log(s) + e_log)
        got = float(f.expression.evalf(30, subs={S.sigma_w2: s, S.q0: q0, S.N: n, S.T: t}))
        assert math.isclose(got, want, rel_tol=1e-8, abs_tol=1e-10)


def _series(expr, order):
    eps = sp.Symbol("eps", positive=True)
    e = sp.expand(expr.subs(S.N, 1 / eps))
    return sp.expand(sp.series(e, eps, 0, order + 1).removeO().subs(eps, 1 / S.N))


@pytest.mark.parametrize("bias", ["shared", "fresh"])
def test_recurrent_mean_against_exhaustive_wick_pairing(bias):
    from nnqft.derive.loops.linear import exact_mean

    f = get_formula(f"linear-recurrent-{bias}/mean", order=2)
    for t in (1, 2, 3, 4):
        exact = _series(exact_mean(Network("recurrent", bias=bias, depth=t)), 2)
        ours = f.expression.subs(S.T, t)
        for s in (sp.Rational(1, 2), sp.Rational(7, 5)):
            d = (ours - exact).subs({S.sigma_w2: s, S.sigma_b2: sp.Rational(3, 10), S.q0: 2})
            assert sp.simplify(d) == 0, (bias, t, s)


def test_recurrent_shared_mean_reference_value_at_depth_3():
    ref = S.parse_expression(REFERENCE["linear_exact"]["recurrent_shared_bias_T3"]["formula"])
    f = get_formula("linear-recurrent-shared/mean", order=2)
    d = f.expression.subs(S.T, 3) - _series(ref, 2)
    subs = {S.sigma_w2: sp.Rational(3, 4), S.sigma_b2: sp.Rational(1, 5), S.q0: sp.Rational(3, 2)}
    assert sp.simplify(d.subs(subs)) == 0


@pytest.mark.parametrize("act", ["linear", "relu", "leaky_relu"])
def test_finite_width_closed_forms_against_the_recursion(act):
    from nnqft.derive.finite_width.recursions import finite_width_symbolic

    rows = finite_width_symbolic(Network("feedforward", act, sigma_b2=0, q0=S.q0), 4)
    k0 = get_formula(f"finite-width/K0/{act}").expression
    v = get_formula(f"finite-width/V/{act}").expression
    for layer, row in enumerate(rows, start=1):
        assert sp.simplify(k0.subs(S.T, layer) - row["K0"]) == 0, (act, layer)
        assert sp.simplify(v.subs(S.T, layer) - row["V"]) == 0, (act, layer)
