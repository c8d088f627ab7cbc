"""The printed collective rules against the numbers the diagrams contract: the same
expansion, read two ways (symbolic couplings at q(t-1) vs the numeric tensors)."""

import subprocess
import sys

import pytest
import sympy as sp

from nnqft.derive.fluctuations.feedforward import feedforward_theory
from nnqft.derive.fluctuations.rules import GaussianMoment, collective_rules, q_prev
from nnqft.errors import InvalidParameter
from nnqft.rules import symbols as S
from nnqft.rules.feynman import TIMES
from nnqft.rules.network import Network


@pytest.mark.parametrize("act", ["relu", "erf"])
def test_closed_form_couplings_equal_the_numeric_tensors(act):
    cw, cb = 1.7, 0.2
    rules = collective_rules(Network("feedforward", act))
    theory, K0 = feedforward_theory(Network("feedforward", act, cw, cb, q0=1.0), 4)
    idx, val = theory.vertices[3]
    t = 3  # a vertex at layer 3 reads q(2) = K0[1]
    numeric = {}
    for row, v in zip(map(tuple, idx.tolist()), val):
        fields = sorted(theory.labels[i][0] for i in row)
        if all(theory.labels[i][1] in (t, t - 1) for i in row) and any(
            theory.labels[i] == ("Qt", t) for i in row
        ):
            numeric[tuple(fields)] = v
    checked = 0
    for vertex in rules.vertices:
        value = vertex.coupling.subs({S.N: 1, S.sigma_w2: cw, S.sigma_b2: cb, q_prev: K0[1]})
        if value.has(GaussianMoment):  # a Gaussian mean without a closed form (erf: E[phi^4])
            continue
        key = tuple(sorted(vertex.legs))
        assert float(value) == pytest.approx(numeric.get(key, 0.0), rel=1e-10, abs=1e-12)
        checked += 1
    assert checked >= 1


def test_response_line_is_the_product_of_slopes():
    rules = collective_rules(Network("feedforward", "relu"))
    response = rules.propagator("response")
    t, s = TIMES
    value = response.value.subs({S.N: 1, S.sigma_w2: sp.Rational(3, 2)}).subs({t: 5, s: 2}).doit()
    assert value == sp.Rational(3, 4) ** 3
    assert response.directed and response.fields == ("Qt", "dQ")


def test_recurrent_is_refused():
    with pytest.raises(InvalidParameter, match="feedforward"):
        collective_rules(Network("recurrent", "tanh"))


def test_cli_prints_the_rules():
    out = subprocess.run(
        [sys.executable, "-m", "nnqft", "rules", "--model", "collective", "--activation", "tanh"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "Qt -> dQ" in out.stdout and "Qt dQ^2" in out.stdout and "E[phi^2]" in out.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "nnqft", "rules", "--activation", "tanh"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2 and "collective" in bad.stderr
