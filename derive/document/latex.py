r"""LaTeX for derivations: the document renderer and PDF compilation.

Every formula is printed by nnqft's one printer, :func:`nnqft.derive.document.printer.latex`
(re-exported here); this module breaks long equations into lines and lays out documents.

>>> from nnqft.rules import symbols as S
>>> print(latex(S.sigma_w2 / (2 * S.N)))
\frac{\sigma_w^2}{2 N}

:func:`render_document` turns a :class:`~nnqft.derive.document.derivation.Derivation` (or a list of
them, the chapters of a paper) into a complete amsmath document with numbered equations;
:func:`compile_pdf` runs latexmk (or pdflatex) when one is installed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import sympy as sp

from ...errors import InvalidParameter, NnqftError
from .printer import NnqftLatexPrinter, latex

__all__ = [
    "latex",
    "equation_latex",
    "render_document",
    "chapter_label",
    "step_label",
    "tex_engine",
    "compile_pdf",
    "CompileResult",
    "TexNotFound",
]

#: visible width (see :func:`_width`) above which an equation is broken into lines
BREAK_AT = 80


#: an invisible fraction: sizes the brackets of a broken product that holds fractions
_STRUT = r"\vphantom{\frac{1}{1}}"


def _width(tex: str) -> int:
    """A rough visible width of LaTeX math: commands count one glyph, \\left/\\right,
    braces, scripts markers, struts and spaces nothing, a fraction its wider part."""
    tex = tex.replace(_STRUT, "")
    tex = re.sub(r"\\(left|right|Bigl|Bigr|quad|qquad|,|;|!)", "", tex)
    while True:  # \frac{a}{b} -> the wider of a and b (innermost fractions first)
        m = re.search(r"\\frac\{([^{}]*)\}\{([^{}]*)\}", tex)
        if not m:
            break
        a, b = m.group(1), m.group(2)
        tex = tex[: m.start()] + (a if len(a) >= len(b) else b) + tex[m.end() :]
    tex = re.sub(r"\\[A-Za-z]+", "x", tex)
    return len(re.sub(r"[{}^_ ]", "", tex))


def equation_latex(expr, width: int = BREAK_AT) -> str:
    r"""LaTeX for one displayed equation; a long right-hand side is split into an
    ``aligned`` block: sums at their terms, and a product with a long sum inside as
    ``prefactor \left[ t_1 \right. \\ \left. + t_2 ... \right]``, recursively; the
    brackets are sized, at least a fraction tall where the lines hold fractions.

    >>> from nnqft.rules import symbols as S
    >>> equation_latex(sp.Eq(S.q, S.sigma_w2 + S.sigma_b2))
    'q = \\sigma_b^2 + \\sigma_w^2'
    >>> tex = equation_latex(sp.Eq(S.q, (S.sigma_w2 + S.sigma_b2) / (S.N + 1)), width=6)
    >>> print(tex.replace(r" \\ ", "\n"))
    \begin{aligned}q &= \frac{1}{N + 1} \left[\sigma_b^2\right.
    &\quad \left.+ \sigma_w^2\right]\end{aligned}
    """
    printer = NnqftLatexPrinter()
    if isinstance(expr, sp.Equality):
        lhs, rhs, rel = printer.doprint(expr.lhs), expr.rhs, "="
    else:
        lhs, rhs, rel = None, expr, None
    whole = printer.doprint(expr)
    if _width(whole) <= width or not isinstance(rhs, sp.Expr):
        return whole
    lines = _lines(printer, rhs, width)
    if len(lines) == 1:
        return whole
    head = f"{lhs} &{rel} " if lhs is not None else "&"
    body = head + lines[0] + "".join(rf" \\ &\quad {line}" for line in lines[1:])
    return rf"\begin{{aligned}}{body}\end{{aligned}}"


def _lines(printer, expr, width: int) -> list[str]:
    """Printed lines of ``expr``, each at most ``width`` characters where it can be broken."""
    tex = printer.doprint(expr)
    if _width(tex) <= width:
        return [tex]
    if isinstance(expr, sp.Add):
        lines, current = [], ""
        for k, term in enumerate(_ordered_terms(expr)):
            negative = k > 0 and term.could_extract_minus_sign()
            piece = _lines(printer, -term if negative else term, width - 2)
            if k:
                piece = [("- " if negative else "+ ") + piece[0]] + piece[1:]
            if len(piece) == 1 and (not current or _width(current) + _width(piece[0]) <= width):
                current = f"{current} {piece[0]}".strip()
                continue
            if current:
                lines.append(current)
            lines.extend(piece[:-1])
            current = piece[-1]
        lines.append(current)
        return lines
    if isinstance(expr, sp.Mul):
        factors = sp.Mul.make_args(expr)
        sums = [f for f in factors if isinstance(f, sp.Add)]
        if sums:
            big = max(sums, key=lambda f: _width(printer.doprint(f)))
            rest = sp.Mul(*[f for f in factors if f is not big])
            prefix = "-" if rest == -1 else ("" if rest == 1 else printer.doprint(rest) + " ")
            inner = _lines(printer, big, width - 8)
            if len(inner) > 1:
                # \left[ ... \right. and \left. ... \right]: each line's bracket is sized,
                # both at least a fraction tall when any line holds one
                strut = _STRUT if any(r"\frac" in line for line in inner) else ""
                return [
                    rf"{prefix}\left[{strut}{inner[0]}\right.",
                    *inner[1:-1],
                    rf"\left.{strut}{inner[-1]}\right]",
                ]
    return [tex]


def _ordered_terms(expr: sp.Add) -> list:
    """The terms of ``expr`` in the order the printer shows them."""
    printer = NnqftLatexPrinter()
    return list(printer._as_ordered_terms(expr, order=None))


# --- documents -----------------------------------------------------------------------------

_PREAMBLE = r"""\documentclass[11pt]{article}
\usepackage[T1]{fontenc}
\usepackage{lmodern}
\usepackage[margin=2.2cm]{geometry}
\usepackage{amsmath,amssymb}
\usepackage{longtable}
\usepackage{microtype}
\usepackage[hidelinks]{hyperref}
\allowdisplaybreaks
\emergencystretch=3em
\setlength{\parindent}{0pt}
\setlength{\parskip}{0.5em}
\numberwithin{equation}{section}
"""


#: prose commands kept as they are (cross references and citations): \\cite{key,...},
#: \\ref{label}, \\eqref{label}
_KEPT = r"\\(?:cite|ref|eqref)\{[A-Za-z0-9:_,.\- ]+\}"


def _escape_text(text: str) -> str:
    r"""Escape LaTeX specials in prose, leaving $...$ math, \cite, \ref and \eqref as they are.

    >>> print(_escape_text(r"see Section \ref{sec:a} and \cite{X1976}: a_b, N^2"))
    see Section \ref{sec:a} and \cite{X1976}: a\_b, N\textasciicircum{}2
    """
    parts = re.split(rf"(\$[^$]*\$|{_KEPT})", text)
    out = []
    for part in parts:
        if part.startswith("$") and part.endswith("$") and len(part) > 1:
            out.append(part)
        elif re.fullmatch(_KEPT, part):
            out.append(part)
        else:
            for ch, rep in (
                ("\\", r"\textbackslash{}"),
                ("&", r"\&"),
                ("%", r"\%"),
                ("#", r"\#"),
                ("_", r"\_"),
                ("{", r"\{"),
                ("}", r"\}"),
                ("^", r"\textasciicircum{}"),  # after the braces: its own stay
                ("~", r"\textasciitilde{}"),
            ):
                part = part.replace(ch, rep)
            out.append(part)
    return "".join(out)


def chapter_label(chapter, index: int) -> str:
    """The \\label of a chapter: its own ``label`` or ``sec:chapter-INDEX``."""
    return chapter.label or f"sec:chapter-{index}"


def step_label(chapter, index: int, k: int) -> str:
    """The \\label of step ``k`` (1-based) of chapter ``index``: its own or derived."""
    step = chapter.steps[k - 1]
    return step.label or f"{chapter_label(chapter, index)}-step-{k}"


def _provenance(chapters) -> list[str]:
    """The appendix: for every step, the engine function that derived its equations."""
    rows = []
    for c, chapter in enumerate(chapters, 1):
        for k, step in enumerate(chapter.steps, 1):
            if step.source:
                # module paths break after dots and underscores (the column is narrow)
                source = (
                    _escape_text(step.source)
                    .replace(",", ", ")
                    .replace(".", r".\allowbreak{}")
                    .replace(r"\_", r"\_\allowbreak{}")
                )
                rows.append(
                    rf"\ref{{{step_label(chapter, c, k)}}} & {_escape_text(step.title)} & "
                    rf"\texttt{{{source}}} \\"
                )
    if not rows:
        return []
    return [
        r"\appendix",
        r"\section{Provenance}\label{app:provenance}",
        "Every equation of this document is a sympy object computed by nnqft; the table "
        "names, for each subsection, the function of the engine that derived it (the "
        "Python module path).",
        r"\begin{small}",
        r"\begin{longtable}{@{}lp{0.36\textwidth}p{0.5\textwidth}@{}}",
        r"\hline section & step & derived by \\ \hline \endhead",
        *rows,
        r"\hline",
        r"\end{longtable}",
        r"\end{small}",
    ]


def _equation_with_note(eq) -> str:
    """The body of one numbered equation: the math, its note beside it (or below it when
    both would not fit on the line) and its label."""
    body = equation_latex(eq.expr)
    label = rf"\label{{{eq.label}}}" if eq.label else ""
    if not eq.note:
        return f"{body}{label}"
    note = rf"\text{{{_escape_text(eq.note)}}}"
    if _width(body) + len(eq.note) + 4 > BREAK_AT:
        return rf"\begin{{gathered}}{body} \\ {note}\end{{gathered}}{label}"
    return rf"{body}\qquad{note}{label}"


#: visible width of a value printed beside its drawing (the right column of a figure)
FIGURE_WIDTH = 46


def _figure_latex(figure) -> list[str]:
    """One drawing beside its caption, facts and value: two minipages side by side."""
    body = equation_latex(figure.equation.expr, width=FIGURE_WIDTH)
    label = rf"\label{{{figure.equation.label}}}" if figure.equation.label else ""
    return [
        r"\par\noindent\begin{minipage}[c]{0.3\textwidth}\centering",
        figure.tikz,
        r"\end{minipage}\hfill\begin{minipage}[c]{0.68\textwidth}",
        rf"\textit{{{_escape_text(figure.caption)}}}"
        + (f"; {_escape_text(figure.facts)}" if figure.facts else "")
        + ".",
        r"\begin{equation}",
        f"{body}{label}",
        r"\end{equation}",
        r"\end{minipage}\par\medskip",
    ]


def _legend_latex(kinds) -> list[str]:
    from ...diagrams.draw import tikz_legend

    return [
        r"\par\noindent\textit{Lines of the drawings below:}\par\smallskip",
        r"\noindent " + tikz_legend(kinds) + r"\par\medskip",
    ]


def _step_latex(step, label: str, legend: tuple = ()) -> list[str]:
    out = [rf"\subsection{{{_escape_text(step.title)}}}\label{{{label}}}", _escape_text(step.prose)]
    for eq in step.equations:
        out += [r"\begin{equation}", _equation_with_note(eq), r"\end{equation}"]
    if step.figures and legend:
        out += _legend_latex(legend)
    for figure in step.figures:
        out += _figure_latex(figure)
    return out


def _chapter_kinds(chapter) -> tuple:
    """The line kinds the chapter's drawings use, in order of first appearance."""
    kinds: list = []
    for step in chapter.steps:
        for figure in step.figures:
            kinds += [k for k in figure.kinds if k not in kinds]
    return tuple(kinds)


