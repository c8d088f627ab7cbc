r"""Markdown for derivations: headings, prose, and each equation as a ``$$ ... $$`` block
printed by :class:`~nnqft.derive.document.printer.NnqftLatexPrinter`
(GitHub and Jupyter render it).

>>> import sympy as sp
>>> from nnqft.derive.document.derivation import Derivation, Step
>>> from nnqft.rules import symbols as S
>>> md = render_markdown(Derivation("Demo", (Step("Map", "One line.", (sp.Eq(S.q, S.sigma_b2),)),)))
>>> print(md)
# Demo
<BLANKLINE>
## 1. Map
<BLANKLINE>
One line.
<BLANKLINE>
$$q = \sigma_b^2 \tag{1.1}$$
<BLANKLINE>
"""

from __future__ import annotations

from ...errors import InvalidParameter

__all__ = ["render_markdown"]


def render_markdown(derivations, title: str | None = None) -> str:
    """Markdown for one :class:`~.derivation.Derivation` or a list (chapters)."""
    from .derivation import Derivation
    from .latex import latex

    if isinstance(derivations, Derivation):
        chapters, single = [derivations], True
    else:
        chapters, single = list(derivations), False
        if not chapters or not all(isinstance(c, Derivation) for c in chapters):
            raise InvalidParameter("render_markdown needs a Derivation or a list of them")
    lines = []
    if not single:
        lines += [f"# {title or 'nnqft derivations'}", ""]
    for c, chapter in enumerate(chapters, 1):
        lines += [f"{'#' if single else '##'} {chapter.title}", ""]
        if chapter.summary:
            lines += [chapter.summary, ""]
        number = 0
        for k, step in enumerate(chapter.steps, 1):
            lines += [f"{'##' if single else '###'} {k}. {step.title}", "", step.prose, ""]
            for eq in step.equations:
                number += 1
                note = rf" \quad \text{{{eq.note}}}" if eq.note else ""
                lines += [f"$${latex(eq.expr)}{note} \\tag{{{c}.{number}}}$$", ""]
            if step.source:
                lines += [f"<sub>derived by `{step.source}`</sub>", ""]
    text = "\n".join(lines)
    return text.replace("\n<sub>derived by ``</sub>\n", "")
