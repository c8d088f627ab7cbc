"""The input helpers of the mean-field modules: good input through, bad input one-line errors."""

import numpy as np
import pytest
import sympy as sp

from nnqft.derive.meanfield import _inputs as I
from nnqft.errors import InvalidParameter, InvalidType, NnqftError, NoExactForm
from nnqft.rules.activations import get_activation
from nnqft.rules.network import Network


@pytest.mark.parametrize("value", [0.0, 2, [0.5, 1.5], np.arange(3.0), ((1.0,), (2.0,))])
def test_array_passes_numbers_through(value):
    out = I._array("q", value)
    assert out.dtype == float
    np.testing.assert_array_equal(out, np.asarray(value, dtype=float))


@pytest.mark.parametrize(
    "value,error,text",
    [
        ("1.0", InvalidType, "q must be a number or an array of numbers"),
        (b"1", InvalidType, "q must be a number"),
        (True, InvalidType, "q must be a number"),
        (None, InvalidType, "q must be a number"),
        (["a", 1], InvalidType, "q must be a number"),
        ({"q": 1}, InvalidType, "q must be a number"),
        (float("nan"), InvalidParameter, "q must not be NaN"),
        ([1.0, -0.5], InvalidParameter, "q must be non-negative, got -0.5"),
    ],
)
def test_array_rejects_bad_input_in_one_line(value, error, text):
    with pytest.raises(error) as info:
        I._array("q", value)
    assert isinstance(info.value, NnqftError)
    message = str(info.value)
    assert message.startswith(text) and "\n" not in message


def test_array_allows_negative_values_where_asked():
    np.testing.assert_array_equal(I._array("c", [-0.5, 0.5], nonnegative=False), [-0.5, 0.5])


def test_out_unwraps_zero_dimensional_arrays_only():
    scalar = I._out(np.array(1.5))
    assert np.ndim(scalar) == 0 and float(scalar) == 1.5
    assert I._out([1, 2]).shape == (2,)


def test_symbolic_requests():
    numeric = Network("feedforward", "erf", sigma_w2=1.0, sigma_b2=0.1)
    assert not I._symbolic(numeric, 1.0, np.array([1.0]))
    assert I._symbolic(numeric, sp.Symbol("q"))
    assert I._symbolic(Network("feedforward", "erf"))  # symbolic variances by default


def test_sym_turns_floats_into_exact_numbers():
    assert I._sym(0.5) == sp.Rational(1, 2)
    assert I._sym(sp.Symbol("q")) == sp.Symbol("q")


def test_no_closed_form_names_the_activation_in_one_line():
    err = I._no_closed_form(get_activation("tanh"), "the length map")
    assert isinstance(err, NoExactForm)
    assert "'tanh'" in str(err) and "the length map" in str(err) and "\n" not in str(err)


def test_moments_are_the_mean_field_triple():
    """E phi^2, E phi'^2, dE phi^2/dq of ReLU: q/2, 1/2, 1/2 (quadrature forced)."""
    q = np.array([0.5, 2.0])
    m0, m1, mp = I._moments(get_activation("relu"), q, 200)
    np.testing.assert_allclose(m0, q / 2, rtol=1e-3)
    np.testing.assert_allclose(m1, 0.5, rtol=1e-12)
    np.testing.assert_allclose(mp, 0.5, rtol=1e-3)
