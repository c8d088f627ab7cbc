"""Derivations: the engine's saddle point equals derive/meanfield/'s maps, every equation of a
derivation is re-derived here from the engine, and the chapter registry works."""

import numpy as np
import pytest
import sympy as sp

from nnqft.algebra import normal_form
from nnqft.derive import meanfield
from nnqft.derive.document import derivation as D
from nnqft.derive.document import field_theory as FT
from nnqft.derive.meanfield.saddle import numeric_function_of, specialise
from nnqft.errors import InvalidParameter, InvalidType, UnknownName
from nnqft.rules import action as A
from nnqft.rules import symbols as S
from nnqft.rules.network import Network

ARCHS = [("feedforward", None), ("recurrent", "shared"), ("recurrent", "fresh")]
ACTIVATIONS = ["linear", "relu", "erf", "tanh"]  # closed forms, and tanh by quadrature


@pytest.fixture(scope="module")
def derived():
    out = {}
    for arch, bias in ARCHS:
        net = FT.network_for(arch, bias)
        out[arch, bias] = (A.saddle_point(net, replicas=2), A.distance_recursion(net))
    return out


@pytest.mark.parametrize("arch,bias", ARCHS)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_saddle_point_equals_mft_maps(derived, arch, bias, activation):
    """Lambdified saddle-point equations vs meanfield.length_map / correlation_map / chi_1 at
    random points (seeded); closed forms for linear, relu, erf, quadrature for tanh."""
    sp2, dr = derived[arch, bias]
    rng = np.random.default_rng(3)
    # closed forms agree to rounding; tanh is two quadratures: 1201 Gauss-Hermite nodes here
    # (201 nodes err by 4e-5 at q = 6: tanh's poles), mft picks its own node counts
    nodes, rtol = (1201, 1e-9) if activation == "tanh" else (None, 1e-12)
    L = numeric_function_of(sp2.maps["length"], (S.sigma_w2, S.sigma_b2, S.q), activation, nodes)
    F = numeric_function_of(
        sp2.maps["correlation"], (S.sigma_w2, S.sigma_b2, S.q11, S.q22, S.q12), activation, nodes
    )
    chi = numeric_function_of(dr.chi_1, (S.sigma_w2, A.q_star), activation, nodes)
    for _ in range(3):
        sw, sb = rng.uniform(0.5, 3.0), rng.uniform(0.0, 0.5)
        net = Network(arch, activation, sigma_w2=sw, sigma_b2=sb, bias=bias)
        q = rng.uniform(0.05, 4.0, 6)
        q11, q22 = rng.uniform(0.05, 4.0, 6), rng.uniform(0.05, 4.0, 6)
        q12 = rng.uniform(-0.95, 0.95, 6) * np.sqrt(q11 * q22)
        np.testing.assert_allclose(
            L(sw, sb, q), meanfield.length_map(net, q), rtol=rtol, atol=1e-14
        )
        np.testing.assert_allclose(
            F(sw, sb, q11, q22, q12),
            meanfield.correlation_map(net, q11, q22, q12),
            rtol=rtol,
            atol=1e-14,
        )
        np.testing.assert_allclose(chi(sw, q), meanfield.chi_1(net, q), rtol=rtol, atol=1e-14)


@pytest.mark.parametrize("activation", ["erf", "tanh", "sin"])
def test_derived_integrands_by_quadrature_match_mft(derived, activation):
    """A second route: integrate the engine's own integrands (not the activation's kernels)
    by Gauss-Hermite quadrature; erf and sin compare against mft's closed forms."""
    sp2, dr = derived["feedforward", None]
    args = (S.sigma_w2, S.sigma_b2, S.q11, S.q22, S.q12)
    F = numeric_function_of(sp2.maps["correlation"], args, activation, use_kernels=False)
    chi = numeric_function_of(dr.chi_1, (S.sigma_w2, A.q_star), activation, use_kernels=False)
    net = Network("feedforward", activation, sigma_w2=1.3, sigma_b2=0.2)
    q11, q22, q12 = np.array([0.4, 1.5]), np.array([0.9, 2.0]), np.array([0.3, -1.1])
    np.testing.assert_allclose(
        F(1.3, 0.2, q11, q22, q12), meanfield.correlation_map(net, q11, q22, q12), rtol=1e-8
    )
    np.testing.assert_allclose(chi(1.3, q11), meanfield.chi_1(net, q11), rtol=1e-8)


