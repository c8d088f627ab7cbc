"""LaTeX and Markdown rendering of derivations; every generated document is compiled.

Compile tests skip, with the reason, when no TeX engine is installed (CI installs TeX Live).
"""

import re
import shutil

import pytest
import sympy as sp

from nnqft.derive.document import field_theory as FT
from nnqft.derive.document import latex as L
from nnqft.derive.document.derivation import Derivation, Equation, Step
from nnqft.derive.document.markdown import render_markdown
from nnqft.errors import NnqftError
from nnqft.rules import action as A
from nnqft.rules import symbols as S

needs_tex = pytest.mark.skipif(
    L.tex_engine() is None, reason="no TeX engine (latexmk or pdflatex) installed"
)

i, j = A.NEURON[:2]
t, s = A.TIME[:2]


@pytest.mark.parametrize(
    "expr,tex",
    [
        (S.sigma_w2, r"\sigma_w^2"),
        (S.sigma_b2 / 2, r"\frac{\sigma_b^2}{2}"),
        (S.sigma_w2**2, r"\sigma_w^4"),  # powers of a square merge (was (\sigma_w^2)^{2})
        (A.zt[i, t], r"\tilde{z}_{i}(t)"),
        (A.z[j, t - 1, A.REPLICA[0]], r"z^{\alpha}_{j}(t - 1)"),
        (A.W[i, j, t], r"W_{ij}(t)"),
        (A.Q(t, s), "Q(t, s)"),
        (A.Qt(t, s, A.REPLICA[0], A.REPLICA[1]), r"\tilde{Q}^{\alpha\beta}(t, s)"),
        (A.qf(t, 1, 2), "q^{12}(t)"),
        (A.zt1(t) ** 2, r"\tilde{z}(t)^{2}"),
        (sp.KroneckerDelta(t, s), r"\delta_{st}"),
        (
            sp.Sum(A.zt[i, t] ** 2, (i, 1, S.N), (t, 1, S.T)),
            r"\sum_{t=1}^{T}\sum_{i=1}^{N} \tilde{z}_{i}(t)^{2}",
        ),
        (A.chi_1, r"\chi_1"),
        (sp.log(A.chi_1) / 2, r"\frac{\ln{\left(\chi_1 \right)}}{2}"),
    ],
)
def test_printer_notation(expr, tex):
    assert L.latex(expr) == tex


def test_gaussian_means_print_as_integrals():
    f = sp.Lambda(A.u, sp.Derivative(A.phi(A.u), A.u) ** 2)
    assert (
        L.latex(A.GaussianMean(f, A.q_star)) == r"\int \mathcal{D}z\, \phi'(\sqrt{q^{*}}\, z)^{2}"
    )
    g = sp.Lambda((A.u1, A.u2), A.phi(A.u1) * A.phi(A.u2))
    tex = L.latex(A.BivariateGaussianMean(g, S.q11, S.q22, S.q12))
    assert tex == r"\int \mathcal{D}z_1\,\mathcal{D}z_2\, \phi(u_1) \phi(u_2)"


def test_no_raw_names_in_documents():
    tex = FT.field_theory("recurrent", "shared", activation="erf").to_latex()
    body = tex.split(r"\begin{document}")[1]
    math = " ".join(re.findall(r"\\begin\{equation\}(.*?)\\end\{equation\}", body, re.S))
    for raw in ("sigma_w2", "sigma_b2", "zt", "q_star", "Qt", "GaussianMean", "Lambda"):
        assert raw not in math, raw


def _expected_blocks(derivation):
    out = []
    for step in derivation.steps:
        for eq in step.equations:
            tex = L.equation_latex(eq.expr)
            label = rf"\label{{{eq.label}}}" if eq.label else ""
            if eq.note:
                note = rf"\text{{{L._escape_text(eq.note)}}}"
                beside = rf"{tex}\qquad{note}{label}"
                below = rf"\begin{{gathered}}{tex} \\ {note}\end{{gathered}}{label}"
                out.append((beside, below))
            else:
                out.append((tex + label,))
    return out


