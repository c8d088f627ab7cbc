"""Two inputs: the kernel matrix and the correlation through 1/N from the fluctuation
diagrams, against the two-input recursion (an independent derivation) and one input."""

import numpy as np
import pytest

from nnqft.derive.finite_width.recursions import finite_width_two_inputs
from nnqft.derive.fluctuations.feedforward import feedforward_correlators
from nnqft.derive.fluctuations.two_inputs import two_input_correlators, two_input_theory
from nnqft.errors import InvalidParameter, NoExactForm
from nnqft.rules.network import Network

SLOW = pytest.mark.slow


@pytest.mark.parametrize(
    "act, cw, cb, c0",
    [
        ("tanh", 1.5, 0.05, 0.5),
        pytest.param("tanh", 0.8, 0.1, 0.3, marks=SLOW),
        ("erf", 2.0, 0.0, 0.7),
        pytest.param("sin", 1.2, 0.1, -0.2, marks=SLOW),
        pytest.param("gelu", 1.8, 0.05, 0.4, marks=SLOW),
    ],
)
def test_kernel_and_correlation_equal_the_recursion(act, cw, cb, c0):
    """Both phases (tanh 0.8 is ordered, c -> 1; 1.5 chaotic); K1, V and c1 to 1e-9."""
    net = Network("feedforward", act, cw, cb, q0=1.0)
    rows = two_input_correlators(net, c0, 4)
    ref = finite_width_two_inputs(net, c0, 4)
    for r, f in zip(rows, ref):
        assert np.allclose(r["K0"], f["K0"], rtol=0, atol=1e-12)
        assert np.allclose(r["K1"], f["K1"], rtol=0, atol=1e-9)
        assert np.allclose(r["V"], f["V"], rtol=0, atol=1e-9)
        assert r["correlation"][0] == pytest.approx(f["correlation0"], abs=1e-12)
        assert r["correlation"][1] == pytest.approx(f["correlation1"], abs=1e-9)


def test_diagonal_is_the_single_input_theory():
    """K1_11 and V_11,11 of the two-input theory are the one-input K1 and V."""
    net = Network("feedforward", "tanh", 1.5, 0.05, q0=1.0)
    two = two_input_correlators(net, 0.4, 3)
    one = feedforward_correlators(net, 3)
    for a, b in zip(two, one):
        assert a["K1"][0] == pytest.approx(b["mean"][1], abs=1e-12)
        assert a["V"][0][0] == pytest.approx(b["covariance"][0], abs=1e-12)


def test_errors():
    with pytest.raises(NoExactForm, match="smooth"):
        two_input_theory(Network("feedforward", "relu", 2.0, 0.0), 0.5, 3)
    with pytest.raises(InvalidParameter, match="c0"):
        two_input_theory(Network("feedforward", "tanh", 1.0, 0.0), 1.0, 3)
