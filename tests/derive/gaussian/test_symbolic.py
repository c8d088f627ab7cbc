"""gaussian_moment against the double-factorial formula and numerical integration."""

import math

import pytest
import sympy as sp
from scipy.integrate import quad

from nnqft.derive.gaussian import gaussian_moment
from nnqft.rules import symbols as S
from nnqft.rules.activations import get_activation

z, q = S.z, S.q


@pytest.mark.parametrize("k", range(0, 11))
def test_monomials_follow_the_double_factorial_formula(k):
    expected = 0 if k % 2 else math.prod(range(k - 1, 0, -2)) * q ** sp.Rational(k, 2)
    assert sp.simplify(gaussian_moment(z**k) - expected) == 0


def test_polynomials_are_linear_in_their_terms():
    expr = 3 * z**6 - 2 * z**3 + 5 * z**2 + 7
    assert sp.expand(gaussian_moment(expr) - (45 * q**3 + 5 * q + 7)) == 0


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
def test_relu_powers_are_half_the_absolute_moments(k):
    """E[relu(u)^k] = E|u|^k / 2 = (2q)^{k/2} Gamma((k+1)/2) / (2 sqrt(pi))."""
    absolute = 2 ** sp.Rational(k, 2) * sp.gamma(sp.Rational(k + 1, 2)) / sp.sqrt(sp.pi)
    expected = absolute * q ** sp.Rational(k, 2) / 2
    assert sp.simplify(gaussian_moment(sp.Max(0, z) ** k) - expected) == 0


def _numeric(expr, var):
    f = sp.lambdify(z, expr, "numpy")
    s = math.sqrt(var)

    def density(x):
        return float(f(s * x)) * math.exp(-x * x / 2) / math.sqrt(2 * math.pi)

    return sum(quad(density, a, b, limit=200)[0] for a, b in ((-40, 0), (0, 40)))  # e^-800 beyond


@pytest.mark.parametrize(
    "expr",
    [
        sp.Max(0, z) ** 3,
        sp.Piecewise((0.2 * z, z < 0), (z, True)) ** 2,
        sp.Abs(z) ** 3,
        z**2 * sp.cos(z),
        sp.exp(z) * z,
        sp.Heaviside(z) * z**2 + 3 * z,
    ],
    ids=str,
)
@pytest.mark.parametrize("var", [0.3, 2.0])
def test_closed_forms_agree_with_numerical_integration(expr, var):
    closed = gaussian_moment(expr)
    assert closed is not None
    assert math.isclose(
        float(closed.subs(q, var)), _numeric(expr, var), rel_tol=1e-9, abs_tol=1e-12
    )


def test_characteristic_function_and_a_given_variance():
    a = sp.Symbol("a", positive=True)
    assert sp.simplify(gaussian_moment(sp.cos(a * z)) - sp.exp(-(a**2) * q / 2)) == 0
    assert gaussian_moment(z**4, var=sp.Integer(2)) == 12


def test_activations_mean_phi_and_unclosed_integrals_give_none():
    assert sp.simplify(gaussian_moment(get_activation("relu")) - sp.sqrt(q / (2 * sp.pi))) == 0
    assert gaussian_moment(sp.tanh(z)) is None
    assert gaussian_moment(sp.Max(0, z - 1)) is None  # kink away from 0: not split there
    assert gaussian_moment(sp.Integer(5)) == 5
