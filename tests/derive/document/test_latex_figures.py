"""Every diagram of a correlator chapter drawn beside its value: a TikZ picture, its caption
in words, symmetry factor, power of N and closed form; one legend per chapter; the document
compiles with latexmk and the PDF shows each value (read back with pdftotext)."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from nnqft.derive.document.latex import compile_pdf, render_document, tex_engine
from nnqft.derive.loops.amplitudes import correlator
from nnqft.rules.network import Network

#: what a canonical id looks like (never shown to a reader)
ID_PIECES = re.compile(r"Lreadout|Lsource|V\[vertex=|\{kind=|directed=True")


@pytest.fixture(scope="module")
def chapters():
    shared = correlator(Network("recurrent", "linear", bias="shared"), "mean", order=1)
    ff = correlator(Network("feedforward", "linear"), "mean", order=1)
    return [(c, c.derivation()) for c in (shared, ff)]


def _blocks(tex: str) -> list[str]:
    return tex.split(r"\begin{minipage}[c]{0.3\textwidth}")[1:]


def test_every_diagram_has_its_picture_beside_its_value(chapters):
    for corr, d in chapters:
        (step,) = [s for s in d.steps if s.figures]
        assert len(step.figures) == len(corr.diagrams)
        tex = render_document(d)
        blocks = _blocks(tex)
        assert len(blocks) == len(corr.diagrams)
        for k, (block, diagram) in enumerate(zip(blocks, corr.diagrams), start=1):
            picture, _, rest = block.partition(r"\end{minipage}")
            assert picture.count(r"\begin{tikzpicture}") == 1
            assert picture.count("nnqft vertex") == 2 * diagram.chords  # two W per pair
            assert picture.count("nnqft disorder") == diagram.chords
            value = rest.split(r"\end{minipage}")[0]  # the column beside the picture
            assert f"D_{{{k}}}" in value and "symmetry factor" in value
            assert r"\begin{equation}" in value
            power = "N^{0}" if diagram.n_power == 0 else f"N^{{{diagram.n_power}}}"
            assert power in value
        assert tex.count("Lines of the drawings below") == 1  # the legend, once per chapter
        for diagram in corr.diagrams:
            assert diagram.id not in tex
        for figure in step.figures:
            assert not ID_PIECES.search(figure.caption), figure.caption


def test_captions_tell_the_classes_apart(chapters):
    corr, d = chapters[0]
    (step,) = [s for s in d.steps if s.figures]
    captions = [f.caption.split(": ", 1)[1] for f in step.figures]
    assert len(set(captions)) == len(captions), captions
    assert captions[:2] == ["bare bias line", "ladder (cactus, mean field)"]


@pytest.mark.skipif(tex_engine() != "latexmk", reason="needs latexmk (TeX Live)")
def test_the_chapter_compiles_and_the_pdf_shows_every_value(chapters, tmp_path):
    f = tmp_path / "loops.tex"
    f.write_text(render_document([d for _, d in chapters], title="Loop corrections"))
    result = compile_pdf(f)
    assert result.errors == [] and result.overfull == [], result.overfull[:3]
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext not installed: the .tex checks above stand")
    text = subprocess.run(
        ["pdftotext", str(result.pdf), "-"], capture_output=True, text=True, timeout=60
    ).stdout
    listed = sum(len(c.diagrams) for c, _ in chapters)
    assert text.count("symmetry factor") >= listed
    for corr, _ in chapters:
        for k in range(1, len(corr.diagrams) + 1):
            assert re.search(rf"D{k}\s*=", text), k
    assert "W pair: one double-trace vertex" in text and "response line" in text
