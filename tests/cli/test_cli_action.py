"""`nnqft action` and `nnqft paper`, end to end through the console entry point."""

import json
import re
import shutil
import subprocess
import sys

import pytest
import sympy as sp

from nnqft.derive.document.latex import tex_engine
from nnqft.rules import symbols as S

needs_tex = pytest.mark.skipif(
    tex_engine() is None, reason="no TeX engine (latexmk or pdflatex) installed"
)
LOCALS = {"sigma_w2": S.sigma_w2, "sigma_b2": S.sigma_b2, "q": S.q, "q_star": sp.Symbol("q_star")}


def run(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "nnqft", *args], capture_output=True, text=True, timeout=300, cwd=cwd
    )


def test_action_json_contract():
    proc = run("action", "--arch", "feedforward", "--activation", "relu", "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)  # exactly one JSON object
    assert out["arch"] == "feedforward" and out["bias"] is None and out["activation"] == "relu"
    assert out["lyapunov_exponent"] == "log(chi_1)/2"
    assert out["critical_sigma_w2"] == 2
    length = sp.sympify(out["length_map_specialised"], locals=LOCALS)
    assert sp.simplify(length - (S.sigma_w2 * S.q / 2 + S.sigma_b2)) == 0
    assert "imaginary axis" in out["sign_convention"]
    titles = [s["title"] for s in out["steps"]]
    assert titles[0] == "The network" and titles[-1] == "The edge of chaos"
    assert all(eq["latex"] for s in out["steps"] for eq in s["equations"])


def test_action_text_recurrent_fresh():
    proc = run("action", "--arch", "recurrent", "--bias", "fresh")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("Recurrent network, fresh bias: 15 steps")
    # mathematics a reader reads, not sympy's constructors
    for raw in ("GaussianMean(", "Lambda(", "Derivative(", "zt[", "**"):
        assert raw not in proc.stdout, raw
    assert "length map        sigma_b2 + sigma_w2*E_{u~N(0,q)}[phi(u)^2]" in proc.stdout
    assert "chi_1             sigma_w2*E_{u~N(0,q_star)}[phi'(u)^2]" in proc.stdout
    assert "lambda_max = log(chi_1)/2" in proc.stdout


@pytest.mark.parametrize(
    "args,message",
    [
        (["--arch", "convolutional"], "unknown architecture 'convolutional'"),
        (["--arch", "recurrent", "--bias", "frsh"], "unknown bias convention 'frsh'"),
        (["--arch", "feedforward", "--bias", "shared"], "applies to recurrent nets only"),
        (["--activation", "tnah"], "unknown activation 'tnah'"),
        (["--latex", "/nonexistent/dir/x.tex"], "does not exist"),
    ],
)
def test_bad_input_one_line_exit_2(args, message):
    proc = run("action", *args)
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], proc.stderr


def test_action_writes_latex_and_markdown(tmp_path):
    proc = run(
        "action", "--arch", "recurrent", "--latex", "d.tex", "--markdown", "d.md", cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    tex = (tmp_path / "d.tex").read_text()
    assert tex.startswith(r"\documentclass") and r"\tilde{z}" in tex
    assert (tmp_path / "d.md").read_text().startswith("# Recurrent network, shared bias")


@needs_tex
def test_action_pdf(tmp_path):
    proc = run("action", "--arch", "feedforward", "--pdf", "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["pdf_file"].endswith("nnqft-action-feedforward.pdf")
    assert (tmp_path / "nnqft-action-feedforward.pdf").stat().st_size > 10_000


@needs_tex
def test_paper_compiles_with_zero_errors(tmp_path):
    proc = run("paper", "--out", str(tmp_path / "paper"), "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["latex_errors"] == 0 and out["overfull_boxes"] == 0
    assert out["pdf"] and out["pdf_skipped"] is None
    assert out["chapters"][:4] == [
        "Introduction",
        "Conventions",
        "Feedforward network",
        "Recurrent network, shared bias",
    ]
    assert out["equations"] > 100
    # a short paper: a bibliography, every reference resolved, no code names in titles
    folder = tmp_path / "paper"
    assert (folder / "nnqft.bib").is_file() and out["bibliography"] == str(folder / "nnqft.bib")
    bbl = (folder / "nnqft-paper.bbl").read_text()
    assert bbl.count(r"\bibitem") >= 9 and "Sompolinsky" in bbl and "Grosvenor" in bbl
    log = (folder / "nnqft-paper.log").read_text()
    assert out["undefined_references"] == 0
    assert not re.search(r"(Reference|Citation) `[^']*' .*undefined", log)
    assert "There were undefined references" not in log
    tex = (folder / "nnqft-paper.tex").read_text()
    assert r"\appendix" in tex and r"\section{Provenance}" in tex
    assert "Derived by" not in tex  # the provenance footers moved into the appendix
    titles = re.findall(r"\\(?:sub)?section\{([^}]*(?:\{[^}]*\}[^}]*)*)\}", tex)
    assert len(titles) > 30
    mine = [t for t in titles if not t.startswith("Loop corrections")]  # see test_paper.py
    for title in mine:
        assert not re.search(r"\b[a-z0-9]+_[a-z0-9_]+\b|nnqft\.|[a-z]+-[a-z-]+/[a-z]+", title), (
            title
        )
    assert "! " not in "\n".join(line[:2] for line in log.splitlines())
    if shutil.which("pdftoppm"):  # the PDF renders as a reader sees it
        png = tmp_path / "page"
        subprocess.run(
            ["pdftoppm", "-r", "40", "-png", "-f", "1", "-l", "1", out["pdf"], str(png)],
            check=True,
            timeout=60,
        )
        assert any(p.stat().st_size > 5_000 for p in tmp_path.glob("page*.png"))


def test_action_method_names_quadrature():
    proc = run("action", "--activation", "abs(z)", "--json")
    out = json.loads(proc.stdout)
    assert out["method"] != "closed form"  # chi_1 of |z| is integrated numerically


def test_paper_without_tex_writes_the_source(tmp_path):
    """With no TeX engine on PATH the paper is still written and the skip is reported."""
    import os

    env = dict(os.environ, PATH=os.path.dirname(sys.executable))
    proc = subprocess.run(
        [sys.executable, "-m", "nnqft", "paper", "--out", str(tmp_path), "--json"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["pdf"] is None and "no TeX engine" in out["pdf_skipped"]
    assert (tmp_path / "nnqft-paper.tex").exists()


def test_paper_out_must_be_a_folder(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    proc = run("paper", "--out", str(f))
    assert proc.returncode == 2 and "not a folder" in proc.stderr


def test_action_writes_a_valid_notebook(tmp_path):
    nbformat = pytest.importorskip("nbformat", reason="nbformat is in the dev extra")
    path = tmp_path / "erf.ipynb"
    proc = run("action", "--activation", "erf", "--notebook", str(path), "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["notebook_file"] == str(path)
    node = nbformat.read(path, as_version=4)
    nbformat.validate(node)
    code = "".join(c.source for c in node.cells if c.cell_type == "code")
    assert "kernel('mft/length-map/erf'" in code and "kernel('mft/chi1/erf'" in code
    bad = run("action", "--notebook", str(tmp_path / "x.txt"))
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1
