"""expect(): every closed form an activation entry carries equals quadrature by an independent
rule (composite Gauss-Legendre panels in the line and the plane, kinks as panel edges)."""

import numpy as np
import pytest
import sympy as sp

from nnqft.derive.gaussian import closed_form, expect
from nnqft.errors import InvalidParameter
from nnqft.rules.activations import Activation, get_activation, known_activations, register
from nnqft.rules.symbols import q, q11, q12, q22, z

CLOSED = [n for n in known_activations() if get_activation(n).has_closed_form] + [
    "leaky_relu(0.2)",
    "abrelu(-0.5, 2)",
]
VARIANCES = [0.05, 0.7, 2.5, 9.0]
COVARIANCES = [(0.3, 1.7, -0.6), (1.0, 1.0, 0.999), (2.0, 0.5, 0.2), (4.0, 6.0, -4.5)]


@pytest.mark.parametrize("name", CLOSED)
@pytest.mark.parametrize("what", ["phi^2", "phi'^2", "d/dq phi^2"])
def test_single_variable_closed_forms_equal_panel_quadrature(name, what):
    act = get_activation(name)
    assert closed_form(act, what) is not None
    for var in VARIANCES:
        exact = float(expect(act, what, var))
        numeric = expect(act, what, var, rule="panel", closed="none")
        assert numeric == pytest.approx(exact, rel=1e-10, abs=1e-12), (name, what, var)


@pytest.mark.parametrize("name", CLOSED)
@pytest.mark.parametrize("what", ["phi phi", "phi' phi'"])
def test_kernels_equal_plane_quadrature(name, what):
    act = get_activation(name)
    for v1, v2, c in COVARIANCES:
        exact = float(expect(act, what, v1, v2, c))
        numeric = expect(act, what, v1, v2, c, rule="panel", closed="none")
        assert numeric == pytest.approx(exact, rel=1e-10, abs=1e-12), (name, what, v1, v2, c)


@pytest.mark.parametrize("name", ["linear", "relu", "leaky_relu(0.2)", "sin", "cos"])
def test_higher_moments_and_their_q_derivatives_equal_panel_quadrature(name):
    act = get_activation(name)
    whats = ("phi^4", "d/dq phi^4", "d^2/dq^2 phi^4", "phi^6", "d^4/dq^4 phi^2")
    for var in VARIANCES[:3]:
        exact = expect(act, whats, var, rule="panel", closed="integrate")
        numeric = expect(act, whats, var, rule="panel", closed="none")
        np.testing.assert_allclose(numeric, [float(e) for e in exact], rtol=1e-9, atol=1e-11)


def test_an_entry_with_a_known_fourth_moment_is_one_entry():
    # phi = z^3: E[z^6] = 15 q^3, E[z^12] = 10395 q^6, stated by the entry itself
    register("cube", Activation("cube", z**3, moments={2: 15 * q**3, 4: 10395 * q**6}))
    act = get_activation("cube")
    assert closed_form(act, "phi^4") == 10395 * q**6
    assert float(expect(act, "phi^4", 0.5)) == pytest.approx(10395 / 64, rel=1e-14)
    assert expect(act, "phi^4", 0.5, rule="panel", closed="none") == pytest.approx(
        10395 / 64, rel=1e-10
    )
    assert expect(act, "d/dq phi^4", q) == 62370 * q**5


def test_register_again_returns_the_new_activation():
    register("mine", Activation("mine", sp.tanh(z)))
    assert get_activation("mine").expr == sp.tanh(z)
    register("mine", Activation("mine", sp.sin(z)))
    assert get_activation("mine").expr == sp.sin(z)  # not the cached tanh


def test_symbolic_and_bad_requests():
    erf = get_activation("erf")
    assert expect(erf, "phi phi", q11, q22, q12) == erf.kernel
    assert expect("tanh", "phi^2", q) is None  # no closed form: quadrature needs numbers
    with pytest.raises(InvalidParameter, match="unknown Gaussian expectation"):
        expect(erf, "psi^2", 1.0)
    with pytest.raises(InvalidParameter, match="rule"):
        expect(erf, "phi^2", 1.0, rule="simpson")
    with pytest.raises(InvalidParameter, match="panel"):
        expect("tanh", "d^2/dq^2 phi^2", 1.0)
