r"""A derivation as a Jupyter notebook: Markdown cells with the equations, code cells that
evaluate the results with the compiled kernels (:func:`nnqft.derive.export.kernels.kernel`).

The notebook is nbformat 4 JSON built here as plain data (no template text is evaluated);
:func:`write_notebook` validates it with ``nbformat`` (a dependency of the ``dev`` and
``notebook`` extras) before writing.  Each code cell is generated from a formula's
metadata: its id, its arguments in order and a point of its sampling domain.

>>> from nnqft.derive.document.derivation import Derivation, Step
>>> import sympy as sp
>>> from nnqft.rules import symbols as S
>>> d = Derivation("Demo", (Step("Map", "One line.", (sp.Eq(S.q, S.sigma_b2),)),))
>>> nb = build_notebook([d], formulas=["mft/chi1/relu"], title="Demo")
>>> [c["cell_type"] for c in nb["cells"]]  # title, chapter, step, results, imports, formula
['markdown', 'markdown', 'markdown', 'markdown', 'code', 'markdown', 'code']
>>> "kernel('mft/chi1/relu'" in "".join(nb["cells"][-1]["source"])
True
"""

from __future__ import annotations

import json
from pathlib import Path

from ...errors import InvalidParameter

__all__ = ["build_notebook", "formula_cell", "notebook_formulas", "write_notebook"]

NBFORMAT = 4
NBFORMAT_MINOR = 5


def _markdown(text: str, key: int) -> dict:
    return {"cell_type": "markdown", "id": f"md-{key}", "metadata": {}, "source": text}


def _code(text: str, key: int) -> dict:
    return {
        "cell_type": "code",
        "id": f"code-{key}",
        "metadata": {},
        "execution_count": None,
        "outputs": [],
        "source": text,
    }


def _sample_point(formula) -> dict:
    """A point inside the formula's sampling domain: the middle of each range (integers
    rounded), so that every cell evaluates where the formula is valid; q12 is sampled as a
    correlation coefficient (docs of DEFAULT_DOMAIN), here 1/2.

    >>> from nnqft.derive.formulas import get_formula
    >>> _sample_point(get_formula("kernel/relu"))
    {'q11': 1.55, 'q22': 1.55, 'q12': 0.775}
    """
    dom = formula.sampling_domain()
    point = {}
    for sym in formula.arguments:
        lo, hi = dom[sym.name]
        mid = (lo + hi) / 2
        point[sym.name] = int(round(mid)) if sym.is_integer else round(mid, 6)
    if "q12" in point and "q11" in point and "q22" in point:
        point["q12"] = round(0.5 * (point["q11"] * point["q22"]) ** 0.5, 6)
    return point


def formula_cell(formula_id: str) -> tuple[str, str]:
    """(Markdown, code) for one formula: its description and the equation, then a code
    cell that compiles it and evaluates it at a point of its domain.

    >>> md, code = formula_cell("mft/length-map/linear")
    >>> print(code.splitlines()[0])
    f = kernel('mft/length-map/linear', backend='numpy')
    """
    from ...derive.formulas import get_formula
    from .printer import latex

    formula = get_formula(formula_id)
    md = f"**{formula.description}** (`{formula.id}`)\n\n$$ {latex(formula.expression)} $$"
    point = _sample_point(formula)
    code = "\n".join(
        [
            f"f = kernel({formula.id!r}, backend='numpy')",
            f"point = {point!r}",
            "value = f(*(point[name] for name in f.arguments))",
            f"print({formula.id!r}, point, float(value))",
        ]
    )
    return md, code


def notebook_formulas(activations=(), linear: bool = False) -> list[str]:
    """The registered formula ids a notebook evaluates: the mean-field maps and chi_1 of
    each activation that has closed forms, and (``linear``) the exact observables of the
    linear feedforward network (the recurrent 1/N series take minutes to derive cold).

    >>> notebook_formulas(["relu", "tanh"])
    ['mft/length-map/relu', 'mft/correlation-map/relu', 'mft/chi1/relu']
    """
    from ...derive.formulas import list_formulas

    known = set(list_formulas())
    out = []
    for name in activations:
        for what in ("length-map", "correlation-map", "chi1"):
            fid = f"mft/{what}/{name}"
            if fid in known:
                out.append(fid)
    if linear:
        out += sorted(f for f in known if f.startswith("linear-feedforward/"))
    return out


def build_notebook(chapters, formulas=(), title: str = "nnqft derivation") -> dict:
    """The notebook (nbformat 4 as a dict): a title cell, one Markdown cell per step with
    its prose and equations, then for each formula id a Markdown and a code cell."""
    from .derivation import Derivation
    from .markdown import _numbers, _prose
    from .printer import latex

    chapters = list(chapters)
    if not all(isinstance(c, Derivation) for c in chapters):
        raise InvalidParameter("a notebook is built from Derivation objects")
    numbers = _numbers(chapters, len(chapters) == 1)
    cells, key = [_markdown(f"# {title}", 0)], 1
    for c, chapter in enumerate(chapters, 1):
        body = [f"## {c}. {chapter.title}"]
        if chapter.summary:
            body.append(_prose(chapter.summary, numbers))
        cells.append(_markdown("\n\n".join(body), key))
        key += 1
        for k, step in enumerate(chapter.steps, 1):
            text = [f"### {c}.{k}. {step.title}", _prose(step.prose, numbers)]
            text += [f"$$ {latex(eq.expr)} $$" for eq in step.equations]
            for figure in step.figures:  # the drawing is in the LaTeX/PDF; here its words
                text += [f"*{figure.caption}*", f"$$ {latex(figure.equation.expr)} $$"]
            cells.append(_markdown("\n\n".join(text), key))
            key += 1
    if formulas:
        cells.append(
            _markdown(
                "## The results, evaluated\n\nEach formula compiled into a vectorised numpy "
                "function (`nnqft.kernel`), arguments in the order of `f.arguments`.",
                key,
            )
        )
        cells.append(_code("import numpy as np\nfrom nnqft import kernel", key + 1))
        key += 2
        for fid in formulas:
            md, code = formula_cell(fid)
            cells += [_markdown(md, key), _code(code, key + 1)]
            key += 2
    return {
        "nbformat": NBFORMAT,
        "nbformat_minor": NBFORMAT_MINOR,
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
        },
        "cells": cells,
    }


def write_notebook(notebook: dict, path) -> Path:
    """Validate ``notebook`` with nbformat and write it to ``path`` (FILE.ipynb).

    Raises
    ------
    InvalidParameter
        When nbformat is not installed (``pip install 'nnqft[notebook]'``) or the notebook
        does not validate.
    """
    try:
        import nbformat
    except ImportError:
        raise InvalidParameter(
            "--notebook needs nbformat: pip install 'nnqft[notebook]' (or pip install nbformat)"
        ) from None
    node = nbformat.from_dict(notebook)
    try:
        nbformat.validate(node)
    except nbformat.ValidationError as exc:  # a bug here, reported as one line
        raise InvalidParameter(f"the notebook does not validate: {exc.message}") from None
    path = Path(path)
    path.write_text(json.dumps(notebook, indent=1) + "\n")
    return path
