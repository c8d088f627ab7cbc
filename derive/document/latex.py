r"""LaTeX for derivations: a sympy printer for the field theory's objects, the document
renderer and PDF compilation.

:class:`FieldTheoryLatexPrinter` is a :class:`sympy.printing.latex.LatexPrinter` subclass
(sympy's one-printer-per-target design): it prints ``sigma_w2`` as ``\sigma_w^2``, the
response field ``zt`` as ``\tilde z``, indexed fields as ``z_i(t)``, replicas as
superscripts, Gaussian means as ``\int\mathcal{D}z\,\phi^{2}(\sqrt{q}\,z)``, and sums with
their ranges.  No string replacement on printed output: every rule is a ``_print_<Class>``
method.

>>> import sympy as sp
>>> from nnqft.rules import action as A
>>> from nnqft.rules import symbols as S
>>> print(latex(A.zt[A.NEURON[0], A.TIME[0]] * S.sigma_w2))
\sigma_w^2 \tilde{z}_{i}(t)
>>> print(latex(A.GaussianMean(sp.Lambda(A.u, A.phi(A.u) ** 2), S.q)))
\int \mathcal{D}z\, \phi^{2}(\sqrt{q}\, z)

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
from sympy.core.function import AppliedUndef
from sympy.printing.latex import LatexPrinter

from ...errors import InvalidParameter, NnqftError

__all__ = [
    "FieldTheoryLatexPrinter",
    "latex",
    "equation_latex",
    "render_document",
    "tex_engine",
    "compile_pdf",
    "CompileResult",
    "TexNotFound",
]

#: symbol name -> LaTeX
_SYMBOLS = {
    "sigma_w2": r"\sigma_w^2",
    "sigma_b2": r"\sigma_b^2",
    "q0": "q_0",
    "q11": "q_{11}",
    "q22": "q_{22}",
    "q12": "q_{12}",
    "q_star": "q^{*}",
    "chi_1": r"\chi_1",
    "lambda_max": r"\lambda_{\max}",
    "d_0": "d(0)",
    "S_eff": r"\mathcal{S}[Q,\tilde{Q}]",
    "S": "S",
    "s_1": "s",
    "Z": "Z",
    "Z_1": "Z_1",
    "epsilon": r"\epsilon",
    "u1": "u_1",
    "u2": "u_2",
    "z_1": "z_1",
    "z_2": "z_2",
    "c": "c",
}

#: indexed base -> (LaTeX name, number of neuron indices, has a time slot)
_INDEXED = {
    "z": ("z", 1, True),
    "zt": (r"\tilde{z}", 1, True),
    "W": ("W", 2, True),
    "b": ("b", 1, True),
    "x": ("x", 1, False),
    "xi": (r"\xi", 0, True),
    "J_W": ("J^{W}", 2, True),
    "J_b": ("J^{b}", 1, True),
    "a": ("a", 1, False),
    "X": ("X", 1, False),
}

#: undefined function -> (LaTeX name, number of time arguments; the rest are replica labels)
_FUNCTIONS = {
    "z": ("z", 1),
    "zt": (r"\tilde{z}", 1),
    "Q": ("Q", 2),
    "Qt": (r"\tilde{Q}", 2),
    "q": ("q", None),
    "K": ("K", 2),
    "B": ("B", 2),
    "phi": (r"\phi", 99),
    "d": ("d", 99),
    "C": ("C", 99),
}


class FieldTheoryLatexPrinter(LatexPrinter):
    """sympy's LaTeX printer with nnqft's notation for fields, replicas and Gaussian means.

    Settings are sympy's (``ln_notation`` and ``inv_trig_style='full'`` by default here);
    unknown settings raise.
    """

    _default_settings = {
        **LatexPrinter._default_settings,
        "ln_notation": True,
        "inv_trig_style": "full",
    }

    def __init__(self, settings=None):
        super().__init__(settings)
        self._override: dict = {}

    # symbols -----------------------------------------------------------------------
    def _print_Symbol(self, expr, style="plain"):
        if expr in self._override:
            return self._override[expr]
        if expr.name in _SYMBOLS:
            return _SYMBOLS[expr.name]
        return super()._print_Symbol(expr, style=style)

    # indexed fields ------------------------------------------------------------------
    def _index_list(self, indices) -> str:
        printed = [self._print(i) for i in indices]
        if all(
            len(p) == 1 or (i.is_Symbol and p.startswith("\\")) for p, i in zip(printed, indices)
        ):
            return "".join(printed)
        return ",".join(printed)

    def _print_Indexed(self, expr):
        name = str(expr.base)
        if name not in _INDEXED:
            return super()._print_Indexed(expr)
        tex, n_neuron, has_time = _INDEXED[name]
        idx = list(expr.indices)
        neuron, rest = idx[:n_neuron], idx[n_neuron:]
        time = rest.pop(0) if has_time and rest else None
        out = tex
        if rest:
            out = rf"{out}^{{{self._index_list(rest)}}}"
        if neuron:
            out = rf"{out}_{{{self._index_list(neuron)}}}"
        if time is not None:
            out = rf"{out}({self._print(time)})"
        return out

    def _print_IndexedBase(self, expr):
        name = str(expr)
        return _INDEXED[name][0] if name in _INDEXED else super()._print_IndexedBase(expr)

    # undefined functions: z(t), Q^{ab}(t, s), phi(...) ------------------------------
    def _print_Function(self, expr, exp=None):
        if isinstance(expr, AppliedUndef) and expr.func.__name__ in _FUNCTIONS:
            tex, n_time = _FUNCTIONS[expr.func.__name__]
            args = list(expr.args)
            if n_time is None:  # q: q(t), q(t, s), q(t, a, b), q(t, s, a, b)
                n_time = {1: 1, 2: 2, 3: 1, 4: 2}[len(args)]
            times, reps = args[:n_time], args[n_time:]
            out = tex
            if reps:
                out = rf"{out}^{{{self._index_list(reps)}}}"
            out = rf"{out}({', '.join(self._print(a) for a in times)})"
            if exp is not None:
                return rf"{out}^{{{exp}}}"
            return out
        return super()._print_Function(expr, exp=exp)

    def _print_UndefinedFunction(self, expr):
        name = expr.__name__
        return _FUNCTIONS[name][0] if name in _FUNCTIONS else super()._print_UndefinedFunction(expr)

    def _print_Derivative(self, expr):
        inner = expr.expr
        if isinstance(inner, AppliedUndef) and len(inner.args) == 1:
            (var,) = inner.args
            if len(expr.variables) == expr.derivative_count and set(expr.variables) == {var}:
                name = self._print(inner.func)
                return rf"{name}{chr(39) * expr.derivative_count}({self._print(var)})"
        return super()._print_Derivative(expr)

    def _print_Subs(self, expr):
        der, old, new = expr.args
        if isinstance(der, sp.Derivative) and len(old) == 1:
            inner = der.expr
            if isinstance(inner, AppliedUndef) and inner.args == tuple(old):
                name = self._print(inner.func)
                return rf"{name}{chr(39) * der.derivative_count}({self._print(new[0])})"
        return super()._print_Subs(expr)

    # sums -----------------------------------------------------------------------------
    def _print_Sum(self, expr):
        # outermost first; limits with the same constant range share one sigma
        limits = list(reversed(expr.limits))
        dummies = {lim[0] for lim in limits}
        groups: list[tuple[list, object, object]] = []
        for var, lo, hi in limits:
            bounds = sp.sympify(lo).free_symbols | sp.sympify(hi).free_symbols  # safe: Sum limits
            constant = not ({lo, hi} & dummies) and not (bounds & dummies)
            match = (
                next((g for g in groups if constant and g[1] == lo and g[2] == hi), None)
                if constant
                else None
            )
            if match is None and groups and groups[-1][1] == lo and groups[-1][2] == hi:
                match = groups[-1]
            if match is not None:
                match[0].append(var)
            else:
                groups.append(([var], lo, hi))
        head = "".join(
            rf"\sum_{{{','.join(self._print(v) for v in sorted(vs, key=_index_rank))}"
            rf"={self._print(lo)}}}^{{{self._print(hi)}}}"
            for vs, lo, hi in groups
        )
        body = expr.function
        if body.could_extract_minus_sign():
            return "-" + self._print(sp.Sum(-body, *expr.limits))
        tex = self._print(body)
        if isinstance(body, sp.Add):
            tex = rf"\left({tex}\right)"
        return f"{head} {tex}"

    def _print_Mul(self, expr):
        # a parameter prefactor, then the fields in physics order: \frac{\sigma_w^2}{2N} \sum ...
        factors = sp.Mul.make_args(expr)
        structural = [f for f in factors if _is_structural(f)]
        if not structural:
            return super()._print_Mul(expr)
        coeff = sp.Mul(*[f for f in factors if not _is_structural(f)])
        sign = ""
        if coeff.could_extract_minus_sign():
            coeff, sign = -coeff, "-"
        parts = []
        for f in sorted(structural, key=_factor_key):
            tex = self._print(f)
            if isinstance(f, sp.Add) or (isinstance(f, sp.Sum) and len(structural) > 1):
                tex = rf"\left({tex}\right)"
            parts.append(tex)
        rest_tex = " ".join(parts)
        if coeff == 1:
            return f"{sign}{rest_tex}"
        coeff_tex = self._print(coeff)
        if isinstance(coeff, sp.Add):
            coeff_tex = rf"\left({coeff_tex}\right)"
        return f"{sign}{coeff_tex} {rest_tex}"

    def _print_Pow(self, expr):
        base, exp = expr.args
        if exp.is_Integer and exp > 1 and isinstance(base, (sp.Indexed, sp.Subs, sp.Derivative)):
            return rf"{self._print(base)}^{{{self._print(exp)}}}"
        if exp.is_Integer and exp > 1 and isinstance(base, AppliedUndef):
            if base.func.__name__ == "phi":  # phi^2(x), like sin^2 x: no ')^2' after a trace
                args = ", ".join(self._print(a) for a in base.args)
                return rf"\phi^{{{self._print(exp)}}}({args})"
            return self._print_Function(base, exp=self._print(exp))
        return super()._print_Pow(expr)

    def _print_Add(self, expr, order=None):
        if not any(_is_structural(t) for t in expr.args):
            return super()._print_Add(expr, order=order)
        terms = sorted(sp.Add.make_args(expr), key=_term_key)
        out = ""
        for k, term in enumerate(terms):
            tex = self._print(term)
            if k == 0:
                out = tex
            elif tex.startswith("-"):
                out += " - " + tex[1:].lstrip()
            else:
                out += " + " + tex
        return out

    def _as_ordered_terms(self, expr, order=None):
        if not any(_is_structural(t) for t in expr.args):
            return super()._as_ordered_terms(expr, order=order)
        return sorted(sp.Add.make_args(expr), key=_term_key)

    def _print_exp(self, expr, exp=None):
        if expr.args[0].has(sp.Sum):  # a long exponent reads better on the line
            tex = rf"\exp\left({self._print(expr.args[0])}\right)"
            return rf"{tex}^{{{exp}}}" if exp else tex
        return self._print_ExpBase(expr, exp=exp)

    def _print_KroneckerDelta(self, expr, exp=None):
        i, j = expr.args
        tex = rf"\delta_{{{self._print(i)}{self._print(j)}}}"
        return rf"{tex}^{{{exp}}}" if exp else tex

    # the engine's own objects -------------------------------------------------------------
    def _print_Average(self, expr):
        return rf"\left\langle {self._print(expr.args[0])} \right\rangle"

    def _print_DisorderAverage(self, expr):
        return rf"\mathbb{{E}}_{{W,b}}\left[{self._print(expr.args[0])}\right]"

    def _print_PathIntegral(self, expr):
        exponent, *fields = expr.args
        measure = r"\,".join(rf"\mathcal{{D}}{self._print(f)}" for f in fields)
        tex = self._print(exponent)
        if len(tex) > 40:
            return rf"\int {measure}\; \exp\left[{tex}\right]"
        return rf"\int {measure}\; e^{{{tex}}}"

    def _with_override(self, mapping, body):
        saved = dict(self._override)
        self._override.update(mapping)
        try:
            return self._print(body)
        finally:
            self._override = saved

    def _print_GaussianMean(self, expr):
        f, v = expr.args
        (var,) = f.variables
        arg = rf"\sqrt{{{self._print(v)}}}\, z"
        return rf"\int \mathcal{{D}}z\, {self._with_override({var: arg}, f.expr)}"

    def _print_BivariateGaussianMean(self, expr):
        f = expr.args[0]
        a, c = f.variables
        body = self._with_override({a: "u_1", c: "u_2"}, f.expr)
        return rf"\int \mathcal{{D}}z_1\,\mathcal{{D}}z_2\, {body}"

    def _print_Equality(self, expr):
        return rf"{self._print(expr.lhs)} = {self._print(expr.rhs)}"


#: physics order of factors: deltas and kernels, collective fields, response fields,
#: weights and sources, fields, activations; traces (sums) by what they contain
_RANK = {
    "KroneckerDelta": 0,
    "K": 0,
    "B": 0,
    "C": 0,
    "Q": 1,
    "Qt": 1,
    "zt": 2,
    "a": 2,
    "W": 3,
    "b": 3,
    "J_W": 3,
    "J_b": 3,
    "X": 3,
    "xi": 3,
    "z": 4,
    "x": 4,
    "phi": 5,
}


def _name_of(node) -> str | None:
    if isinstance(node, sp.Indexed):
        return str(node.base)
    if isinstance(node, AppliedUndef):
        return node.func.__name__
    if isinstance(node, sp.KroneckerDelta):
        return "KroneckerDelta"
    return None


def _is_structural(f) -> bool:
    return f.has(sp.Sum, sp.Indexed, AppliedUndef, sp.KroneckerDelta, *_means())


def _factor_key(f):
    from ...rules.action.objects import NEURON, REPLICA, TIME

    names = [_name_of(n) for n in sp.preorder_traversal(f)]
    ranks = [_RANK.get(n, 6) for n in names if n is not None]
    rank = (min(ranks) if ranks else 6) + (0.5 if isinstance(f, sp.Sum) else 0)
    if isinstance(f, sp.Sum) and ranks and min(ranks) >= 5:
        rank = 5.5
    if isinstance(f, _means()[:2]):  # a Gaussian integral closes the product
        rank = 7
    order = []
    for sym in sorted(f.free_symbols, key=str):
        for offset, pool in ((0, NEURON), (10, TIME), (20, REPLICA)):
            if sym in pool:
                order.append(offset + pool.index(sym))
    return (rank, tuple(sorted(order)), str(f))


def _term_key(term):
    """Order of the terms of a sum: the z-zt term, then weights/vertex, biases, the rest."""
    from ...rules import symbols as S

    names = {_name_of(n) for n in sp.preorder_traversal(term)}
    fields_z = "z" in names and not ({"phi", "W", "J_W", "b", "J_b", "Q"} & names)
    if fields_z:
        group = 0
    elif {"W", "J_W", "Q"} & names or term.has(S.sigma_w2):
        group = 2 if "Qt" in names and "Q" not in names else 1
    elif {"b", "J_b"} & names or term.has(S.sigma_b2):
        group = 2
    else:
        group = 3
    if "Qt" in names and "Q" in names:
        group = 3
    return (group, term.could_extract_minus_sign(), str(term))


def _index_rank(sym):
    from ...rules.action.objects import NEURON, REPLICA, TIME

    for pool in (TIME, NEURON, REPLICA):
        if sym in pool:
            return (0, pool.index(sym), "")
    return (1, 0, str(sym))


def _means():
    from ...rules.action.objects import Average, BivariateGaussianMean, GaussianMean

    return (GaussianMean, BivariateGaussianMean, Average)


def latex(expr, **settings) -> str:
    """LaTeX of a sympy object in nnqft's notation (see :class:`FieldTheoryLatexPrinter`).

    >>> from nnqft.rules import symbols as S
    >>> latex(S.sigma_w2 / (2 * S.N))
    '\\\\frac{\\\\sigma_w^2}{2 N}'
    """
    return FieldTheoryLatexPrinter(settings).doprint(expr)


#: visible width (see :func:`_width`) above which an equation is broken into lines
BREAK_AT = 80


def _width(tex: str) -> int:
    """A rough visible width of LaTeX math: commands count one glyph, \\left/\\right,
    braces, scripts markers and spaces nothing, a fraction its wider part."""
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
    ``prefactor \Bigl[ t_1 \\ + t_2 ... \Bigr]``, recursively.

    >>> from nnqft.rules import symbols as S
    >>> equation_latex(sp.Eq(S.q, S.sigma_w2 + S.sigma_b2))
    'q = \\sigma_b^2 + \\sigma_w^2'
    >>> tex = equation_latex(sp.Eq(S.q, (S.sigma_w2 + S.sigma_b2) / (S.N + 1)), width=6)
    >>> print(tex)
    \begin{aligned}q &= \frac{1}{N + 1} \Bigl[\sigma_b^2 \\ &\quad + \sigma_w^2\Bigr]\end{aligned}
    """
    printer = FieldTheoryLatexPrinter()
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
                return [rf"{prefix}\Bigl[{inner[0]}", *inner[1:-1], rf"{inner[-1]}\Bigr]"]
    return [tex]