@pytest.mark.parametrize("arch,bias", [("feedforward", None), ("recurrent", "fresh")])
def test_every_displayed_equation_is_an_engine_object(arch, bias):
    """The document's math is exactly the printer's output for the derivation's sympy
    objects, in order: no equation comes from a template string."""
    d = FT.field_theory(arch, bias, activation="tanh")
    tex = d.to_latex()
    blocks = re.findall(r"\\begin\{equation\}\n(.*?)\n\\end\{equation\}", tex, re.S)
    expected = _expected_blocks(d)
    assert len(blocks) == len(expected) == len(d.equations()) > 40
    for block, forms in zip(blocks, expected):
        assert block in forms


def test_long_equations_are_broken_at_terms():
    d = FT.field_theory("feedforward", steps=("averaged",))
    tex = L.equation_latex(d.steps[0].equations[1].expr)
    assert tex.startswith(r"\begin{aligned}") and r"\\ &\quad" in tex


def test_markdown_has_every_equation():
    d = FT.field_theory("feedforward", steps=("model", "saddle", "edge"))
    md = render_markdown(d)
    assert md.count("$$") == 2 * len(d.equations())
    assert md.startswith("# Feedforward network")
    paper = render_markdown([d, d], title="Two")
    assert paper.startswith("# Two") and paper.count(". Feedforward network\n") == 2


def test_escape_text_keeps_math():
    assert L._escape_text("a_b & $x_1$ 50%") == r"a\_b \& $x_1$ 50\%"


def test_compile_reports_missing_engine(tmp_path, monkeypatch):
    f = tmp_path / "x.tex"
    f.write_text("x")
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(L.TexNotFound, match="no TeX engine"):
        L.compile_pdf(f)


@needs_tex
def test_compile_error_is_reported(tmp_path):
    f = tmp_path / "bad.tex"
    f.write_text(r"\documentclass{article}\begin{document}$\frac{1}$\end{document}")
    with pytest.raises(NnqftError, match="LaTeX failed on bad.tex"):
        L.compile_pdf(f)


DOCUMENTS = [
    ("feedforward", None, None),
    ("feedforward", None, "relu"),
    ("recurrent", "shared", "tanh"),
    ("recurrent", "fresh", "erf"),
]


@needs_tex
@pytest.mark.parametrize("arch,bias,activation", DOCUMENTS)
def test_documents_compile_without_errors_or_overfull_boxes(tmp_path, arch, bias, activation):
    d = FT.field_theory(arch, bias, activation)
    f = tmp_path / "derivation.tex"
    f.write_text(d.to_latex())
    result = L.compile_pdf(f)
    assert result.pdf.exists() and result.pdf.stat().st_size > 10_000
    assert result.errors == []
    assert result.overfull == [], result.overfull[:3]


@needs_tex
def test_examples_chapter_compiles(tmp_path):
    d = FT.examples_chapter(activation="sin")
    assert [s.title for s in d] == [
        "The linear network",
        "Rectified linear units (ReLU)",
        "The error function",
        "The hyperbolic tangent",
        r"$\phi(z) = \sin{\left(z \right)}$",
    ]
    f = tmp_path / "examples.tex"
    f.write_text(L.render_document([d], title="Examples"))
    result = L.compile_pdf(f)
    assert result.errors == [] and result.overfull == []


def test_render_document_rejects_non_derivations():
    with pytest.raises(NnqftError):
        L.render_document(["not a derivation"])
    with pytest.raises(NnqftError):
        L.compile_pdf("/nonexistent/file.tex")


def test_notes_and_labels_render():
    d = Derivation("N", (Step("S", "p.", (Equation(sp.Eq(S.q, 1), note="a_b", label="eq:q"),)),))
    tex = d.to_latex()
    assert r"q = 1\qquad\text{a\_b}\label{eq:q}" in tex
