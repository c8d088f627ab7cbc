"""The Network value object: validation and the derived views agree with its fields."""

import pytest
import sympy as sp

from nnqft.errors import InvalidParameter
from nnqft.rules import symbols as S
from nnqft.rules.network import Network


def test_defaults_and_bias_conventions():
    assert Network("recurrent", "linear").bias == "shared"
    assert Network("feedforward", "tanh").bias is None
    symbolic = Network("feedforward", "erf")
    assert (symbolic.sigma_w2, symbolic.sigma_b2) == (S.sigma_w2, S.sigma_b2)
    assert not symbolic.is_numeric
    assert Network("feedforward", "erf", sigma_w2=1.5, sigma_b2=0.1, q0=1).is_numeric


def test_replace_is_a_new_validated_network():
    """Two routes to one network: replace() and the constructor; the original unchanged."""
    net = Network("feedforward", "tanh", sigma_w2=1.5, sigma_b2=0.05, width=16, depth=6)
    other = net.replace(sigma_w2=2.0, depth=3)
    assert other == Network("feedforward", "tanh", sigma_w2=2.0, sigma_b2=0.05, width=16, depth=3)
    assert net.sigma_w2 == 1.5 and hash(other) == hash(net.replace(sigma_w2=2.0, depth=3))
    with pytest.raises(InvalidParameter):
        net.replace(sigma_w2=-1)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(sigma_w2=0),
        dict(sigma_b2=-0.1),
        dict(bias="shared"),
        dict(sigma_w2=sp.I),
        dict(sigma_b2=1 + sp.I),
        dict(sigma_w2=sp.zoo),
    ],
)
def test_bad_values(kwargs):
    with pytest.raises(InvalidParameter):
        Network("feedforward", "relu", **kwargs)
