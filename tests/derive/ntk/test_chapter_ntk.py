"""The NTK chapter: its steps, its numbers from the engine, its place in the paper."""

import sympy as sp

from nnqft.derive.document.derivation import chapter_names
from nnqft.derive.ntk.chapter import EXAMPLE, ntk_chapter
from nnqft.derive.ntk.correction import ntk_mean_correction
from nnqft.derive.ntk.variance import ntk_fluctuations
from nnqft.rules import symbols as S
from nnqft.rules.network import Network


def test_steps_and_numbers():
    chapter = ntk_chapter("erf")
    labels = [s.label for s in chapter.steps]
    assert labels == ["sec:ntk-definition", "sec:ntk-infinite", "sec:ntk-closed",
                      "sec:ntk-variance", "sec:ntk-mean", "sec:ntk-numbers"]
    table = chapter.steps[-1].equations[0].expr
    net = Network("feedforward", "erf", EXAMPLE["sigma_w2"], EXAMPLE["sigma_b2"])
    mean = ntk_mean_correction(net, EXAMPLE["depth"])
    var = ntk_fluctuations(net, EXAMPLE["depth"])
    for row, m, v in zip(table.tolist(), mean, var):
        assert abs(float(row[2]) - m["ntk_correction"]) < 1e-6 * max(1, abs(m["ntk_correction"]))
        assert abs(float(row[3]) - v["ntk_variance"]) < 1e-6 * max(1, v["ntk_variance"])
    # the closed form shown is ReLU's: at sigma_b2 = 0, r = sigma_w2/2,
    # H(T) = T q0 r^(T-1) + (1 - r^T)/(1 - r)
    relu = chapter.steps[2].equations[0].expr.rhs
    r = sp.Rational(1, 2)
    value = relu.subs({S.sigma_b2: 0, S.q0: 3, S.sigma_w2: 2 * r, S.T: 5})
    assert sp.nsimplify(value) == 5 * 3 * r**4 + (1 - r**5) / (1 - r)


def test_in_the_paper_and_latex():
    assert "ntk" in chapter_names()
    tex = ntk_chapter("tanh").to_latex()
    assert r"\label{sec:ntk-mean}" in tex and "langle" in tex
