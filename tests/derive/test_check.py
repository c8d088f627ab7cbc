"""`check` says equivalent for right answers and names the order where wrong ones differ.

The right answers are typed in independently of the engine: the feedforward mean as the
explicit bias sum of docs/conventions.md §1, and the recurrent shared-bias mean through 1/N from
the trace moments M(k, m) of docs/conventions.md §5 (a double sum with a parity condition).
"""

from __future__ import annotations

import pytest
import sympy as sp

from nnqft.derive.check import check, parse_user_expression, truncate
from nnqft.derive.formulas import get_formula
from nnqft.errors import ParseError
from nnqft.rules import symbols as S

FF_MEAN = "q0*sigma_w2**T + sigma_b2*Sum(sigma_w2**k, (k, 0, T-1))"
M_KM = (
    "sigma_b2/N*Sum(Sum((Min(k,m)+1)*sigma_w2**((k+m)/2)*(1 + (-1)**(k+m))/2"
    "*(1 - KroneckerDelta(k, m)), (m, 0, T-1)), (k, 0, T-1))"
)


def test_right_answers_are_equivalent():
    assert check("sigma_w2/2", "mft/chi1/relu").equivalent
    r = check(FF_MEAN, "linear-feedforward/mean")
    assert r.equivalent and r.difference == 0


def test_recurrent_shared_mean_through_first_order_from_trace_moments():
    r = check(f"{FF_MEAN} + {M_KM}", "linear-recurrent-shared/mean", order=1, points=10)
    assert r.equivalent, r
    missing = check(FF_MEAN, "linear-recurrent-shared/mean", order=1, points=10)
    assert not missing.equivalent
    assert missing.first_order == 1  # the missing 1/N term is named


def test_wrong_sign_differs_at_leading_order():
    r = check("q0*sigma_w2**T - sigma_b2*Sum(sigma_w2**k, (k, 0, T-1))", "linear-feedforward/mean")
    assert not r.equivalent and r.first_order == 0
    want = -2 * S.sigma_b2 * (1 - S.sigma_w2**S.T) / (1 - S.sigma_w2)
    assert sp.simplify(r.leading_difference - want) == 0


def test_t_in_place_of_t_minus_one():
    r = check("q0*sigma_w2**T + sigma_b2*Sum(sigma_w2**k, (k, 0, T))", "linear-feedforward/mean")
    assert not r.equivalent and r.first_order == 0
    assert sp.simplify(r.difference - S.sigma_b2 * S.sigma_w2**S.T) == 0
    assert r.sigma_w2_power == S.T


def test_missing_one_over_n_term_is_named():
    r = check("log(q0) + T*log(sigma_w2)", "linear-feedforward/log-mean")
    assert not r.equivalent and r.first_order == 1
    assert r.leading_difference == S.T  # psi(N/2) - ln(N/2) = -1/N - 1/(3 N^2) + ...
    assert check(
        "log(q0) + T*(log(sigma_w2) - 1/N)", "linear-feedforward/log-mean", order=1
    ).equivalent
    r2 = check("log(q0) + T*(log(sigma_w2) - 1/N)", "linear-feedforward/log-mean", order=2)
    assert not r2.equivalent and r2.first_order == 2


def test_numeric_route_agrees_with_symbolic_route():
    right = check("sigma_b2 + 2*sigma_w2*asin(2*q/(1 + 2*q))/pi", "mft/length-map/erf")
    assert right.equivalent and right.symbolic == "zero" and right.max_relative_difference < 1e-30
    wrong = check("sigma_b2 + 2*sigma_w2*asin(q/(1 + 2*q))/pi", "mft/length-map/erf")
    assert not wrong.equivalent and wrong.symbolic == "nonzero"
    assert wrong.max_relative_difference > 1e-3


def test_latex_input():
    assert check(r"\frac{\sigma_w^2}{2}", "mft/chi1/relu").equivalent
    assert check(r"q \sigma_w^2 + \sigma_b^2", "mft/length-map/linear").equivalent


def test_latex_input_reads_the_printers_output():
    """What nnqft prints reads back: a name before brackets is a product, not a call;
    \\psi is digamma; merged powers of squares are powers of sigma_w2."""
    f = get_formula("linear-feedforward/log-mean")
    w, q0, n, t = f.arguments
    assert parse_user_expression(r"q_0 \left(1 + N\right)", f) == q0 * (1 + n)
    assert parse_user_expression(r"\psi\left(N\right)", f) == sp.digamma(n)
    assert parse_user_expression(r"\sigma_w^{4 T}", f) == w ** (2 * t)


def test_bad_input():
    f = get_formula("mft/chi1/relu")
    with pytest.raises(ParseError):
        parse_user_expression("sigma_w2/(2", f)
    with pytest.raises(ParseError, match="unknown symbol"):
        parse_user_expression("sigma_w/2", f)


def test_truncate():
    assert truncate((1 + 2 / S.N) ** 3, 1) == 1 + 6 / S.N


def test_latex_parser_runtime_is_a_default_dependency():
    """LaTeX input works with a plain ``pip install nnqft``: the runtime sympy's parser
    needs is in the default dependencies, pinned as the error message says."""
    from importlib.metadata import requires

    from nnqft.derive.check import LATEX_REQUIREMENT

    plain = [r.replace(" ", "") for r in requires("nnqft") if "extra ==" not in r]
    assert LATEX_REQUIREMENT in plain


def test_latex_without_the_runtime_says_what_to_install(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "antlr4", None)  # import antlr4 -> ImportError
    with pytest.raises(ParseError, match=r"pip install 'antlr4-python3-runtime==4\.11\.\*'"):
        parse_user_expression(r"\frac{\sigma_w^2}{2}", get_formula("mft/chi1/relu"))
