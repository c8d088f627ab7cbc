"""Markdown of a derivation against the derivation itself and its TeX rendering: every
step a heading, every equation one numbered $$ block of the one LaTeX printer."""

import re

import pytest

from nnqft.derive.document.field_theory import field_theory
from nnqft.derive.document.latex import latex
from nnqft.derive.document.markdown import render_markdown
from nnqft.errors import InvalidParameter


@pytest.fixture(scope="module")
def derivation():
    return field_theory("feedforward")


def test_headings_and_equation_blocks_follow_the_steps(derivation):
    md = render_markdown(derivation)
    headings = re.findall(r"^## \d+\. (.*)$", md, flags=re.M)
    assert headings == [step.title for step in derivation.steps]
    blocks = re.findall(r"^\$\$(.*) \\tag\{1\.(\d+)\}\$\$$", md, flags=re.M)
    equations = [eq for step in derivation.steps for eq in step.equations]
    assert [int(n) for _, n in blocks] == list(range(1, len(equations) + 1))
    for (body, _), eq in zip(blocks, equations):
        assert body.startswith(latex(eq.expr))
    # the TeX document has one equation environment per Markdown block
    assert derivation.to_latex().count(r"\begin{equation") == len(blocks)


def test_chapters_number_their_equations_and_refuse_other_objects(derivation):
    md = render_markdown([derivation, derivation], title="Two")
    assert md.startswith("# Two") and r"\tag{2.1}" in md
    assert md.count("\n## ") == 3 and "\n## Provenance\n" in md  # two chapters, provenance
    with pytest.raises(InvalidParameter):
        render_markdown(["not a derivation"])
