"""Closed forms from the diagrams against exact enumeration and the known structure."""

import pytest
import sympy as sp

from nnqft.derive.loops import amplitudes as A
from nnqft.derive.loops.linear import exact_mean, feedforward_mean, feedforward_variance
from nnqft.errors import InvalidParameter, InvalidType, NoExactForm, OrderTooHigh, UnknownName
from nnqft.rules.network import Network
from nnqft.rules.symbols import N, T, q0, sigma_b2, sigma_w2

eps = sp.Symbol("eps")


@pytest.fixture(autouse=True)
def _tmp_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("NNQFT_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


def _exact_coefficients(depth, bias):
    series = sp.expand(exact_mean(Network("recurrent", bias=bias, depth=depth)).subs(N, 1 / eps))
    return [series.coeff(eps, d) for d in range(A.MAX_RECURRENT_ORDER + 1)]


#: values of sigma_w2 with rational square roots (the closed forms hold sigma_w2^(T/2))
SQUARES = [sp.Rational(4, 9), sp.Rational(9, 16), sp.Rational(25, 9), sp.Integer(4)]


@pytest.mark.parametrize("bias", [pytest.param("shared", marks=pytest.mark.slow), "fresh"])
def test_closed_form_truncation_equals_exact_enumeration(bias):
    """E Q(T) through 1/N^2 from the diagrams = the brute-force polynomial, T = 1..5
    (exact rational arithmetic at four values of sigma_w2; q0, sigma_b2 symbolic)."""
    closed = A.recurrent_mean_coefficients(bias, A.MAX_RECURRENT_ORDER)
    for depth in range(1, 6):
        exact = _exact_coefficients(depth, bias)
        for d, value in enumerate(exact):
            for s in SQUARES:
                got = sp.expand(closed[d].subs(T, depth).subs(sigma_w2, s))
                assert got == sp.expand(value.subs(sigma_w2, s)), (bias, depth, d, s)


def test_cactus_resummation_is_mean_field():
    for bias in ("shared", "fresh"):
        leading = A.recurrent_mean_coefficients(bias, 0)[0]
        assert sp.simplify(leading - feedforward_mean()) == 0


def test_fresh_bias_has_no_first_order_term():
    assert A.recurrent_mean_coefficients("fresh", 1)[1] == 0
    assert A.recurrent_mean_coefficients("shared", 1)[1] != 0


@pytest.mark.slow
def test_shared_first_order_grows_like_T_cubed_at_criticality():
    crit = A.recurrent_mean_coefficients("shared", 2, critical=True)
    c1 = sp.expand(crit[1])
    assert sp.Poly(c1.subs((-1) ** T, 0), T).degree() == 3
    assert c1.coeff(T, 3) == sigma_b2 / 6
    # the sigma_w2 = 1 closed forms against exact enumeration at sigma_w2 = 1
    for depth in range(1, 6):
        exact = _exact_coefficients(depth, "shared")
        for d in range(3):
            assert sp.expand(crit[d].subs(T, depth) - exact[d].subs(sigma_w2, 1)) == 0


def test_stationary_value_first_order():
    c = A.recurrent_mean_coefficients("shared", 1)
    q_star = A.stationary_limit(c[0]) + A.stationary_limit(c[1]) / N
    expected = sigma_b2 / (1 - sigma_w2) + 2 * sigma_b2 / N * sigma_w2 / (1 - sigma_w2) ** 3
    assert sp.simplify(q_star - expected) == 0


def test_sum_closed_form_against_direct_sums():
    u, n = sp.Symbol("u", integer=True), sp.Symbol("n", integer=True)
    expr = (u**2 + 3) * sigma_w2 ** (2 * u) + u * sigma_w2 ** (-u) + 5
    closed = A.sum_closed_form(expr, u, 2, n + 3)
    for top in range(0, 6):
        direct = sum(expr.subs(u, k) for k in range(2, top + 4))
        assert sp.simplify(closed.subs(n, top) - direct) == 0


def test_feedforward_variance_series_equals_exact_series():
    coeffs = A.feedforward_variance_coefficients(3)
    at = {sigma_w2: sp.Rational(3, 7), sigma_b2: sp.Rational(1, 5), q0: sp.Rational(2, 3)}
    for depth in (1, 2, 4):
        exact = feedforward_variance(depth).subs(at).subs(N, 1 / eps)
        series = sp.expand(sp.series(exact, eps, 0, 4).removeO())
        for k in range(4):
            assert sp.simplify(series.coeff(eps, k) - coeffs[k].subs(T, depth).subs(at)) == 0


def test_variance_is_order_T_over_N():
    v1 = A.feedforward_variance_coefficients(1)[1].subs(sigma_b2, 0)
    assert sp.simplify(v1 - 2 * T * (q0 * sigma_w2**T) ** 2) == 0


def test_backends_agree():
    expr = (1 + 1 / N + sigma_w2) ** 4 * (q0 - sigma_b2 / N) ** 2
    assert sp.expand(A.expand(expr, "symengine") - A.expand(expr, "sympy")) == 0
    assert A.expand(expr, "symengine").free_symbols == expr.free_symbols


def test_correlator_api_and_cache(tmp_path, monkeypatch):
    """The second request is read from the cache: the derivation is not run again, no
    new entry is written, and what is read back equals what was derived."""
    monkeypatch.setenv("NNQFT_CACHE_DIR", str(tmp_path))
    calls = []
    derive = A._derive

    def spy(*args):
        calls.append(args)
        return derive(*args)

    monkeypatch.setattr(A, "_derive", spy)
    first = A.correlator(Network("recurrent", "linear", bias="shared"), "mean", order=1)
    assert len(calls) == 1
    entries = sorted(tmp_path.glob("**/*.json"))  # the correlator and its diagram ids
    assert entries
    again = A.correlator(Network("recurrent", "linear", bias="shared"), "mean", order=1)
    assert len(calls) == 1, "the cached correlator was derived again"
    assert again == first and sorted(tmp_path.glob("**/*.json")) == entries
    for entry in entries:  # without the entries the derivation runs again, to the same result
        entry.unlink()
    assert A.correlator(Network("recurrent", "linear", bias="shared"), "mean", order=1) == first
    assert len(calls) == 2
    assert sp.simplify(first.expression - (first.coefficients[0] + first.coefficients[1] / N)) == 0
    assert first.to_dict()["coefficients"].keys() == {"0", "1"}
    assert "Feynman rules" in first.derivation().to_latex()


def test_feedforward_correlators():
    exact = A.correlator(Network("feedforward", "linear"), "variance", exact=True)
    assert exact.exact and sp.simplify(exact.expression - feedforward_variance()) == 0
    log = A.correlator(Network("feedforward", "linear"), "log-mean", exact=True)
    assert log.coefficients[1] == -T and log.coefficients[2] == -T / 3
    order1 = A.correlator(Network("feedforward", "linear"), "log-mean", order=1).coefficients[1]
    assert sp.simplify(order1.subs(sigma_b2, 0) + T) == 0  # agrees with the exact form


def test_bad_requests():
    with pytest.raises(OrderTooHigh, match="maximum 3"):
        A.correlator(Network("recurrent", "linear"), "mean", order=4)
    with pytest.raises(NoExactForm):
        A.correlator(Network("recurrent", "linear"), "mean", exact=True)
    with pytest.raises(UnknownName):
        A.correlator(Network("convolutional", "linear"), "mean", order=1)
    with pytest.raises(UnknownName):
        A.correlator(Network("recurrent", "linear"), "median", order=1)
    with pytest.raises(UnknownName):
        A.correlator(Network("recurrent", "linear", bias="frozen"), "mean", order=1)
    with pytest.raises(InvalidParameter):
        A.correlator(Network("feedforward", "linear", bias="shared"), "mean", order=1)


def test_correlator_takes_a_linear_network():
    with pytest.raises(InvalidType, match="takes a Network"):
        A.correlator("recurrent", "mean", order=1)
    with pytest.raises(InvalidParameter, match="linear network only, got 'tanh'"):
        A.correlator(Network("recurrent", "tanh"), "mean", order=1)
    with pytest.raises(InvalidParameter, match="non-negative integer, got -1"):
        A.correlator(Network("recurrent", "linear"), "mean", order=-1)
    with pytest.raises(InvalidType, match="takes a Network"):
        A.correlation_lengths(0.5)
    with pytest.raises(InvalidParameter, match="linear network only"):
        A.correlation_lengths(Network("feedforward", "relu"))
    # the Network's own parameters do not change the (symbolic) result
    numeric = Network("recurrent", "linear", sigma_w2=0.5, width=4)
    assert A.correlator(numeric, "mean", order=1) == A.correlator(
        Network("recurrent", "linear"), "mean", order=1
    )


def test_correlation_lengths():
    r = A.correlation_lengths(Network(sigma_w2=0.5, width=16, sigma_b2=1.0))
    assert r["xi_mean_field"] == pytest.approx(1 / sp.log(2).evalf())
    assert r["q_star_recurrent"] == pytest.approx(2 + 8 / 16)
    # typical length ~ xi (1 - xi/N) for large N; shifted critical point ~ 1 + 1/N
    big = A.correlation_lengths(Network(sigma_w2=0.5, width=4000, sigma_b2=1.0))
    xi = 1 / float(sp.log(2))
    assert big["xi_typical"] == pytest.approx(xi * (1 - xi / 4000), rel=1e-6)
    assert big["sigma_w2_critical"] == pytest.approx(1 + 1 / 4000, rel=1e-6)
    symbolic = A.correlation_lengths()
    assert symbolic["xi_mean_field"] == -1 / sp.log(sigma_w2)


@pytest.mark.parametrize("bias", ["shared", "fresh"])
def test_recurrent_variance_first_order_equals_exact_enumeration(bias):
    from nnqft.derive.loops.linear import exact_variance

    v1 = A.recurrent_variance_coefficients(bias)[1]
    for depth in (1, 2, 3):
        series = sp.expand(
            exact_variance(Network("recurrent", bias=bias, depth=depth)).subs(N, 1 / eps)
        )
        assert series.coeff(eps, 0) == 0
        assert sp.simplify(v1.subs(T, depth) - series.coeff(eps, 1)) == 0


def test_fresh_recurrent_variance_equals_feedforward_at_first_order():
    fresh = A.recurrent_variance_coefficients("fresh")[1]
    assert sp.simplify(fresh - A.feedforward_variance_coefficients(1)[1]) == 0


def test_recurrent_log_mean_first_order():
    c = A.correlator(Network("recurrent", "linear", bias="shared"), "log-mean", order=1)
    # sigma_b2 = 0: E ln Q = ln(q0 s^T) - T/N (the same as the feedforward net at O(1/N))
    assert sp.simplify(c.coefficients[1].subs(sigma_b2, 0) + T) == 0


def test_loop_chapter_in_paper():
    from nnqft.derive.document.derivation import chapter_names, paper_chapters

    assert "loops" in chapter_names()
    chapters = paper_chapters(only=["loops"])
    assert [c.title.split(": ")[1] for c in chapters] == [
        "linear recurrent, shared bias network",
        "linear recurrent, shared bias network",
        "linear feedforward network",
    ]
    assert [c.title.split(": ")[0].split(" to ")[1] for c in chapters] == [
        "the mean of Q(T)",
        "the variance of Q(T)",
        "the variance of Q(T)",
    ]
    assert all(len(c.equations()) >= 2 for c in chapters)


@pytest.mark.slow
@pytest.mark.parametrize("bias", ["shared", "fresh"])
def test_mean_closed_form_beyond_enumeration_monte_carlo(bias):
    """T = 8 (beyond brute force): E Q through 1/N^2 against real recurrent nets at N = 64,
    where the omitted 1/N^3 term (about the size of the last kept one over N/8) is below
    the statistical error."""
    from nnqft.derive.montecarlo.simulate import simulate
    from nnqft.rules.network import Network

    net = Network("recurrent", "linear", 0.5, 0.3, width=64, depth=8, bias=bias, q0=1.2)
    row = simulate(net, 20000, seed=9, sampler="full").layers[-1]
    at = {sigma_w2: sp.Rational(1, 2), sigma_b2: sp.Rational(3, 10), q0: sp.Rational(6, 5)}
    coeffs = A.recurrent_mean_coefficients(bias, 2)
    terms = [float(coeffs[d].subs(at).subs(T, 8)) / 64**d for d in range(3)]
    assert abs(terms[2]) / 8 < row.mean_stderr  # truncation below the statistical error
    assert abs(row.mean - sum(terms)) < 4 * row.mean_stderr
