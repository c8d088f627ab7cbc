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

import re

from ...errors import InvalidParameter

__all__ = ["render_markdown"]


def _numbers(chapters, single: bool) -> dict:
    """{label: what a reader sees}: chapters "C", steps "C.K", equations "(C.N)"."""
    from .latex import chapter_label, step_label

    out = {}
    for c, chapter in enumerate(chapters, 1):
        out[chapter_label(chapter, c)] = str(c)
        number = 0
        for k, step in enumerate(chapter.steps, 1):
            out[step_label(chapter, c, k)] = str(k) if single else f"{c}.{k}"
            for eq in step.equations:
                number += 1
                if eq.label:
                    out[eq.label] = f"({c}.{number})"
    out["app:provenance"] = "A"
    return out


def _prose(text: str, numbers: dict) -> str:
    r"""LaTeX cross references and citations in prose as plain text: \ref -> the number,
    \eqref -> (C.N), \cite{a,b} -> [a, b], ~ -> a space (inside $...$ nothing changes).

    >>> _prose(r"Section~\ref{x}, Eq.~\eqref{e} \cite{A1,B2}", {"x": "2", "e": "(2.1)"})
    'Section 2, Eq. (2.1) [A1, B2]'
    """
    parts = re.split(r"(\$[^$]*\$)", text)
    out = []
    for part in parts:
        if not (part.startswith("$") and part.endswith("$") and len(part) > 1):
            part = re.sub(r"\\eqref\{([^}]*)\}", lambda m: numbers.get(m.group(1), "(?)"), part)
            part = re.sub(r"\\ref\{([^}]*)\}", lambda m: numbers.get(m.group(1), "?"), part)
            part = re.sub(
                r"\\cite\{([^}]*)\}",
                lambda m: "[" + ", ".join(k.strip() for k in m.group(1).split(",")) + "]",
                part,
            )
            part = part.replace("~", " ")
        out.append(part)
    return "".join(out)


def render_markdown(derivations, title: str | None = None, references: dict | None = None) -> str:
    """Markdown for one :class:`~.derivation.Derivation` or a list (chapters).

    Cross references become the numbers a reader sees, citations ``[key]``; where each
    step came from is listed at the end (Provenance), then ``references`` ({key: text},
    e.g. from :func:`nnqft.derive.document.paper.bibliography_keys`) for the cited keys.
    """
    from .derivation import Derivation
    from .latex import latex

    if isinstance(derivations, Derivation):
        chapters, single = [derivations], True
    else:
        chapters, single = list(derivations), False
        if not chapters or not all(isinstance(c, Derivation) for c in chapters):
            raise InvalidParameter("render_markdown needs a Derivation or a list of them")
    numbers = _numbers(chapters, single)
    lines = []
    if not single:
        lines += [f"# {title or 'nnqft derivations'}", ""]
    provenance = []
    for c, chapter in enumerate(chapters, 1):
        lines += [f"{'#' if single else '##'} {'' if single else f'{c}. '}{chapter.title}", ""]
        if chapter.summary:
            lines += [_prose(chapter.summary, numbers), ""]
        number = 0
        for k, step in enumerate(chapter.steps, 1):
            head = f"{k}" if single else f"{c}.{k}"
            lines += [f"{'##' if single else '###'} {head}. {step.title}", ""]
            lines += [_prose(step.prose, numbers), ""]
            for eq in step.equations:
                number += 1
                note = rf" \quad \text{{{eq.note}}}" if eq.note else ""
                lines += [f"$${latex(eq.expr)}{note} \\tag{{{c}.{number}}}$$", ""]
            for figure in step.figures:  # the drawings are in the LaTeX/PDF; here the words
                number += 1
                facts = f"; {_prose(figure.facts, numbers)}" if figure.facts else ""
                lines += [f"*{figure.caption}*{facts}.", ""]
                lines += [f"$${latex(figure.equation.expr)} \\tag{{{c}.{number}}}$$", ""]
            if step.source:
                provenance.append(f"- {head} {step.title}: `{step.source}`")
    if provenance:
        lines += [f"{'##' if single else '##'} Provenance", "", *provenance, ""]
    cited = sorted(set(re.findall(r"\[([A-Za-z0-9, ]+)\]", "\n".join(lines))))
    keys = [k.strip() for group in cited for k in group.split(",")]
    if references:
        used = [k for k in references if k in keys]
        if used:
            lines += ["## References", "", *(f"- [{k}] {references[k]}" for k in used), ""]
    return "\n".join(lines)