def _ordered_terms(expr: sp.Add) -> list:
    """The terms of ``expr`` in the order the printer shows them."""
    printer = FieldTheoryLatexPrinter()
    return list(printer._as_ordered_terms(expr, order=None))


# --- documents -----------------------------------------------------------------------------

_PREAMBLE = r"""\documentclass[11pt]{article}
\usepackage[T1]{fontenc}
\usepackage{lmodern}
\usepackage[margin=2.2cm]{geometry}
\usepackage{amsmath,amssymb}
\usepackage{microtype}
\allowdisplaybreaks
\emergencystretch=3em
\setlength{\parindent}{0pt}
\setlength{\parskip}{0.5em}
\numberwithin{equation}{section}
"""


def _escape_text(text: str) -> str:
    """Escape LaTeX specials in prose, leaving $...$ math as it is."""
    parts = re.split(r"(\$[^$]*\$)", text)
    out = []
    for part in parts:
        if part.startswith("$") and part.endswith("$") and len(part) > 1:
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
            ):
                part = part.replace(ch, rep)
            out.append(part)
    return "".join(out)


def _source_line(source: str) -> str:
    return rf"{{\footnotesize\textit{{Derived by}} \texttt{{{_escape_text(source)}}}}}"


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


def _step_latex(step, number_prefix: str) -> list[str]:
    out = [rf"\subsection{{{_escape_text(step.title)}}}", _escape_text(step.prose)]
    for eq in step.equations:
        out += [r"\begin{equation}", _equation_with_note(eq), r"\end{equation}"]
    if step.source:
        out.append(_source_line(step.source))
    return out


