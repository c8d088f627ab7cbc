"""Numerical edge cases: no silently wrong number, no traceback (issue 10 part 4)."""

import math

import numpy as np
import pytest

from nnqft.derive import meanfield
from nnqft.derive.finite_width.recursions import finite_width, universality_class
from nnqft.derive.gaussian import gaussian_tail
from nnqft.derive.loops import amplitudes as A
from nnqft.errors import InvalidParameter
from nnqft.rules.network import Network


def _net(act, sw, sb=0.0, q0=1.0, depth=8):
    return Network("feedforward", act, sigma_w2=sw, sigma_b2=sb, q0=q0, depth=depth)


# --- xi / correlation_lengths ---------------------------------------------------------------


@pytest.mark.parametrize("sw", [1.0, 1.5, 3.0])
def test_xi_without_fixed_point_is_null_with_reason(sw):
    r = A.correlation_lengths(Network(sigma_w2=sw, width=16, sigma_b2=1.0))
    assert r["xi_mean_field"] is None and r["q_star_recurrent"] is None
    assert r["q_star_recurrent_coefficients"] == {"0": None, "1": None}
    assert {"xi_mean_field", "q_star_recurrent"} <= set(r["reasons"])
    numbers = [v for v in r.values() if isinstance(v, float)]
    assert all(math.isfinite(v) for v in numbers)
    assert r["xi_typical"] is None or r["xi_typical"] > 0  # never a negative length


def test_xi_typical_null_where_perturbations_grow():
    r = A.correlation_lengths(Network(sigma_w2=1.5, width=16, sigma_b2=0.0))
    assert r["lyapunov_exponent"] > 0 and r["xi_typical"] is None
    assert "lyapunov_exponent > 0" in r["reasons"]["xi_typical"]
    below = A.correlation_lengths(
        Network(sigma_w2=1.03, width=16, sigma_b2=0.0)
    )  # 1 < sigma_w2 < sigma_w2_critical
    assert below["xi_typical"] > 0 and below["xi_mean_field"] is None


def test_xi_fluctuation_only_at_zero_bias():
    assert A.correlation_lengths(Network(sigma_w2=0.5, width=16, sigma_b2=0.0))[
        "xi_fluctuation"
    ] == pytest.approx(1 / math.log(1 + 2 / 16))
    r = A.correlation_lengths(Network(sigma_w2=0.5, width=16, sigma_b2=0.3))
    assert r["xi_fluctuation"] is None and "sigma_b2 = 0" in r["reasons"]["xi_fluctuation"]


def test_lyapunov_exponent_holds_with_bias_monte_carlo():
    """The exponent is that of the Jacobian W(T)...W(1): with sigma_b2 = 1 the difference of
    two nets' outputs (same weights and biases, inputs apart by d) obeys it, while the slope
    of E ln Q does not (Q settles to its stationary law)."""
    n, depth, samples, sw, sb = 4, 6, 40000, 0.5, 1.0
    rng = np.random.default_rng(7)
    x = rng.standard_normal(n)
    d = 1e-3 * rng.standard_normal(n)
    z1 = np.broadcast_to(x, (samples, n)).copy()
    z2 = z1 + d
    for _ in range(depth):
        W = rng.standard_normal((samples, n, n)) * math.sqrt(sw / n)
        b = rng.standard_normal((samples, n)) * math.sqrt(sb)
        z1 = np.einsum("sij,sj->si", W, z1) + b
        z2 = np.einsum("sij,sj->si", W, z2) + b
    logs = np.log(((z2 - z1) ** 2).sum(1) / (d**2).sum())
    slope = logs.mean() / (2 * depth)
    stderr = logs.std() / math.sqrt(samples) / (2 * depth)
    lyap = A.correlation_lengths(Network(sigma_w2=sw, width=n, sigma_b2=sb))["lyapunov_exponent"]
    assert abs(slope - lyap) < 4 * stderr


def test_q_star_recurrent_is_labelled_truncated():
    r = A.correlation_lengths(Network(sigma_w2=0.5, width=16, sigma_b2=1.0))
    assert r["q_star_recurrent_truncated_at"] == "1/N"
    assert "truncated after 1/N" in r["notes"]["q_star_recurrent"]


@pytest.mark.parametrize(
    "kw", [{"sigma_w2": math.nan}, {"sigma_w2": math.inf}, {"sigma_b2": -math.inf}]
)
def test_xi_refuses_non_finite(kw):
    args = {"sigma_w2": 0.5, "width": 8, "sigma_b2": 1.0} | kw
    with pytest.raises(InvalidParameter, match="finite|non-negative"):
        A.correlation_lengths(Network(**args))


# --- finite width ---------------------------------------------------------------------------


def test_gaussian_tail():
    assert gaussian_tail(lambda u: np.exp(2 * u**2), 0.25) == "diverges"
    assert gaussian_tail(lambda u: np.exp(2 * u**2), 0.1) is None
    assert gaussian_tail(lambda u: np.exp(2 * u), 40.0) == "unresolved"  # mass past 13 sd
    assert gaussian_tail(lambda u: np.exp(np.exp(u)), 1.0) == "overflows"
    assert gaussian_tail(lambda u: u**6, 1e30) is None


def test_finite_width_divergent_integral_is_named():
    with pytest.raises(InvalidParameter, match=r"E\[phi\(z\)\^2\] diverges for exp\(z\*\*2\)"):
        finite_width(_net("exp(z**2)", 1.0))


@pytest.mark.parametrize("act, sw", [("exp(z)", 5.0), ("z**3", 3.0)])
def test_finite_width_overflow_is_an_error(act, sw):
    with pytest.raises(InvalidParameter, match="overflow|range"):
        finite_width(_net(act, sw, depth=20))


def test_constant_activation_has_no_universality_class():
    with pytest.raises(InvalidParameter, match="constant"):
        universality_class("1")


# --- mft --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "act, sw", [("gelu", 4.0), ("swish", 4.0), ("softplus", 4.0), ("relu", 3.0), ("exp(z)", 5.0)]
)
def test_no_fixed_point_nulls_every_quantity_alike(act, sw):
    mf = meanfield.fixed_point(_net(act, sw))
    assert mf.q_star == math.inf and mf.phase == "unbounded"
    for key in ("c_star", "chi_1", "chi_c", "chi_parallel", "lyapunov_exponent", "xi_q", "xi_c"):
        assert math.isnan(getattr(mf, key)), key
        assert key in mf.reasons


def test_divergent_length_map_is_the_reason():
    mf = meanfield.fixed_point(_net("exp(z**2)", 0.1))
    assert mf.phase == "unbounded" and "diverges" in mf.reasons["q_star"]


def test_quadrature_error_is_estimated():
    far = meanfield.fixed_point(_net("swish", 1.99, 0.8))
    assert far.q_star == pytest.approx(113.8214, rel=1e-6)
    assert far.quadrature_error["xi_q"] > 1e-6  # graded rule vs 1.5x nodes: ~3e-5
    near = meanfield.fixed_point(_net("tanh", 1.5, 0.05))
    assert max(near.quadrature_error.values()) < 1e-12
    assert meanfield.fixed_point(_net("erf", 1.5, 0.05)).quadrature_error is None  # closed form


def test_phase_grid_marks_unbounded_points():
    from nnqft.derive.meanfield.phase import phase_diagram

    pd = phase_diagram("exp(z)", [0.1, 5.0], [0.0, 0.1], progress=False)
    assert set(pd.phase[:, 1]) == {"unbounded"} and np.isnan(pd.chi_1[:, 1]).all()
    assert set(pd.phase[:, 0]) == {"ordered"}