def render_document(
    derivations,
    title: str | None = None,
    preface: str = "",
    bibliography: str | None = None,
    abstract: str = "",
) -> str:
    r"""A complete LaTeX document (amsmath, numbered equations) for one derivation or a list
    of them (the chapters of a paper, one \section each).

    Every chapter and step carries a \label (its own or ``sec:chapter-C[-step-K]``), so
    prose can \ref them; where each step came from is listed in an appendix
    ("Provenance").  ``bibliography`` names a .bib file (without the suffix) for the
    \cite commands of the prose; ``abstract`` goes into an abstract environment.

    >>> from nnqft.derive.document.derivation import Derivation, Step, Equation
    >>> from nnqft.rules import symbols as S
    >>> d = Derivation("Demo", (Step("A step", "One sentence.",
    ...                              (Equation(sp.Eq(S.q, S.sigma_w2)),), "nnqft"),))
    >>> tex = render_document(d)
    >>> tex.count(r"\begin{equation}"), r"q = \sigma_w^2" in tex
    (1, True)
    """
    from .derivation import Derivation

    if isinstance(derivations, Derivation):
        chapters = [derivations]
        title = title or derivations.title
    else:
        chapters = list(derivations)
        if not chapters or not all(isinstance(c, Derivation) for c in chapters):
            raise InvalidParameter("render_document needs a Derivation or a list of them")
        title = title or "nnqft derivations"
    drawn = any(step.figures for chapter in chapters for step in chapter.steps)
    if drawn:
        from ...diagrams.draw import TIKZ_PREAMBLE
    lines = [
        _PREAMBLE + ("\n".join(TIKZ_PREAMBLE) + "\n" if drawn else ""),
        rf"\title{{{_escape_text(title)}}}",
        r"\author{derived by nnqft}",
        r"\date{}",
        r"\begin{document}",
        r"\maketitle",
    ]
    if abstract:
        lines += [r"\begin{abstract}", _escape_text(abstract), r"\end{abstract}"]
    if preface:
        lines.append(_escape_text(preface))
    for c, chapter in enumerate(chapters, 1):
        lines.append(
            rf"\section{{{_escape_text(chapter.title)}}}\label{{{chapter_label(chapter, c)}}}"
        )
        if chapter.summary:
            lines.append(_escape_text(chapter.summary))
        legend = _chapter_kinds(chapter)  # drawn once per chapter, before its first figure
        for k, step in enumerate(chapter.steps, 1):
            lines += _step_latex(step, step_label(chapter, c, k), legend)
            if step.figures:
                legend = ()
    if bibliography:
        lines += [r"\bibliographystyle{unsrt}", rf"\bibliography{{{bibliography}}}"]
    lines += _provenance(chapters)
    lines.append(r"\end{document}")
    return "\n".join(lines) + "\n"