@pytest.mark.parametrize("activation", ["linear", "relu", "erf"])
def test_specialised_closed_forms_equal_mft_symbolic(derived, activation):
    sp2, dr = derived["feedforward", None]
    net = Network("feedforward", activation)
    assert (
        sp.simplify(specialise(sp2.maps["length"], activation) - meanfield.length_map(net, S.q))
        == 0
    )
    corr = specialise(sp2.maps["correlation"], activation)
    assert sp.simplify(corr - meanfield.correlation_map(net, S.q11, S.q22, S.q12)) == 0
    chi = specialise(dr.chi_1, activation).xreplace({A.q_star: S.q})
    assert sp.simplify(chi - meanfield.chi_1(net, S.q)) == 0


def test_critical_points_from_the_engine():
    """relu: sigma_w2 = 2; erf at sigma_b2 = 0: pi/4; linear 1; tanh at sigma_b2 = 0: 1."""
    from nnqft.rules.activations import get_activation

    got = {
        name: FT.activation_results(get_activation(name))["critical"].rhs
        for name in ("relu", "erf", "linear", "tanh")
    }
    assert got == {"relu": 2, "erf": sp.pi / 4, "linear": 1, "tanh": 1}
    # the critical erf point has chi_1 = 1 by mft at q* = 0
    net = Network("feedforward", "erf", sigma_w2=float(sp.pi / 4), sigma_b2=0.0)
    assert abs(float(meanfield.chi_1(net, 0.0)) - 1) < 1e-12


# --- each equation re-derived ----------------------------------------------------------


def _rederive(arch, bias):
    """What every step of field_theory() must contain, computed here from the engine."""
    net = FT.network_for(arch, bias)
    cf = A.collective_fields(net)
    sp1 = A.saddle_point(net)
    sp2 = A.saddle_point(net, replicas=2)
    dr = A.distance_recursion(net)
    return {
        "The MSRDJ action": [A.msrdj_action(net)],
        "The disorder-averaged action": [
            A.averaged_action(net, generic=True),
            A.averaged_action(net),
        ],
        "Collective fields": [cf.definition.rhs],
        "The single-neuron action": [cf.single_neuron],
        "The saddle point": [sp1.solution_q.rhs, sp1.solution_qt.rhs],
        "A Gaussian single-neuron process": [sp1.covariance.rhs, sp1.two_time.rhs],
        "The mean-field recursion": [sp1.maps["length"]],
        "Two replicas": [sp2.maps["correlation"]],
        "The linearised distance": [dr.chi_1],
        "The Lyapunov exponent": [dr.lyapunov.rhs],
        "The edge of chaos": [dr.critical, dr.ordered, dr.chaotic],
    }


def _equal(got, want) -> bool:
    if got == want:
        return True
    if not isinstance(got, sp.Expr) or not isinstance(want, sp.Expr) or got.has(A.PathIntegral):
        return False
    return normal_form(sp.expand(got - want)) == []


@pytest.mark.parametrize("arch,bias", ARCHS)
def test_every_step_holds_the_engine_results(arch, bias):
    d = FT.field_theory(arch, bias)
    assert [s.title for s in d][0] == "The network"
    by_title = {s.title: s for s in d}
    for title, expected in _rederive(arch, bias).items():
        shown = []
        for eq in by_title[title].equations:
            e = eq.expr
            shown.append(e)
            if isinstance(e, sp.Equality):
                shown.append(e.rhs)
        for want in expected:
            assert any(_equal(got, want) for got in shown), f"{title}: {want} not shown"


