"""The edge of chaos at finite width: exact ReLU and linear critical points, and the zero of
the Lyapunov exponent of real random networks (docs/conventions.md §9)."""

import math

import numpy as np
import pytest
from scipy.special import digamma
from scipy.stats import binom

from nnqft.derive.finite_width.critical_line import finite_width_critical_line
from nnqft.derive.montecarlo.lyapunov import measure_lyapunov
from nnqft.errors import InvalidParameter
from nnqft.rules.network import Network


def test_relu_against_the_exact_binomial_critical_point():
    # ReLU: 2 lambda = ln s - ln(N/2) + E_k psi(k/2), k ~ Bin(N, 1/2), exactly, so the exact
    # edge is s_c(N) = (N/2) exp(-E_k psi(k/2)); N (s_c(N) - 2) -> s1 as N grows, for every
    # sigma_b2 (the exponent of a scale-invariant net does not depend on q*)
    n = 4000
    k = np.arange(1, n + 1)
    exact = (n / 2) * math.exp(-float(binom.pmf(k, n, 0.5) @ digamma(k / 2)))
    line = finite_width_critical_line("relu", [0.0, 0.3], n)
    assert line.mean_field == pytest.approx([2.0, 2.0], rel=1e-12)
    assert line.coefficient_1 == pytest.approx([n * (exact - 2)] * 2, abs=0.02)


def test_linear_against_the_exact_critical_point():
    # linear: the exponent is (1/2)[ln s - ln(N/2) + psi(N/2)] exactly, so the edge is
    # (N/2) exp(-psi(N/2)) = 1 + 1/N + O(1/N^2)
    n = 64
    line = finite_width_critical_line("linear", [0.0], n)
    exact = (n / 2) * math.exp(-digamma(n / 2))
    assert line.coefficient_1[0] == pytest.approx(1.0, abs=1e-6)
    assert abs(line.sigma_w2[0] - exact) < 2 / n**2


def _crossing(act, sb, n, a, b, samples, seed):
    """The sigma_w2 where the measured exponent of real width-n networks vanishes, by the
    secant through a and b (both O(1/N) from it), with its standard error."""
    ms = [measure_lyapunov(Network("feedforward", act, s, sb, width=n), samples, steps=100,
                           burn_in=30, seed=seed) for s in (a, b)]  # fmt: skip
    la, lb = (m.exponent for m in ms)
    root = b - lb * (b - a) / (lb - la)
    # linear propagation of the two exponents' standard errors
    da = lb * (b - a) / (lb - la) ** 2
    db = -(b - a) / (lb - la) + lb * (b - a) / (lb - la) ** 2
    return root, math.hypot(da * ms[0].stderr, db * ms[1].stderr)


@pytest.mark.parametrize("act, sb", [("tanh", 0.3), ("erf", 0.2)])
def test_zero_of_the_exponent_of_real_networks(act, sb):
    # the measured zero s(N) of the exponent at N = 32 and 64 (secant through the mean-field
    # edge s0 and the predicted s0 + s1/N); N (s(N) - s0) = s1 + O(1/N), so the Richardson
    # combination 2 [64 (s(64) - s0)] - 32 (s(32) - s0) must equal s1 within 3 standard
    # errors (measured: tanh 11.22 +- 0.53 vs 11.43, erf 7.50 +- 0.36 vs 7.67; the plain
    # N (s(N) - s0) at N = 32 is 13.7 and 9.1, so the 1/N^2 term is visible), and mean field
    # (s1 = 0) is excluded by > 20 standard errors; about 3 s each
    shift = {}
    for n in (32, 64):
        line = finite_width_critical_line(act, [sb], n)
        s0, s1 = float(line.mean_field[0]), float(line.coefficient_1[0])
        root, se = _crossing(act, sb, n, s0, float(line.sigma_w2[0]), 2000, seed=7)
        shift[n] = (n * (root - s0), n * se)
    value = 2 * shift[64][0] - shift[32][0]
    se = math.hypot(2 * shift[64][1], shift[32][1])
    assert abs(value - s1) < 3 * se, (value, se, s1)
    assert value > 5 * se


def test_nulls_and_errors():
    line = finite_width_critical_line("tanh", [0.0, 0.1], 32)
    assert math.isnan(line.sigma_w2[0]) and "q* = 0" in line.reasons[0]
    assert line.reasons[1] is None and line.reliable[1] is True
    rows = line.rows()
    assert rows[0]["sigma_w2"] is None and rows[1]["sigma_w2"] == pytest.approx(
        rows[1]["mean_field"] + rows[1]["coefficient_1"] / 32
    )
    for bad in (1, 2.5, True):
        with pytest.raises(InvalidParameter, match="width"):
            finite_width_critical_line("tanh", [0.1], bad)
    with pytest.raises(InvalidParameter, match="sigma_b2"):
        finite_width_critical_line("tanh", [-0.1], 32)
