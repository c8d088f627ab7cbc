"""TikZ-Feynman sources compile with lualatex; PNGs are written."""

import re
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


def test_plain_tikz_draws_time_labels_where_the_diagram_has_them():
    from nnqft.diagrams.draw import line_kinds, tikz_picture
    from nnqft.diagrams.network import network_diagrams
    from nnqft.rules.network import Network

    diagrams = network_diagrams(Network("recurrent", bias="shared", depth=3), 1)
    for d in diagrams:
        pic = tikz_picture(d.graph)
        times = {t for _, t in d.graph.nodes(data="time") if t is not None}
        assert all(f"{{${t}$}}" in pic for t in times)
        assert pic.count("nnqft vertex") == 2 and pic.count("nnqft disorder") == 1
        assert ("correlator" in line_kinds(d.graph)) == (d.source == "sigma_b2")


def test_plain_tikz_of_tadpole_and_sunset():
    """phi^4 diagrams by the generic layout: the tadpole's self-loop a loop at its vertex,
    the sunset's three lines bent apart (each drawn once)."""
    from nnqft.diagrams.draw import tikz_picture

    tadpole = make_diagram([(1, "v"), ("v", 2), ("v", "v")], legs={1: 1, 2: 2})
    pic = tikz_picture(tadpole)
    assert re.search(r"\((v\d)\) to\[out=\d+,in=\d+,looseness=\d+\] \(\1\)", pic)
    sunset = make_diagram(
        [(1, "a"), ("a", "b"), ("a", "b"), ("a", "b"), ("b", 2)], legs={1: 1, 2: 2}
    )
    pic = tikz_picture(sunset)
    assert pic.count("bend left=") == 2 and pic.count(r"\draw") == 5
