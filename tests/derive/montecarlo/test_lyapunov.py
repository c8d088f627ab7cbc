"""The largest Lyapunov exponent from two nearby replicas against (1/2) ln chi_1 and exact
finite-width results (docs/conventions.md §3, §5).  Fixed seeds; tolerances in standard errors."""

import math

import pytest
from scipy.special import digamma

from nnqft.derive.meanfield import fixed_point
from nnqft.derive.montecarlo.lyapunov import measure_lyapunov
from nnqft.errors import InvalidParameter, UnknownName
from nnqft.rules.network import Network

POINTS = [(1.5, 0.05), (4.0, 0.3)]  # tanh: ordered (chi_1 = 0.94) and chaotic (chi_1 = 1.26)


def assert_close_to_mean_field(m, k=3.0, relative=0.05):
    """Within k standard errors or ``relative`` of (1/2) ln chi_1, whichever is larger."""
    theory = fixed_point(m.network).lyapunov_exponent
    tol = max(k * m.stderr, relative * abs(theory))
    assert abs(m.exponent - theory) <= tol, (
        f"measured {m.exponent:.5f} +- {m.stderr:.5f}, (1/2) ln chi_1 = {theory:.5f}"
    )


@pytest.mark.parametrize("sampler", ["fast", "full"])
def test_linear_feedforward_exponent_is_exact_at_finite_width(sampler):
    """phi(z) = z: the separation obeys delta(t) = W(t) delta(t-1), so each layer stretches
    it by sqrt(sigma_w2 chi2_N / N): E = (1/2)[ln sigma_w2 + psi(N/2) - ln(N/2)], already
    distinguishable from (1/2) ln sigma_w2 at N = 50."""
    n, sw2 = 50, 1.7
    net = Network("feedforward", "linear", sw2, 0.2, width=n)
    samples, steps = (200, 200) if sampler == "fast" else (40, 100)
    m = measure_lyapunov(net, samples, steps=steps, burn_in=3, seed=4, sampler=sampler)
    assert m.sampler == sampler
    exact = 0.5 * (math.log(sw2) + digamma(n / 2) - math.log(n / 2))
    assert abs(m.exponent - exact) <= 4 * m.stderr
    if sampler == "fast":
        assert abs(m.exponent - 0.5 * math.log(sw2)) > 10 * m.stderr


@pytest.mark.parametrize(("sw2", "sb2"), POINTS)
def test_tanh_feedforward_matches_half_log_chi1(sw2, sb2):
    net = Network("feedforward", "tanh", sw2, sb2, width=1000)
    m = measure_lyapunov(net, 64, steps=400, burn_in=30, seed=31)
    assert m.sampler == "fast"
    assert_close_to_mean_field(m)


@pytest.mark.slow
@pytest.mark.parametrize(("sw2", "sb2"), POINTS)
def test_tanh_feedforward_full_matrices_match_half_log_chi1(sw2, sb2):
    net = Network("feedforward", "tanh", sw2, sb2, width=1000)
    m = measure_lyapunov(net, 4, steps=100, burn_in=20, seed=32, sampler="full")
    assert_close_to_mean_field(m)


def test_fast_replicas_agree_with_full_matrices():
    """The exact projection (W h, W dh) and real matrices give the same exponent (N = 200,
    where finite-width effects are large enough to be seen by both)."""
    net = Network("feedforward", "tanh", 2.0, 0.05, width=200)
    full = measure_lyapunov(net, 16, steps=150, burn_in=20, seed=41, sampler="full")
    fast = measure_lyapunov(net, 256, steps=150, burn_in=20, seed=42, sampler="fast")
    assert abs(full.exponent - fast.exponent) <= 4 * math.hypot(full.stderr, fast.stderr)


@pytest.mark.slow
@pytest.mark.parametrize(("sw2", "sb2"), POINTS)
def test_tanh_recurrent_fresh_bias_matches_half_log_chi1(sw2, sb2):
    net = Network("recurrent", "tanh", sw2, sb2, width=1000, bias="fresh")
    m = measure_lyapunov(net, 16, steps=200, burn_in=30, seed=51)
    assert m.sampler == "full"
    assert_close_to_mean_field(m)


@pytest.mark.slow
def test_tanh_recurrent_shared_bias_chaotic_matches_half_log_chi1():
    net = Network("recurrent", "tanh", 4.0, 0.3, width=1000, bias="shared")
    m = measure_lyapunov(net, 8, steps=300, burn_in=30, seed=52)
    assert_close_to_mean_field(m)


@pytest.mark.slow
def test_tanh_recurrent_shared_bias_ordered_over_a_network_depth():
    """Ordered phase, shared bias: the trajectory settles on a fixed point z*, and over very
    many steps the replicas align with the top eigenvector of W diag(phi'(z*)), whose modulus
    exceeds the mean-field sqrt(chi_1) by the finite-N edge fluctuation of the circular law
    (about -0.020 instead of -0.032 after 200 steps at N = 1000, see
    benchmarks/lyapunov_trend.py).  Over a depth of 20 layers the exponent is mean-field."""
    net = Network("recurrent", "tanh", 1.5, 0.05, width=1000, bias="shared")
    m = measure_lyapunov(net, 96, steps=20, burn_in=30, seed=53)
    assert_close_to_mean_field(m)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"samples": 0}, InvalidParameter),
        ({"steps": 0}, InvalidParameter),
        ({"burn_in": 0}, InvalidParameter),
        ({"epsilon": 0.5}, InvalidParameter),
        ({"sampler": "quick"}, UnknownName),
        ({"sampler": "fast", "arch": "recurrent"}, InvalidParameter),
    ],
)
def test_bad_input(kwargs, error):
    arch = kwargs.pop("arch", "feedforward")
    net = Network(arch, "tanh", 1.5, 0.05, width=10)
    with pytest.raises(error):
        measure_lyapunov(net, kwargs.pop("samples", 2), **kwargs)
