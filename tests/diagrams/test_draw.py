"""TikZ-Feynman sources compile with lualatex; PNGs are written."""

import shutil

import pytest

from nnqft.diagrams import make_diagram
from nnqft.diagrams.draw import draw_png, tikz_body, write_drawings
from nnqft.diagrams.phi4 import generate_diagrams


def test_tikz_source_lists_every_propagator():
    for d in generate_diagrams(2, 3) + generate_diagrams(0, 3):
        body = tikz_body(d.graph)
        drawn = body.count(" -- [") - body.count("draw=none")
        assert drawn == d.graph.number_of_edges()
        assert body.count("particle=") == d.n_legs


def test_directed_lines_become_fermion_arrows(tmp_path):
    g = make_diagram(
        [
            ("a", "b", {"kind": "response", "directed": True, "head": "a"}),
            ("b", "c", {"kind": "correlator"}),
        ],
        legs={"a": 1, "c": 2},
    )
    body = tikz_body(g)
    assert "fermion" in body and "scalar" in body
    assert draw_png(g, tmp_path / "x.png").stat().st_size > 1000


@pytest.mark.skipif(shutil.which("lualatex") is None, reason="lualatex not installed")
def test_tikz_compiles_with_lualatex(tmp_path):
    diagrams = generate_diagrams(2, 2) + generate_diagrams(4, 2, one_pi=True)
    index = write_drawings(diagrams, tmp_path, compile_pdf=True)
    assert len(index) == len(diagrams)
    assert (tmp_path / "diagrams.pdf").stat().st_size > 1000


def test_word_leg_labels_are_upright():
    g = make_diagram([("a", "b", {"kind": "correlator"})], legs={"a": "source", "b": 2})
    body = tikz_body(g)
    assert r"particle=\(\mathrm{source}\)" in body and r"particle=\(2\)" in body
