"""The notebook export: nbformat-valid, its Markdown carries every equation, and its code
cells (our own generated code) run and give the formula's value by a second route
(40-digit evalf of the registered expression)."""

from __future__ import annotations

import contextlib
import io
import json

import pytest
import sympy as sp

from nnqft.derive.document import notebook as NB
from nnqft.derive.document.field_theory import examples_chapter, field_theory
from nnqft.derive.document.printer import latex
from nnqft.derive.formulas import get_formula
from nnqft.errors import InvalidParameter

nbformat = pytest.importorskip("nbformat", reason="nbformat is in the dev extra")


@pytest.fixture(scope="module")
def notebook():
    chapters = [field_theory("feedforward", steps=("model", "mft")), examples_chapter()]
    formulas = NB.notebook_formulas(["relu", "erf"], linear=True)
    return NB.build_notebook(chapters, formulas, title="Test"), chapters, formulas


def test_notebook_validates_and_round_trips(notebook, tmp_path):
    nb, _, _ = notebook
    path = NB.write_notebook(nb, tmp_path / "t.ipynb")
    node = nbformat.read(path, as_version=4)
    nbformat.validate(node)
    assert json.loads(path.read_text())["nbformat"] == 4


def test_markdown_cells_hold_every_equation(notebook):
    nb, chapters, _ = notebook
    text = "\n".join(c["source"] for c in nb["cells"] if c["cell_type"] == "markdown")
    for chapter in chapters:
        for step in chapter.steps:
            assert step.title in text
            for eq in step.equations:
                assert f"$$ {latex(eq.expr)} $$" in text
    assert r"\ref{" not in text and r"\cite{" not in text


def test_code_cells_run_and_agree_with_the_formula(notebook):
    """Without nbclient (no Jupyter kernel here) the cells' source is run with exec: it is
    code this module generated from formula metadata, not user text."""
    nb, _, formulas = notebook
    code = [c["source"] for c in nb["cells"] if c["cell_type"] == "code"]
    assert len(code) == len(formulas) + 1 and len(formulas) >= 8
    namespace, out = {}, io.StringIO()
    with contextlib.redirect_stdout(out):
        for source in code:
            exec(compile(source, "<notebook cell>", "exec"), namespace)  # noqa: S102
    lines = out.getvalue().splitlines()
    assert len(lines) == len(formulas)
    for fid, line in zip(formulas, lines):
        assert line.startswith(fid + " ")
        value = float(line.rsplit(" ", 1)[1])
        f = get_formula(fid)
        point = NB._sample_point(f)
        subs = {s: sp.Rational(str(point[s.name])) for s in f.arguments}
        want = float(sp.N(f.expression.doit().xreplace(subs), 40))
        assert abs(value - want) <= 1e-12 * max(1.0, abs(want)), fid


def test_write_notebook_without_nbformat_says_what_to_install(monkeypatch, tmp_path):
    import sys

    monkeypatch.setitem(sys.modules, "nbformat", None)
    with pytest.raises(InvalidParameter, match=r"pip install 'nnqft\[notebook\]'"):
        NB.write_notebook({"cells": []}, tmp_path / "x.ipynb")
