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


def test_finite_width_edge_step():
    """The edge step shows the engine's closed forms, and its prose survives as LaTeX."""
    from nnqft.derive.finite_width.scale_invariant_edge import scale_invariant_edge

    chapter = fluctuation_chapter("tanh")
    step = next(s for s in chapter.steps if s.label == "sec:fl-edge")
    relu = next(e.expr for e in step.equations if "relu" in str(e.expr.lhs))
    assert sp.simplify(relu.rhs - scale_invariant_edge("relu")["sigma_w2_critical"]) == 0
    # a non-raw string would have turned \frac and \rangle into control characters
    assert r"\frac12" in step.prose and "\f" not in step.prose and "\r" not in step.prose
