"""Activations: closed-form kernels against quadrature (an independent route), registry."""

import numpy as np
import pytest
import sympy as sp

from nnqft.derive.gaussian import (
    bivariate_gaussian_mean,
    gaussian_kernel,
    gaussian_mean,
    mean_square,
)
from nnqft.errors import InvalidParameter, UnknownActivation
from nnqft.rules.activations import Activation, get_activation, known_activations, register
from nnqft.rules.symbols import z

CLOSED = [n for n in known_activations() if get_activation(n).has_closed_form] + [
    "leaky_relu(0.2)",
    "abrelu(-0.5, 2)",
]


def random_covariances(seed, n=50):
    rng = np.random.default_rng(seed)
    q1, q2 = rng.uniform(0.05, 4.0, n), rng.uniform(0.05, 4.0, n)
    c = rng.uniform(-0.999, 0.999, n)
    return q1, q2, c * np.sqrt(q1 * q2)


def test_required_activations_are_registered():
    required = {
        "linear",
        "relu",
        "leaky_relu",
        "erf",
        "tanh",
        "sigmoid",
        "gelu",
        "swish",
        "sin",
        "cos",
        "softplus",
    }
    assert required <= set(known_activations())
    assert get_activation("silu").name == "swish"


@pytest.mark.parametrize("name", CLOSED)
@pytest.mark.parametrize("derivative", [0, 1])
def test_closed_form_kernel_equals_quadrature(name, derivative):
    act = get_activation(name)
    q1, q2, q12 = random_covariances(hash((name, derivative)) % 1000)
    closed = gaussian_kernel(act, q1, q2, q12, derivative=derivative)
    quad = gaussian_kernel(act, q1, q2, q12, derivative=derivative, nodes=301)
    np.testing.assert_allclose(closed, quad, rtol=0, atol=1e-10)
    np.testing.assert_allclose(
        mean_square(act, q1, derivative),
        mean_square(act, q1, derivative, nodes=301),
        rtol=0,
        atol=1e-10,
    )


def test_quadrature_moments_are_exact_for_polynomials():
    var = np.array([0.5, 1.0, 2.0])
    np.testing.assert_allclose(gaussian_mean(lambda u: u**4, var), 3 * var**2, rtol=1e-13)
    np.testing.assert_allclose(
        bivariate_gaussian_mean(lambda u: u**2, lambda u: u**2, 1.0, 2.0, 0.7),
        1.0 * 2.0 + 2 * 0.7**2,
        rtol=1e-13,
    )


def test_quadrature_against_monte_carlo_for_tanh():
    rng = np.random.default_rng(7)
    u = rng.standard_normal(2_000_000) * np.sqrt(1.7)
    mc = np.tanh(u) ** 2
    quad = float(mean_square(get_activation("tanh"), 1.7))
    assert abs(mc.mean() - quad) < 4 * mc.std() / np.sqrt(u.size)


def test_symmetry_properties_are_derived():
    assert get_activation("tanh").is_odd and get_activation("erf").is_odd
    assert not get_activation("relu").is_odd
    assert get_activation("relu").is_scale_invariant
    assert get_activation("leaky_relu(0.1)").is_scale_invariant
    assert not get_activation("tanh").is_scale_invariant
    assert get_activation("relu").kinks == (0,) and get_activation("tanh").kinks == ()


def test_user_expression_and_registration():
    act = get_activation("z*tanh(z)")
    assert act.expr == z * sp.tanh(z) and not act.has_closed_form
    register("cubic_test", lambda: Activation("cubic_test", z**3))
    var = 0.8
    assert float(mean_square(get_activation("cubic_test"), var)) == pytest.approx(15 * var**3)


@pytest.mark.parametrize("bad", ["tnah", "x*tanh(z)", "", "relu(1, 2, 3)", "leaky_relu(abc)"])
def test_bad_activation_names_raise_clear_errors(bad):
    with pytest.raises((UnknownActivation, InvalidParameter)) as info:
        get_activation(bad)
    assert "\n" not in str(info.value)


def test_unknown_activation_suggests_the_nearest():
    with pytest.raises(UnknownActivation, match="did you mean 'tanh'"):
        get_activation("tnah")


@pytest.mark.parametrize("var", [0.3, 3.0, 8.0, 20.0, 50.0])
def test_graded_quadrature_stays_accurate_at_large_variance(var):
    # second route: scipy's adaptive quadrature of the same integrals
    from scipy.integrate import quad

    def exact(f):
        dens = lambda u: np.exp(-u * u / (2 * var)) / np.sqrt(2 * np.pi * var)  # noqa: E731
        return quad(
            lambda u: f(u) * dens(u),
            -40 * np.sqrt(var),
            40 * np.sqrt(var),
            points=[0.0],
            limit=400,
            epsabs=1e-14,
        )[0]

    tanh = get_activation("tanh")
    assert float(mean_square(tanh, var)) == pytest.approx(
        exact(lambda u: np.tanh(u) ** 2), abs=1e-10
    )
    assert float(mean_square(tanh, var, 1)) == pytest.approx(
        exact(lambda u: np.cosh(u) ** -4), abs=1e-10
    )


def test_expressions_with_unknown_functions_are_rejected():
    with pytest.raises(InvalidParameter, match="unknown function"):
        get_activation("sigmoid(z) - 1/2")


@pytest.mark.parametrize(
    "text, says",
    [
        ("1", "does not depend on z"),
        ("0*z", "does not depend on z"),
        ("log(z)", "real and finite"),
        ("sqrt(z)", "real and finite"),
        ("1/z", "real and finite"),
    ],
)
def test_user_activation_must_be_a_real_finite_function_of_z(text, says):
    from nnqft.errors import InvalidParameter

    with pytest.raises(InvalidParameter, match=says):
        get_activation(text)
