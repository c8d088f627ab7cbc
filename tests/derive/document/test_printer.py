"""nnqft's one LaTeX printer (derive/document/printer.py): declared settings, the naming
policy, the typesetting rules, and one string for one expression wherever it is printed
(documents, ``nnqft correlator --json``, ``nnqft export --lang latex``, ``nnqft rules``).
"""

import json
import os
import re
import subprocess
import sys

import pytest
import sympy as sp

from nnqft.derive.document import field_theory as FT
from nnqft.derive.document.latex import equation_latex, render_document
from nnqft.derive.document.printer import NnqftLatexPrinter, latex, rules_latex, symbol_latex
from nnqft.derive.export.base import export
from nnqft.derive.formulas import get_formula, list_formulas
from nnqft.derive.loops.amplitudes import correlator
from nnqft.errors import InvalidType
from nnqft.rules import symbols as S
from nnqft.rules.feynman import MODELS, get_rules, linear_network_rules
from nnqft.rules.network import Network


def test_settings_are_declared_and_unknown_ones_rejected():
    assert NnqftLatexPrinter._default_settings["ln_notation"] is True
    assert NnqftLatexPrinter._default_settings["inv_trig_style"] == "full"
    with pytest.raises(InvalidType, match="unknown LaTeX setting 'bogus'"):
        latex(S.N, bogus=1)
    assert latex(sp.log(S.N), ln_notation=False) == r"\log{\left(N \right)}"


@pytest.mark.parametrize(
    "name,tex",
    [
        ("sigma_w2", r"\sigma_w^2"),
        ("sigma_b2", r"\sigma_b^2"),
        ("q0", "q_0"),
        ("q12", "q_{12}"),
        ("q_star", "q^{*}"),
        ("lambda_max", r"\lambda_{\max}"),
        ("g_vertex", r"g_{\mathrm{vertex}}"),
        ("N", None),
        ("T", None),
    ],
)
def test_symbol_policy(name, tex):
    assert symbol_latex(name) == tex


@pytest.mark.parametrize(
    "expr,tex",
    [
        (S.sigma_w2**2, r"\sigma_w^4"),
        (S.sigma_b2**5, r"\sigma_b^{10}"),
        (S.sigma_w2**S.T, r"\sigma_w^{2 T}"),
        (S.sigma_w2 ** (S.T - 1), r"\sigma_w^{2 T - 2}"),
        (S.sigma_w2**-S.T, r"\sigma_w^{- 2 T}"),
        (S.sigma_w2**-2, r"\frac{1}{\sigma_w^4}"),
        (sp.sqrt(S.sigma_w2), r"\sigma_w"),
        (S.sigma_w2 ** sp.Rational(3, 2), r"\sigma_w^3"),
        (S.q0 * S.sigma_w2**2 / S.N, r"\frac{q_0 \sigma_w^4}{N}"),
        (sp.Symbol("g_vertex"), r"g_{\mathrm{vertex}}"),
        (
            sp.Eq(sp.Symbol("g_vertex"), S.sigma_w2 / S.N),
            r"g_{\mathrm{vertex}} = \frac{\sigma_w^2}{N}",
        ),
        (sp.digamma(S.N / 2), r"\psi\left(\frac{N}{2}\right)"),
        (sp.asin(S.q12), r"\arcsin{\left(q_{12} \right)}"),
    ],
)
def test_typesetting(expr, tex):
    assert latex(expr) == tex


def test_broken_products_get_sized_brackets():
    frac = sp.Eq(
        S.q, S.q0 * (S.sigma_w2 / (S.N + 1) + S.sigma_b2 / (S.N + 2) + S.T / (S.N + 3)) / 2
    )
    strut = r"\vphantom{\frac{1}{1}}"
    assert equation_latex(frac, width=12) == (
        rf"\begin{{aligned}}q &= \frac{{q_0}}{{2}} \left[{strut}\frac{{T}}{{N + 3}}\right. \\ "
        r"&\quad + \frac{\sigma_b^2}{N + 2} \\ "
        rf"&\quad \left.{strut}+ \frac{{\sigma_w^2}}{{N + 1}}\right]\end{{aligned}}"
    )
    plain = sp.Eq(S.q, (S.sigma_w2 + S.sigma_b2) / (S.N + 1))
    assert equation_latex(plain, width=6) == (
        r"\begin{aligned}q &= \frac{1}{N + 1} \left[\sigma_b^2\right. \\ "
        r"&\quad \left.+ \sigma_w^2\right]\end{aligned}"
    )


def test_rules_table_prints_with_the_printer():
    tex = rules_latex(linear_network_rules("feedforward"))
    assert tex.splitlines()[0] == r"\begin{tabular}{llll}"
    assert r"& $\frac{\sigma_w^2}{N}$, $K(t,s) = \delta_{ts}$ &" in tex
    assert r"& $\sigma_b^2$ &" in tex
    for name in MODELS:
        assert rules_latex(get_rules(name)).endswith(r"\end{tabular}")


def _export_body(fid):
    (line,) = [x for x in export(fid, "latex").splitlines() if x.startswith(r"  \operatorname")]
    return line.split(") = ", 1)[1]


@pytest.mark.parametrize(
    "fid,observable",
    [("linear-feedforward/mean", "mean"), ("linear-feedforward/variance", "variance")],
)
def test_one_string_for_one_expression(fid, observable):
    """correlator's latex, the export's body and the document's equation are one string."""
    result = correlator(Network("feedforward", "linear"), observable, exact=True)
    assert result.to_dict()["latex"] == _export_body(fid) == latex(get_formula(fid).expression)
    if observable == "mean":  # short enough to stand on one line in the document
        doc = result.derivation().to_latex()
        assert rf"\mathbb{{E}}_{{W,b}}\left[Q(T)\right] = {result.latex}" in doc


def _run(*args):
    env = dict(os.environ)
    out = subprocess.run(
        [sys.executable, "-m", "nnqft", *args], capture_output=True, text=True, env=env, timeout=300
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


@pytest.mark.slow
def test_cli_outputs_agree_and_never_print_raw_subscripts(tmp_path):
    """``nnqft correlator --json`` and ``nnqft export --lang latex`` print one string; no
    output of a sample (CLI, exports of every formula, documents, rules) holds
    ``\\sigma_{w2}`` or a raw name."""
    data = json.loads(
        _run("correlator", "--arch", "feedforward", "--observable", "mean", "--exact", "--json")
    )
    exported = _run("export", "linear-feedforward/mean", "--lang", "latex")
    assert f") = {data['latex']}\n" in exported
    outputs = [
        data["latex"],
        exported,
        _run("rules", "--model", "linear-recurrent-fresh", "--latex"),
    ]
    outputs += [export(fid, "latex") for fid in list_formulas()]
    outputs += [
        json.loads(export(fid, "json"))["latex"] for fid in ("linear-feedforward/variance",)
    ]
    outputs.append(render_document(FT.field_theory("recurrent", "fresh", activation="tanh")))
    for text in outputs:
        assert not re.search(r"\\sigma_\{?[wb]2", text), text[:200]
        assert r"\left(\sigma_w^2\right)^" not in text
