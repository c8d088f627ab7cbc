"""The paper's apparatus: introduction, conventions, citations against the shipped BibTeX
file, labels and references, provenance appendix, titles in words.

Compiling the whole paper (bibliography, resolved references in the LaTeX log) is
tests/cli/test_cli_action.py::test_paper_compiles_with_zero_errors.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import sympy as sp

from nnqft.derive.document import field_theory as FT
from nnqft.derive.document import paper as P
from nnqft.derive.document.latex import compile_pdf, tex_engine

#: a code name in a title: snake_case identifiers, module paths, formula ids
CODE_NAME = re.compile(r"\b[a-z0-9]+_[a-z0-9_]+\b|nnqft\.|\b[a-z]+(-[a-z]+)+/[a-z]+")

REQUIRED = {
    "MartinSiggiaRose1973": ("Martin", "1973", "10.1103/PhysRevA.8.423"),
    "Janssen1976": ("Janssen", "1976", "10.1007/BF01316547"),
    "DeDominicis1976": ("De Dominicis", "1976", "10.1051/jphyscol:1976138"),
    "SompolinskyCrisantiSommers1988": ("Sompolinsky", "1988", "10.1103/PhysRevLett.61.259"),
    "Poole2016": ("Poole", "2016", "1606.05340"),
    "Schoenholz2017": ("Schoenholz", "2017", "1611.01232"),
    "HeliasDahmen2020": ("Helias", "2020", "10.1007/978-3-030-46444-8"),
    "RobertsYaidaHanin2022": ("Roberts", "2022", "10.1017/9781009023405"),
    "GrosvenorJefferson2022": ("Grosvenor", "2022", "10.21468/SciPostPhys.12.3.081"),
}


@pytest.fixture(scope="module")
def paper():
    return P.paper_document(only=["field-theory", "examples"])


def test_bibliography_ships_with_the_package_and_holds_the_references():
    assert P.BIBLIOGRAPHY.is_file()
    text = P.BIBLIOGRAPHY.read_text()
    entries = P.bibliography_keys()
    for key, (author, year, ident) in REQUIRED.items():
        assert key in entries and author in entries[key] and year in entries[key], key
        block = text[text.index("{" + key + ",") :].split("\n}", 1)[0]
        assert ident in block, key


def test_every_citation_is_in_the_bibliography_and_every_reference_is_cited(paper):
    cited = P.cited_keys(paper.chapters)
    assert cited <= set(P.bibliography_keys())
    assert set(REQUIRED) <= cited


def test_every_ref_points_to_a_label_of_the_document(paper, tmp_path):
    written = P.write_paper(paper, tmp_path)
    tex = written["tex"].read_text()
    labels = set(re.findall(r"\\label\{([^}]+)\}", tex))
    refs = set(re.findall(r"\\(?:eq)?ref\{([^}]+)\}", tex))
    assert refs and refs <= labels, refs - labels
    assert len(labels) == len(re.findall(r"\\label\{", tex))  # unique
    assert (tmp_path / "nnqft.bib").read_text() == P.BIBLIOGRAPHY.read_text()
    md = written["markdown"].read_text()
    assert r"\ref" not in md and r"\cite" not in md and "## References" in md


def test_titles_are_words(paper):
    for chapter in paper.chapters:
        assert not CODE_NAME.search(chapter.title), chapter.title
        for step in chapter.steps:
            assert not CODE_NAME.search(step.title), step.title


def test_loop_chapter_titles_are_words():
    from nnqft.derive.loops.amplitudes import loop_chapter

    for chapter in loop_chapter():
        assert not CODE_NAME.search(chapter.title), chapter.title


def test_conventions_define_the_measure_the_sign_and_the_depth_scales():
    conv = P.conventions_chapter()
    prose = " ".join(s.prose for s in conv.steps)
    assert "imaginary axis" in prose and "$Z = 1$" in prose and r"2\pi i" in prose
    names = {str(eq.expr.lhs) for s in conv.steps for eq in s.equations}
    assert {"chi_1", "chi_parallel", "chi_c", "xi_q", "xi_c", "q(t)", "c(t)"} <= names


def test_recurrent_chapters_keep_only_what_differs():
    ff, shared, fresh = FT.field_theory_chapters()
    full = FT.field_theory("recurrent", "shared")
    kept = {s.label.split("-", 1)[1] for s in shared.steps}
    ff_steps = {s.label.split("-", 1)[1]: s for s in ff.steps}
    for step in full.steps:  # a step is dropped exactly when its equations are ff's
        key = step.label.split("-", 1)[1]
        same = [e.expr for e in step.equations] == [e.expr for e in ff_steps[key].equations]
        assert (key in kept) != same, key
    assert "W(t) = W" in shared.summary and "number of steps" in shared.summary
    assert r"\ref{sec:ff-mft}" in shared.summary
    assert "W(t) = W" in full.steps[0].prose and "$T$ is the number of steps" in full.steps[0].prose
    assert "model" in {s.label.split("-", 1)[1] for s in fresh.steps}


def test_depth_scales_are_derived_from_the_maps():
    """chi_parallel is dL/dq at q*, chi_c the slope of the normalised correlation map; for
    erf they equal the closed forms of derive/meanfield (a second route)."""
    from nnqft.derive.meanfield.maps import chi_c, chi_parallel
    from nnqft.derive.meanfield.saddle import specialise
    from nnqft.rules import action as A
    from nnqft.rules import symbols as S
    from nnqft.rules.network import Network

    d = FT.depth_scales(FT.network_for("feedforward"))
    erf = Network("feedforward", "erf")
    qs, c = sp.Symbol("qs", positive=True), sp.Symbol("cc")
    mine = specialise(d["chi_c"].rhs, erf.activation).xreplace({A.q_star: qs, FT._c_star: c})
    assert sp.simplify(mine - chi_c(erf, qs, c)) == 0
    par = specialise(d["chi_parallel"].rhs, erf.activation)  # sigma_w2 * GaussianMean(f, q*)
    (mean,) = par.atoms(A.GaussianMean)
    f = sp.lambdify(mean.args[0].variables, mean.args[0].expr, ["scipy", "numpy"])
    x, w = np.polynomial.hermite_e.hermegauss(120)  # E f(sqrt(q) z), z ~ N(0, 1)
    for value in (0.3, 1.7):  # the derived Gaussian mean by quadrature against the closed form
        got = float(np.sum(w * f(np.sqrt(value) * x)) / np.sqrt(2 * np.pi))
        want = float(chi_parallel(Network("feedforward", "erf", sigma_w2=1.0), value))
        assert abs(got - want) < 1e-10
    assert par.xreplace({mean: 1}) == S.sigma_w2
    assert d["xi_c"].rhs == -1 / sp.log(FT._chi_c)


def test_linear_and_relu_are_critical_at_zero_bias_only():
    for name, sc in (("linear", 1), ("relu", 2)):
        res = FT.activation_results(FT.get_activation(name))
        assert res["critical"].rhs == sc
        assert res["critical_condition_text"].startswith("at sigma_b2 = 0 only")
        assert "no finite q*" in res["critical_condition_text"]


@pytest.mark.skipif(tex_engine() != "latexmk", reason="needs latexmk (TeX Live)")
def test_paper_without_the_loop_chapter_compiles_with_its_bibliography(paper, tmp_path):
    written = P.write_paper(paper, tmp_path)
    result = compile_pdf(written["tex"])
    assert result.errors == [] and result.undefined == [] and result.overfull == []
    assert (tmp_path / "nnqft-paper.bbl").read_text().count(r"\bibitem") == len(REQUIRED)
    assert "Sompolinsky" in (tmp_path / "nnqft-paper.bbl").read_text()
