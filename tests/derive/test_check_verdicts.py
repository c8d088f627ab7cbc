"""A suite of hand results, right and wrong, with the verdict and the diagnosis asserted.

Each hand result is typed in independently of the engine (the feedforward mean as the
explicit bias sum of docs/conventions.md §1; psi(N/2) - ln(N/2) = -1/N - 1/(3 N^2) + ...
for the log-mean; V(T) = 2 q0^2 sigma_w2^(2T) (T - 1) of the linear net, which vanishes at
T = 1; asin(x) = atan(x / sqrt(1 - x^2)) for the erf length map).
"""

from __future__ import annotations

import pytest
import sympy as sp

from nnqft.derive.check import NUMERIC_TOLERANCE, _points, check
from nnqft.derive.formulas import get_formula
from nnqft.rules import symbols as S

FF_MEAN = "q0*sigma_w2**T + sigma_b2*Sum(sigma_w2**k, (k, 0, T-1))"
PROVEN = "equivalent (proven symbolically; numerically at 24 points)"
NUMERIC_ONLY = "equivalent (numerically, 40 digits at 24 points; not proven symbolically)"

EQUIVALENT = [
    # (hand result, formula id, order, verdict)
    ("sigma_w2*(1/2)", "mft/chi1/relu", None, PROVEN),
    (FF_MEAN, "linear-feedforward/mean", None, PROVEN),
    # the vanishing case: V(1) = 0, and 40-digit rounding of exp(2 T log s) leaves ~1e-40
    (
        "2*q0**2*sigma_w2**(2*T)*T - 2*q0**2*exp(2*T*log(sigma_w2))",
        "finite-width/V/linear",
        None,
        PROVEN,
    ),
    # a disguised identity sympy does not prove: asin(x) = atan(x/sqrt(1 - x^2))
    ("sigma_b2 + 2*sigma_w2*atan(2*q/sqrt(1 + 4*q))/pi", "mft/length-map/erf", None, NUMERIC_ONLY),
    ("log(q0) + T*(log(sigma_w2) - 1/N)", "linear-feedforward/log-mean", 1, PROVEN),
]

WRONG = [
    # (hand result, formula id, order, the diagnosis it must carry)
    ("sigma_w2", "mft/chi1/relu", None, "your result is 2 x the correct one"),
    ("-sigma_w2/2", "mft/chi1/relu", None, "wrong overall sign"),
    (
        "log(q0) + T*(log(sigma_w2) + 1/N)",
        "linear-feedforward/log-mean",
        1,
        "the 1/N coefficient has the wrong sign",
    ),
    (
        "log(q0) + T*(log(sigma_w2) - 2/N)",
        "linear-feedforward/log-mean",
        1,
        "the 1/N coefficient is 2 x the correct one",
    ),
    ("log(q0) + T*log(sigma_w2)", "linear-feedforward/log-mean", None, "the 1/N term is missing"),
    ("q0*sigma_w2**T", "linear-feedforward/mean", None, "missing sigma_b2 term"),
    (
        "q0*sigma_w2**T + sigma_b2*Sum(sigma_w2**k, (k, 0, T))",
        "linear-feedforward/mean",
        None,
        "an extra term k = T (the sum should end at T - 1)",
    ),
    (
        "q0*sigma_w2**T + sigma_b2*Sum(sigma_w2**k, (k, 1, T-1))",
        "linear-feedforward/mean",
        None,
        "a missing term k = 0",
    ),
    ("sigma_w2/2 + sigma_b2", "mft/chi1/relu", None, "an extra term sigma_b2"),
]


@pytest.mark.parametrize("text, formula, order, verdict", EQUIVALENT)
def test_right_answers(text, formula, order, verdict):
    r = check(text, formula, order=order)
    assert r.equivalent and r.verdict == verdict, r
    assert r.difference == 0 and r.diagnosis == ()
    assert r.max_relative_difference <= NUMERIC_TOLERANCE and r.failed_points == 0


def test_the_vanishing_case_is_sampled_where_the_formula_vanishes():
    """The agreement above is absolute where V(T) = 0: T = 1 is among the points, and a
    wrong answer that is also 0 there is still caught at the other points."""
    f = get_formula("finite-width/V/linear")
    pts = _points(f, 24, 1)
    assert any(p[S.T] == 1 for p in pts)
    assert all(sp.N(f.expression.subs(p)) == 0 for p in pts if p[S.T] == 1)
    wrong = check("2*q0**2*sigma_w2**(2*T)*(T - 1)**2", "finite-width/V/linear")
    assert not wrong.equivalent and wrong.verdict.startswith("not equivalent")


def test_numeric_only_equivalence_is_not_a_symbolic_proof():
    r = check("sigma_b2 + 2*sigma_w2*atan(2*q/sqrt(1 + 4*q))/pi", "mft/length-map/erf")
    assert r.symbolic == "undecided" and r.equivalent
    assert "not proven symbolically" in r.verdict


@pytest.mark.parametrize("text, formula, order, words", WRONG)
def test_wrong_answers_are_diagnosed(text, formula, order, words):
    r = check(text, formula, order=order)
    assert not r.equivalent and r.verdict.startswith("not equivalent"), r
    assert any(words in d for d in r.diagnosis), r.diagnosis


def test_difference_is_printed_factored():
    r = check("q*sigma_w2 + sigma_b2 + (sigma_w2 - 1)**3", "mft/length-map/linear")
    assert not r.equivalent
    assert r.difference == (S.sigma_w2 - 1) ** 3 and r.difference.is_Pow  # not expanded


def test_a_right_answer_at_a_1_over_n_order_prints_the_series_factored():
    r = check("log(q0) + T*(log(sigma_w2) - 1/N)", "linear-feedforward/log-mean", order=1)
    assert sp.simplify(r.correct - (sp.log(S.q0) + S.T * sp.log(S.sigma_w2) - S.T / S.N)) == 0
