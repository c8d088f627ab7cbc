r"""A derivation is an ordered list of steps: a title, one sentence of prose, sympy
equations and where they came from.

Renderers live in their own modules over this one data model: :mod:`nnqft.derive.document.latex`
(a complete amsmath document, compiled to PDF when TeX is present) and
:mod:`nnqft.derive.document.markdown`; ``_repr_latex_`` shows a derivation in Jupyter.

Every equation is a sympy object produced by the engine (nothing is a string typed into a
template), so a test can re-derive each one and compare.

>>> import sympy as sp
>>> from nnqft.rules import symbols as S
>>> step = Step("Length map", "The variance per layer.",
...             (Equation(sp.Eq(S.q, S.sigma_w2 * S.q0 + S.sigma_b2)),), "example")
>>> d = Derivation("Example", (step,))
>>> len(d), d.equations()[0].rhs
(1, q0*sigma_w2 + sigma_b2)

**The paper and its chapters.**  :func:`paper` assembles one document from the chapter
registry, an ordered list of ``(name, "module:function")`` entries.  A chapter builder is
any function ``builder(activation=None) -> Derivation | list[Derivation]``.  Later modules
append theirs (Feynman rules, diagrams, loop corrections) with one line in
:data:`CHAPTERS` below; at run time :func:`register_chapter` takes a callable, or the
``"module:function"`` name of one of the package's own builders (:data:`BUILDERS`; no
other module is ever imported by name)::

    from nnqft.derive.document.derivation import register_chapter
    register_chapter("loops", "nnqft.derive.loops.amplitudes:loop_chapter", after="field-theory")

Builders are imported lazily, by name, when a paper is built, so registering costs nothing.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

import sympy as sp

from ...errors import InvalidParameter, InvalidType, unknown_name

__all__ = [
    "Equation",
    "Figure",
    "Step",
    "Derivation",
    "CHAPTERS",
    "BUILDERS",
    "register_chapter",
    "chapter_names",
    "paper_chapters",
]


@dataclass(frozen=True)
class Equation:
    """One displayed equation: a sympy object, an optional short note and label."""

    expr: sp.Basic
    note: str = ""
    label: str = ""

    def __post_init__(self):
        if not isinstance(self.expr, sp.Basic):
            raise InvalidType(f"an equation must be a sympy object, got {type(self.expr).__name__}")


@dataclass(frozen=True)
class Figure:
    """A drawing beside its value: ``tikz`` (a ``tikzpicture``, plain TikZ), ``caption`` (in
    words), ``facts`` (e.g. its symmetry factor and power of N, LaTeX prose), the
    ``equation`` it is worth and the line ``kinds`` it draws (for the chapter's legend)."""

    tikz: str
    caption: str
    equation: Equation
    facts: str = ""
    kinds: tuple = ()

    def __post_init__(self):
        if not isinstance(self.equation, Equation):
            object.__setattr__(self, "equation", Equation(self.equation))
        if not self.tikz.lstrip().startswith("\\begin{tikzpicture}"):
            raise InvalidParameter("a figure holds a tikzpicture")


@dataclass(frozen=True)
class Step:
    """One step: ``title``, one sentence of ``prose``, ``equations``, ``source`` (the
    engine function that produced them, listed in the document's provenance appendix)
    and an optional LaTeX ``label`` (prose elsewhere may ``\\ref`` it)."""

    title: str
    prose: str
    equations: tuple = ()
    source: str = ""
    label: str = ""
    #: drawings beside their values (:class:`Figure`), shown after the equations
    figures: tuple = ()

    def __post_init__(self):
        eqs = tuple(e if isinstance(e, Equation) else Equation(e) for e in self.equations)
        object.__setattr__(self, "equations", eqs)
        object.__setattr__(self, "figures", tuple(self.figures))
        if not all(isinstance(f, Figure) for f in self.figures):
            raise InvalidType("a step's figures are Figure objects")
        if not self.title:
            raise InvalidParameter("a step needs a title")


@dataclass(frozen=True)
class Derivation:
    """An ordered list of :class:`Step` under a title (one chapter of a paper), with a
    ``summary`` paragraph and an optional LaTeX ``label``."""

    title: str
    steps: tuple = ()
    summary: str = ""
    label: str = ""

    def __post_init__(self):
        steps = tuple(self.steps)
        if not all(isinstance(s, Step) for s in steps):
            raise InvalidType("a Derivation holds Step objects")
        object.__setattr__(self, "steps", steps)

    def __len__(self) -> int:
        return len(self.steps)

    def __iter__(self):
        return iter(self.steps)

    def equations(self) -> list:
        """Every equation's sympy object, in order."""
        return [
            eq.expr
            for step in self.steps
            for eq in (*step.equations, *(f.equation for f in step.figures))
        ]

    def to_latex(self) -> str:
        """A complete LaTeX document (see :func:`nnqft.derive.document.latex.render_document`)."""
        from .latex import render_document

        return render_document(self)

    def to_markdown(self) -> str:
        """Markdown with $$-displayed equations (see :mod:`nnqft.derive.document.markdown`)."""
        from .markdown import render_markdown

        return render_markdown(self)

    def _repr_latex_(self) -> str:
        """Jupyter: every step's title and equations in one aligned display."""
        from .latex import latex

        rows = []
        for k, step in enumerate(self.steps, 1):
            rows.append(rf"&\textbf{{{k}. {_text(step.title)}}}")
            rows += [rf"&{latex(eq.expr)}" for eq in step.equations]
        return r"$$\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}$$"


def _text(s: str) -> str:
    return s.replace("\\", "").replace("&", r"\&").replace("_", r"\_").replace("$", "")


#: the paper's chapters in order: (name, "module:function")
CHAPTERS: list[tuple[str, str]] = [
    ("field-theory", "nnqft.derive.document.field_theory:field_theory_chapters"),
    ("examples", "nnqft.derive.document.field_theory:examples_chapter"),
    ("loops", "nnqft.derive.loops.amplitudes:loop_chapter"),
    ("fluctuations", "nnqft.derive.fluctuations.chapter:fluctuation_chapter"),
    ("ntk", "nnqft.derive.ntk.chapter:ntk_chapter"),
]

#: the only "module:function" names a chapter target may be: the package's own builders
BUILDERS = frozenset(target for _, target in CHAPTERS)


def register_chapter(name: str, target: str | Callable, after: str | None = None) -> None:
    """Add a chapter builder to the paper (replacing one with the same name).

    ``target`` is a callable or the ``"module:function"`` name of one of the package's own
    builders (:data:`BUILDERS`, imported when the paper is built); ``after`` puts it after
    the named chapter (default: at the end).

    >>> try:
    ...     register_chapter("x", "os:system")
    ... except InvalidParameter as exc:
    ...     print(str(exc)[:58])
    chapter target 'os:system' is not one of nnqft's chapter b
    """
    if not isinstance(name, str) or not name:
        raise InvalidParameter("a chapter needs a non-empty name")
    _check_target(target)
    entries = [(n, t) for n, t in CHAPTERS if n != name]
    if after is None:
        entries.append((name, target))
    else:
        names = [n for n, _ in entries]
        if after not in names:
            raise unknown_name("chapter", after, names)
        entries.insert(names.index(after) + 1, (name, target))
    CHAPTERS[:] = entries


def chapter_names() -> list[str]:
    """The registered chapter names, in paper order."""
    return [n for n, _ in CHAPTERS]


def _check_target(target) -> None:
    if callable(target):
        return
    if not isinstance(target, str) or target not in BUILDERS:
        text = repr(target) if len(repr(target)) <= 60 else repr(target)[:57] + "..."
        raise InvalidParameter(
            f"chapter target {text} is not one of nnqft's chapter builders "
            f"({', '.join(sorted(BUILDERS))}); pass a callable for a chapter of your own"
        )


def _resolve(target) -> Callable:
    _check_target(target)  # CHAPTERS is a plain list: check again what it holds now
    if callable(target):
        return target
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


def paper_chapters(activation=None, only: list[str] | None = None) -> list[Derivation]:
    """Build every registered chapter (or those named in ``only``) as Derivations."""
    known = chapter_names()
    for name in only or []:
        if name not in known:
            raise unknown_name("chapter", name, known)
    out: list[Derivation] = []
    for name, target in CHAPTERS:
        if only and name not in only:
            continue
        built = _resolve(target)(activation=activation)
        out.extend([built] if isinstance(built, Derivation) else list(built))
    return out