# --- compiling ---------------------------------------------------------------------------


class TexNotFound(NnqftError):
    """No TeX engine (latexmk, pdflatex) is installed."""


def tex_engine() -> str | None:
    """The TeX command nnqft will use: 'latexmk' or 'pdflatex', or None when neither exists."""
    for cmd in ("latexmk", "pdflatex"):
        if shutil.which(cmd):
            return cmd
    return None


class CompileResult:
    """The outcome of :func:`compile_pdf`: the PDF path, the log, error and overfull counts."""

    def __init__(self, pdf: Path, log: str):
        self.pdf = pdf
        self.log = log
        self.errors = [line for line in log.splitlines() if line.startswith("!")]
        self.overfull = [line for line in log.splitlines() if line.startswith("Overfull")]
        #: "Reference `x' ... undefined" and "Citation `x' ... undefined" warnings
        self.undefined = [
            line
            for line in log.splitlines()
            if re.search(r"(Reference|Citation) `[^']*' .*undefined", line)
        ]

    def __repr__(self):
        return (
            f"CompileResult({self.pdf}, errors={len(self.errors)}, overfull={len(self.overfull)})"
        )


def compile_pdf(tex_file, timeout: float = 120.0) -> CompileResult:
    """Compile ``tex_file`` to a PDF beside it with latexmk (or pdflatex run twice).

    Raises :class:`TexNotFound` when no engine is installed and :class:`NnqftError` with
    the first LaTeX error when compilation fails.
    """
    tex_file = Path(tex_file).resolve()
    if not tex_file.is_file():
        raise InvalidParameter(f"no such LaTeX file: {tex_file}")
    engine = tex_engine()
    if engine is None:
        raise TexNotFound("no TeX engine found: install latexmk or pdflatex (TeX Live)")
    outdir = tex_file.parent
    if engine == "latexmk":
        cmds = [
            [
                "latexmk",
                "-pdf",
                "-interaction=nonstopmode",
                "-halt-on-error",
                f"-outdir={outdir}",
                tex_file.name,
            ]
        ]
    else:
        cmd = [
            "pdflatex",
            "-interaction=nonstopmode",
            "-halt-on-error",
            f"-output-directory={outdir}",
            tex_file.name,
        ]
        cmds = [cmd, cmd]
        if r"\bibliography{" in tex_file.read_text(errors="replace") and shutil.which("bibtex"):
            cmds = [cmd, ["bibtex", tex_file.stem], cmd, cmd]
    for cmd in cmds:
        proc = subprocess.run(cmd, cwd=outdir, capture_output=True, text=True, timeout=timeout)
    log_path = tex_file.with_suffix(".log")
    log = log_path.read_text(errors="replace") if log_path.exists() else proc.stdout
    result = CompileResult(tex_file.with_suffix(".pdf"), log)
    if proc.returncode != 0 or result.errors or not result.pdf.exists():
        first = result.errors[0] if result.errors else f"{engine} exited with {proc.returncode}"
        raise NnqftError(f"LaTeX failed on {tex_file.name}: {first}")
    return result