def render_document(derivations, title: str | None = None, preface: str = "") -> str:
    r"""A complete LaTeX document (amsmath, numbered equations) for one derivation or a list
    of them (the chapters of a paper, one \section each).

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
    lines = [
        _PREAMBLE,
        rf"\title{{{_escape_text(title)}}}",
        r"\author{derived by nnqft}",
        r"\date{}",
        r"\begin{document}",
        r"\maketitle",
    ]
    if preface:
        lines.append(_escape_text(preface))
    for chapter in chapters:
        lines.append(rf"\section{{{_escape_text(chapter.title)}}}")
        if chapter.summary:
            lines.append(_escape_text(chapter.summary))
        for step in chapter.steps:
            lines += _step_latex(step, "")
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
    for cmd in cmds:
        proc = subprocess.run(cmd, cwd=outdir, capture_output=True, text=True, timeout=timeout)
    log_path = tex_file.with_suffix(".log")
    log = log_path.read_text(errors="replace") if log_path.exists() else proc.stdout
    result = CompileResult(tex_file.with_suffix(".pdf"), log)
    if proc.returncode != 0 or result.errors or not result.pdf.exists():
        first = result.errors[0] if result.errors else f"{engine} exited with {proc.returncode}"
        raise NnqftError(f"LaTeX failed on {tex_file.name}: {first}")
    return result
