"""to_sympy: text goes through the safe parser, values through strict sympify; the two
routes give the same objects, and nothing is evaluated as code."""

import pytest
import sympy as sp

from nnqft.derive.convert import to_sympy
from nnqft.errors import InvalidType, ParseError
from nnqft.rules import symbols as S


@pytest.mark.parametrize(
    "text,value",
    [
        ("sigma_w2*q0", S.sigma_w2 * S.q0),
        ("1/3", sp.Rational(1, 3)),
        ("N + T", S.N + S.T),
        ("exp(-sigma_b2)", sp.exp(-S.sigma_b2)),
    ],
)
def test_text_and_values_agree(text, value):
    assert to_sympy(text) == value == to_sympy(value)
    assert to_sympy(text).free_symbols <= set(S.STANDARD.values())


def test_numbers():
    assert to_sympy(3) == sp.Integer(3) and isinstance(to_sympy(3), sp.Integer)
    assert to_sympy(0.25) == sp.Float(0.25)


def test_text_is_never_code():
    with pytest.raises(ParseError):
        to_sympy("__import__('os').system('true')")
    with pytest.raises(InvalidType):
        to_sympy([1, 2], "q")
    with pytest.raises(InvalidType):
        to_sympy(object(), "q")
