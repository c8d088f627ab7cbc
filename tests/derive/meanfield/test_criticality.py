"""The edge of chaos against closed forms and a fixed-point iteration written here."""

import math

import numpy as np
import pytest

from nnqft.derive.meanfield import criticality as C
from nnqft.errors import InvalidParameter, InvalidType, NoExactForm, UnknownName

X, W = np.polynomial.hermite_e.hermegauss(300)
W = W / math.sqrt(2 * math.pi)


def _mean(f, q):
    return float(W @ f(math.sqrt(q) * X))


def test_erf_ends_at_pi_over_4():
    """At sigma_b2 = 0, q* = 0 and chi_1(0) = sigma_w2 (2/sqrt(pi))^2 = 1: sigma_w2 = pi/4."""
    cp = C.critical_point("erf", 0.0)
    assert cp.sigma_w2 == pytest.approx(math.pi / 4, rel=1e-15)
    assert cp.q_star == 0.0 and cp.chi_1 == pytest.approx(1.0, rel=1e-14)


def test_relu_is_critical_at_two_zero():
    for cp in (C.critical_point("relu", 0.0), C.critical_point("relu")):
        assert (cp.sigma_w2, cp.sigma_b2) == (2.0, 0.0)
        assert cp.chi_1 == pytest.approx(1.0)
        assert math.isnan(cp.q_star)  # every q is a fixed point at (2, 0)


def test_tanh_at_a_bias_by_iteration():
    """Iterate q -> sigma_w2 E tanh^2 + sigma_b2 at the returned sigma_w2; chi_1(q*) must be 1."""
    cp = C.critical_point("tanh", 0.05)
    q = 1.0
    for _ in range(200):
        q = cp.sigma_w2 * _mean(lambda u: np.tanh(u) ** 2, q) + 0.05
    assert q == pytest.approx(cp.q_star, rel=1e-9)
    assert cp.sigma_w2 * _mean(lambda u: np.cosh(u) ** -4, q) == pytest.approx(1.0, rel=1e-9)
    assert cp.chi_parallel < 1  # a stable fixed point


def test_erf_line_satisfies_both_closed_form_equations():
    """q = sigma_w2 (2/pi) asin(2q/(1+2q)) + sigma_b2 and sigma_w2 4/(pi sqrt(1+4q)) = 1."""
    sbs = [0.05, 0.3, 1.0]
    line = C.critical_line("erf", sbs)
    for sb, sw, q in zip(sbs, line.sigma_w2, line.q_star):
        assert q == pytest.approx(sw * 2 / math.pi * math.asin(2 * q / (1 + 2 * q)) + sb, rel=1e-10)
        assert sw * 4 / (math.pi * math.sqrt(1 + 4 * q)) == pytest.approx(1.0, rel=1e-10)
        assert C.critical_point("erf", sb).sigma_w2 == pytest.approx(sw, rel=1e-14)
    assert [r["sigma_b2"] for r in line.rows()] == sbs


def test_both_chis_one_for_tanh_is_the_end_of_the_line():
    cp = C.critical_point("tanh")
    assert (cp.sigma_w2, cp.sigma_b2, cp.q_star) == (pytest.approx(1.0), 0.0, 0.0)
    assert cp.as_dict()["condition"] == "chi_parallel = chi_1 = 1"


def test_bad_input():
    with pytest.raises(InvalidParameter, match=">= 0"):
        C.critical_point("erf", -0.1)
    with pytest.raises(InvalidType):
        C.critical_point("erf", "0.1")
    with pytest.raises(UnknownName):
        C.critical_point("tnah", 0.1)
    with pytest.raises(NoExactForm, match="no critical point of 'gelu'"):  # q* = 0 repels
        C.critical_point("gelu", 0.0)


def test_scale_invariant_with_bias_grows_without_bound():
    """linear: chi_1 = sigma_w2 = 1 for every q, and q -> q + sigma_b2 has no fixed point."""
    cp = C.critical_point("linear", 0.1)
    assert cp.sigma_w2 == 1.0 and math.isinf(cp.q_star)
