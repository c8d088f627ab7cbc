"""The feedforward fluctuation theory: its diagrams against the cumulant recursion (an
independent derivation of the same K1, V, K2, V1), the linear exact results and errors."""

import numpy as np
import pytest
import sympy as sp

from nnqft.derive.finite_width.recursions import finite_width
from nnqft.derive.fluctuations.feedforward import (
    feedforward_correlators,
    feedforward_theory,
    layer_action,
)
from nnqft.errors import InvalidParameter
from nnqft.rules.network import Network

# both phases: chi_1 < 1 and > 1 for each activation
CASES = [
    ("tanh", 1.0, 0.0),
    ("tanh", 0.8, 0.2),
    ("tanh", 2.5, 0.3),
    ("erf", 1.3, 0.1),
    ("erf", 0.6, 0.05),
    ("gelu", 1.8, 0.05),
    ("swish", 2.0, 0.2),
    ("relu", 2.0, 0.1),
    ("relu", 1.5, 0.0),
    ("sin", 1.5, 0.2),
    ("softplus", 0.9, 0.1),
    ("0.5*z + tanh(z)**2", 1.2, 0.1),
]


@pytest.mark.parametrize("act, cw, cb", CASES)
def test_one_over_n_equals_the_recursion(act, cw, cb):
    """K0, K1 (tadpole) and V (tree) per layer equal the recursion to 1e-9."""
    net = Network("feedforward", act, cw, cb, q0=1.0)
    rows = feedforward_correlators(net, 7)
    ref = finite_width(net, 7)
    for r, f in zip(rows, ref):
        scale = max(1.0, abs(f["K0"]))
        assert r["mean"][0] == pytest.approx(f["K0"], abs=1e-9 * scale)
        assert r["mean"][1] == pytest.approx(f["K1"], abs=1e-9 * scale)
        assert r["covariance"][0] == pytest.approx(f["V"], abs=1e-9 * scale**2)


@pytest.mark.parametrize(
    "act, cw, cb", [("tanh", 1.0, 0.0), ("erf", 1.3, 0.1), ("swish", 2.0, 0.2)]
)
def test_one_over_n_squared_equals_the_recursion(act, cw, cb):
    """K2 (the 1/N^2 mean: degree-5 tadpole, 3+4 and 3+3+3 diagrams) and V1 (the one-loop
    correlator) equal the recursion's next order."""
    net = Network("feedforward", act, cw, cb, q0=1.0)
    rows = feedforward_correlators(net, 6, order=2)
    ref = finite_width(net, 6, next_order=True)
    for r, f in zip(rows, ref):
        assert r["mean"][2] == pytest.approx(f["K2"], abs=1e-9 * max(1, abs(f["K2"])))
        assert r["covariance"][1] == pytest.approx(f["V1"], abs=1e-9 * max(1, abs(f["V1"])))


def test_linear_network_exact():
    """phi(z) = z: E Q = q(t) exactly (K1 = K2 = 0) and n Cov = V + V1/n with the exact
    V(t) = 2 sum_{s<t} sigma_w2^(2(t-s)) K0(s)^2 for sigma_b2 = 0 (K0 = sigma_w2^t q0)."""
    cw, q0 = 0.9, 1.7
    rows = feedforward_correlators(Network("feedforward", "linear", cw, 0.0, q0=q0), 5, order=2)
    for r in rows:
        t = r["layer"]
        assert r["mean"][0] == pytest.approx(cw**t * q0)
        assert abs(r["mean"][1]) < 1e-13 and abs(r["mean"][2]) < 1e-13
        V = sum(2 * cw ** (2 * (t - s)) * (cw**s * q0) ** 2 for s in range(1, t))
        assert r["covariance"][0] == pytest.approx(V, rel=1e-12, abs=1e-14)


def test_saddle_point_is_solved_and_the_vertices_are_the_cumulants():
    """The saddle point is the mean-field length map; the quadratic couplings are
    chi_parallel/sigma_w2 (response) and the variance of phi^2 (noise)."""
    expr, (Qt, dQ, dQp), saddle = layer_action(3)
    assert str(saddle) == "sigma_b2 + sigma_w2*m((1,), (0,))"
    noise = sp.factor(expr.coeff(Qt, 2).subs({dQ: 0, dQp: 0}))
    assert str(noise) == "-sigma_w2**2*(m((1,), (0,))**2 - m((2,), (0,)))/2"
    assert expr.coeff(Qt, 1).coeff(dQ, 1) == -1


def test_response_is_causal():
    """<dQ(t) Qt(s)> vanishes for s > t and is the product of chi_parallel's for s <= t."""
    net = Network("feedforward", "tanh", 1.5, 0.05, q0=1.0)
    theory, _ = feedforward_theory(net, 5)
    dhat = theory.propagator()
    ref = finite_width(net, 5)
    for t in range(2, 6):
        for s in range(2, 6):
            value = dhat[theory.index(("dQ", t)), theory.index(("Qt", s))]
            if s > t:
                assert value == 0
            else:
                expected = np.prod([ref[u - 1]["chi_parallel"] for u in range(s, t)])
                assert value == pytest.approx(expected, rel=1e-12)
        assert dhat[theory.index(("Qt", t)), theory.index(("Qt", t))] == 0


def test_errors():
    with pytest.raises(InvalidParameter, match="feedforward"):
        feedforward_theory(Network("recurrent", "tanh", 1.0, 0.1), 3)
    with pytest.raises(InvalidParameter, match="numbers"):
        feedforward_theory(Network("feedforward", "tanh"), 3)
    with pytest.raises(InvalidParameter, match="1/N\\^2"):
        feedforward_correlators(Network("feedforward", "tanh", 1.0, 0.1), 3, order=3)
    with pytest.raises(InvalidParameter, match="positive"):
        feedforward_theory(Network("feedforward", "tanh", 1.0, 0.0, q0=0.0), 3)
