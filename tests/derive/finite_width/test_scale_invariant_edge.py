"""The finite-width exponent and edge of chaos in closed form (scale-invariant phi) against
the exact linear and ReLU exponents, the numeric route and real networks."""

import math

import numpy as np
import pytest
import sympy as sp
from scipy.special import digamma
from scipy.stats import binom

from nnqft.derive.finite_width.depth_scales import lyapunov_exponent
from nnqft.derive.finite_width.scale_invariant_edge import (
    scale_invariant_edge,
    tangent_moments_exact,
)
from nnqft.derive.formulas import get_formula
from nnqft.derive.montecarlo.lyapunov import measure_lyapunov
from nnqft.errors import InvalidParameter
from nnqft.rules import symbols as S
from nnqft.rules.network import Network


def test_linear_is_the_expansion_of_the_exact_exponent():
    # linear: 2 lambda = ln sigma_w2 + psi(N/2) - ln(N/2) exactly (a chi-square); its series
    # in 1/N, taken by sympy, against the closed form through 1/N
    x = sp.Symbol("x", positive=True)  # x = 1/N
    exact = (sp.log(S.sigma_w2) + sp.polygamma(0, 1 / (2 * x)) - sp.log(1 / (2 * x))) / 2
    series = sp.series(exact, x, 0, 2).removeO()
    edge = scale_invariant_edge("linear")
    assert sp.simplify(series - edge["lyapunov_exponent"].subs(S.N, 1 / x)) == 0
    # its root (N/2) exp(-psi(N/2)) = 1 + 1/N + O(1/N^2)
    log_root = sp.series(sp.log(1 / (2 * x)) - sp.polygamma(0, 1 / (2 * x)), x, 0, 3).removeO()
    root = sp.series(sp.exp(log_root), x, 0, 2).removeO()
    assert sp.expand(root - edge["sigma_w2_critical"].subs(S.N, 1 / x)) == 0


def test_relu_against_the_exact_binomial_exponent():
    # ReLU: 2 lambda = ln sigma_w2 - ln(N/2) + E_k psi(k/2), k ~ Bin(N, 1/2); its N (lambda -
    # lambda0) at N = 4000 is lambda1 + O(1/N) (the 1/N^2 term is -2.0/N^2, measured)
    n, s = 4000, 1.7
    k = np.arange(1, n + 1)
    exact = 0.5 * (math.log(s) - math.log(n / 2) + float(binom.pmf(k, n, 0.5) @ digamma(k / 2)))
    edge = scale_invariant_edge("relu")
    lam0 = float(edge["lambda0"].subs(S.sigma_w2, s))
    assert n * (exact - lam0) == pytest.approx(float(edge["lambda1"]), abs=1e-3)
    assert edge["s0"] == 2 and edge["s1"] == 5


@pytest.mark.parametrize("name", ["relu", "leaky_relu", "linear"])
def test_closed_form_equals_the_numeric_route(name):
    # the numeric route integrates the tangent moments on panels at the net's own variance
    edge = scale_invariant_edge(name)
    for s, sb, n in ((1.3, 0.0, 16), (2.4, 0.3, 100)):
        r = lyapunov_exponent(Network("feedforward", name, s, sb, width=n))
        lam0 = float(edge["lambda0"].subs(S.sigma_w2, s))
        assert lam0 == pytest.approx(r["mean_field"], abs=1e-12)
        assert float(edge["lambda1"]) == pytest.approx(r["coefficient_1"], rel=1e-10)


def test_leaky_relu_edge_against_real_networks():
    # at the mean-field edge s0 the measured exponent of width-N nets is lambda1/N + O(1/N^2);
    # the Richardson combination 2 [64 lambda(64)] - 32 lambda(32) of N = 32, 64 removes the
    # 1/N^2 term: it must equal lambda1 = -1.2498 within 3 standard errors (about 1 s)
    edge = scale_invariant_edge("leaky_relu")
    s0, lam1 = float(edge["s0"]), float(edge["lambda1"])
    m = {n: measure_lyapunov(Network("feedforward", "leaky_relu", s0, 0.2, width=n), 2000,
                             steps=100, burn_in=30, seed=3) for n in (32, 64)}  # fmt: skip
    value = 2 * 64 * m[64].exponent - 32 * m[32].exponent
    se = math.hypot(2 * 64 * m[64].stderr, 32 * m[32].stderr)
    assert abs(value - lam1) < 3 * se, (value, se, lam1)
    assert abs(value) > 10 * se  # mean field (lambda = 0 at s0) is excluded


def test_registered_formulas_export_and_check():
    f = get_formula("finite-width/sigma_w2-critical/relu")
    assert f.expression == 2 + 5 / S.N and f.arguments == (S.N,)
    g = get_formula("finite-width/lyapunov/leaky_relu")
    assert g.arguments == (S.sigma_w2, S.N)


def test_not_scale_invariant():
    with pytest.raises(InvalidParameter, match="not scale-invariant"):
        tangent_moments_exact("tanh")
