"""The standard symbols: parsed text gives the very symbols the formulas use."""

import sympy as sp

from nnqft.rules import symbols as S


def test_parsed_names_are_the_standard_symbols():
    """Two routes to one expression: parse_expression of text and the symbols by hand."""
    by_hand = S.sigma_w2**S.T * S.q0 + S.sigma_b2 * (1 - S.sigma_w2**S.T) / (1 - S.sigma_w2)
    parsed = S.parse_expression("sigma_w2**T*q0 + sigma_b2*(1 - sigma_w2**T)/(1 - sigma_w2)")
    assert parsed == by_hand and parsed.free_symbols == {S.sigma_w2, S.sigma_b2, S.q0, S.T}


def test_n_is_the_width_not_sympys_n():
    assert S.parse_expression("N") == S.N and S.parse_expression("N").is_integer
    assert sp.sympify("N") != S.N  # what the module docstring warns about


def test_assumptions():
    assert S.N.is_integer and S.N.is_positive and S.T.is_integer
    assert S.sigma_w2.is_positive and S.sigma_b2.is_nonnegative and S.q12.is_real
    assert sp.sqrt(S.q**2) == S.q and sp.sqrt(S.sigma_b2**2) == S.sigma_b2
    assert set(S.STANDARD.values()) == {S.sigma_w2, S.sigma_b2, S.q0, S.N, S.T}
