"""The recurrent net's exponent: mean field, and the reason it has no 1/N series, measured.

The reason (derive/finite_width/recurrent_lyapunov.py) makes two claims that are checked
here on real Gaussian matrices: a shared-W linear net's exponent is ln rho(W), and the
finite-N shift E ln rho(W) - (1/2) ln sigma_w2 is not c/N + d/N^2 + ...
"""

import math

import numpy as np
import pytest

from nnqft.derive.finite_width.recurrent_lyapunov import (
    CHAOTIC_REASON,
    NO_SERIES_REASON,
    recurrent_critical_weight,
    recurrent_lyapunov,
)
from nnqft.derive.meanfield.fixed_point import fixed_point
from nnqft.errors import InvalidParameter, InvalidType
from nnqft.rules.network import Network


def _log_radius(n: int, samples: int, rng) -> np.ndarray:
    """ln rho(G / sqrt(n)) of real Ginibre matrices."""
    return np.array(
        [np.log(np.abs(np.linalg.eigvals(rng.standard_normal((n, n)) / math.sqrt(n))).max())
         for _ in range(samples)]
    )


def test_linear_recurrent_exponent_is_the_log_spectral_radius():
    """Iterating a real shared-W linear net (bias drops out of the Jacobian): the growth per
    step of a perturbation over 3000 steps equals ln rho(W) of that W (to 2e-3: the gap to
    the next eigenvalue modulus sets the convergence), at N = 16, five networks."""
    rng = np.random.default_rng(3)
    n, steps, sigma_w2 = 16, 3000, 0.8
    for _ in range(5):
        w = rng.standard_normal((n, n)) * math.sqrt(sigma_w2 / n)
        d = rng.standard_normal(n)
        total = 0.0
        for _ in range(steps):
            d = w @ d
            norm = np.linalg.norm(d)
            total += math.log(norm)
            d /= norm
        assert total / steps == pytest.approx(np.log(np.abs(np.linalg.eigvals(w)).max()),
                                              abs=2e-3)


def test_the_finite_width_shift_is_not_a_one_over_n_series():
    """f(N) = N E ln rho(G/sqrt N) would tend to a constant if the shift were c/N + d/N^2:
    then f(256) - f(64) = (f(64) - f(16))/4 + O(1/N^2). Measured (300 matrices at 16 and 64,
    200 at 256): f = 0.97, 3.4, 9.5, so the second difference is ~3.6, about 8 standard
    errors above the series' 0 (the shift grows like sqrt(N ln N), Rider's edge law); the
    test asks for 3 standard errors, and for a shift far above the size of a 1/N term."""
    rng = np.random.default_rng(11)
    f, var = {}, {}
    for n, m in ((16, 300), (64, 300), (256, 200)):
        x = _log_radius(n, m, rng)
        f[n], var[n] = n * x.mean(), n * n * x.var(ddof=1) / m
    second = (f[256] - f[64]) - (f[64] - f[16])
    se = math.sqrt(var[256] + 4 * var[64] + var[16])
    assert second > 3 * se, (f, second, se)
    # at N = 256 the shift (~0.037) is 20x the feedforward exponent's 1/N term (-0.5/N)
    assert f[256] / 256 > 10 * 0.5 / 256


def test_mean_field_and_null_coefficient():
    lin = recurrent_lyapunov(Network("recurrent", "linear", 1.5, 0.1, width=32))
    assert lin["mean_field"] == pytest.approx(0.5 * math.log(1.5))
    assert lin["coefficient_1"] is None and lin["reason"] == NO_SERIES_REASON
    net = Network("recurrent", "tanh", 1.5, 0.05, width=64)
    r = recurrent_lyapunov(net)
    assert r["mean_field"] == pytest.approx(0.5 * math.log(fixed_point(net).chi_1), rel=1e-12)
    assert r["value_at_N"] is None and r["reason"] == NO_SERIES_REASON
    chaotic = recurrent_lyapunov(Network("recurrent", "tanh", 4.0, 0.05, width=64))
    assert chaotic["mean_field"] > 0 and chaotic["reason"] == CHAOTIC_REASON


def test_critical_weight_is_the_mean_field_edge():
    """chi_1 = 1 at the returned sigma_w2 (the mean-field edge at that sigma_b2)."""
    for act, sb in (("tanh", 0.05), ("erf", 0.3)):
        r = recurrent_critical_weight(Network("recurrent", act, 1.0, sb, width=64))
        edge = Network("recurrent", act, r["mean_field"], sb, width=64)
        assert fixed_point(edge).chi_1 == pytest.approx(1, abs=1e-8), act
        assert r["coefficient_1"] is None and r["reason"] == NO_SERIES_REASON
    # ReLU: <phi'^2> = 1/2 at every q, the edge is sigma_w2 = 2 (q* diverges there)
    relu = recurrent_critical_weight(Network("recurrent", "relu", 1.0, 0.1, width=64))
    assert relu["mean_field"] == pytest.approx(2)


def test_refusals():
    with pytest.raises(InvalidParameter, match="recurrent nets only"):
        recurrent_lyapunov(Network("feedforward", "tanh", 1.5, 0.05, width=64))
    with pytest.raises(InvalidType):
        recurrent_critical_weight("tanh")