def test_every_equation_is_a_sympy_object_and_no_template_strings():
    d = FT.field_theory("feedforward", activation="tanh")
    for step in d:
        assert step.source.startswith("nnqft.")
        for eq in step.equations:
            assert isinstance(eq.expr, sp.Basic)


def test_activation_specialises_steps():
    plain = FT.field_theory("feedforward")
    relu = FT.field_theory("feedforward", activation="relu")
    assert len(relu.equations()) > len(plain.equations())
    assert any(e == sp.Eq(S.sigma_w2, 2) for e in relu.equations())


# --- the data model and the chapter registry ---------------------------------------------


def test_derivation_validates():
    with pytest.raises(InvalidType):
        D.Equation("q = 1")  # a string is not an engine object
    with pytest.raises(InvalidType):
        D.Derivation("x", ("not a step",))
    with pytest.raises(InvalidParameter):
        D.Step("", "prose")
    with pytest.raises(UnknownName):
        FT.field_theory("feedforward", steps=["saddle", "nonsense"])


def test_repr_latex_holds_every_equation():
    d = FT.field_theory("recurrent", "shared", steps=("model", "mft"))
    from nnqft.derive.document.latex import latex

    text = d._repr_latex_()
    assert text.startswith("$$") and text.endswith("$$")
    for e in d.equations():
        assert latex(e) in text


def test_chapter_registry_appends_and_orders():
    saved = list(D.CHAPTERS)
    try:
        extra = D.Derivation("Appendix", (D.Step("A", "B.", (sp.Eq(S.q, 1),)),))
        D.register_chapter("appendix", lambda activation=None: extra, after="field-theory")
        assert D.chapter_names()[:2] == ["field-theory", "appendix"]
        chapters = D.paper_chapters(only=["appendix"])
        assert chapters == [extra]
        with pytest.raises(UnknownName):
            D.register_chapter("x", lambda activation=None: extra, after="nope")
        with pytest.raises(InvalidParameter):
            D.register_chapter("y", "not-a-target")
        with pytest.raises(UnknownName):
            D.paper_chapters(only=["nope"])
    finally:
        D.CHAPTERS[:] = saved


def test_linearised_distance_matches_iterating_the_derived_map(derived):
    """Second route to chi_1: iterate the engine's own nonlinear correlation map for two
    nearby inputs at the fixed point and measure the per-layer growth of their distance;
    at (1.5, 0.05) the result is also the reference chi_1 of tests/reference/values.json."""
    sp2, dr = derived["feedforward", None]
    args = (S.sigma_w2, S.sigma_b2)
    L = numeric_function_of(sp2.maps["length"], (*args, S.q), "tanh")
    F = numeric_function_of(sp2.maps["correlation"], (*args, S.q11, S.q22, S.q12), "tanh")
    chi = numeric_function_of(dr.chi_1, (S.sigma_w2, A.q_star), "tanh")
    for sw, sb in [(1.5, 0.05), (3.0, 0.3)]:
        q = 1.0
        for _ in range(400):
            q = float(L(sw, sb, q))
        d = 1e-6
        q12 = q - d / 2
        for _ in range(3):
            q12 = float(F(sw, sb, q, q, q12))
        d_new = 2 * (q - q12)
        d_prev = 2 * (q - float(F(sw, sb, q, q, q - d / 2)))
        growth = (d_new / d_prev) ** 0.5  # two more steps after the first
        assert abs(growth - float(chi(sw, q))) < 1e-4
        if (sw, sb) == (1.5, 0.05):  # values.json "mft": tanh_sigma_w2_1.5_sigma_b2_0.05
            assert abs(float(chi(sw, q)) - 0.938636) < 1e-4
            assert abs(q - 0.418037) < 1e-4
