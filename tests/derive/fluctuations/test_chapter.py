"""The fluctuation chapter: its equations are the engine's objects and numbers."""

import sympy as sp

from nnqft.derive.document.derivation import chapter_names
from nnqft.derive.finite_width.recursions import finite_width
from nnqft.derive.fluctuations.chapter import EXAMPLE, fluctuation_chapter
from nnqft.rules.network import Network


def test_chapter_steps_and_numbers():
    chapter = fluctuation_chapter("erf")
    labels = [s.label for s in chapter.steps]
    assert labels[0] == "sec:fl-collective" and "sec:fl-dictionary" in labels
    table = next(s for s in chapter.steps if s.label == "sec:fl-diagrams").equations[0].expr
    ref = finite_width(
        Network("feedforward", "erf", EXAMPLE["sigma_w2"], EXAMPLE["sigma_b2"], q0=1.0),
        EXAMPLE["depth"],
    )
    for row, r in zip(table.tolist(), ref):
        assert abs(float(row[2]) - r["K1"]) < 1e-7
        assert abs(float(row[3]) - (r["V"] + 2 * r["K0"] ** 2)) < 1e-6
    tex = chapter.to_latex()
    assert r"\langle \phi^{2} \rangle" in tex and "E_tanh" not in tex
    depth = next(s for s in chapter.steps if s.label == "sec:fl-depth")
    assert all(isinstance(e.expr, sp.Eq) for e in depth.equations)


def test_registered_in_the_paper():
    assert "fluctuations" in chapter_names()
