"""Export to JSON: the exact expression and its metadata, for another program to rebuild.

The object carries the expression twice: ``srepr`` (sympy's exact constructor form, with
every symbol's assumptions) and ``expression`` (a plain sympy-parsable string in the
standard symbols), plus ``latex``, the argument order with assumptions, validity,
derivation, source and truncation order.  :func:`formula_from_json` rebuilds the formula.

>>> from nnqft.derive.codegen import export
>>> from nnqft.derive.formulas import get_formula
>>> f = get_formula("kernel/erf")
>>> formula_from_json(export(f, "json")).expression == f.expression
True
"""

from __future__ import annotations

import json

import sympy as sp

from ..errors import ParseError
from .codegen import Exporter
from .export_latex import latex_expression
from .formulas import Formula

__all__ = ["JsonExporter", "formula_record", "formula_from_json", "EXPORTERS"]


def formula_record(formula: Formula) -> dict:
    """The JSON-ready dict of a formula (what ``nnqft export ID --lang json`` prints)."""
    record = formula.metadata()
    record["expression"] = sp.sstr(formula.expression)
    record["srepr"] = sp.srepr(formula.expression)
    record["latex"] = latex_expression(formula.expression)
    record["domain"] = {k: list(v) for k, v in formula.sampling_domain().items()}
    return record


def formula_from_json(text: str | dict) -> Formula:
    """Rebuild a :class:`Formula` from :func:`formula_record` output (a dict or JSON text)."""
    record = json.loads(text) if isinstance(text, str) else dict(text)
    try:
        expr = sp.parse_expr(record["srepr"], evaluate=True)
    except Exception as exc:
        raise ParseError(
            f"cannot rebuild expression from srepr: {exc.__class__.__name__}"
        ) from None
    by_name = {s.name: s for s in expr.free_symbols}
    arguments = []
    for arg in record["arguments"]:
        sym = by_name.get(arg["name"])
        if sym is None:
            sym = sp.Symbol(arg["name"], **{k: True for k in arg["assumptions"]})
        arguments.append(sym)
    return Formula(
        id=record["id"],
        expression=expr,
        arguments=tuple(arguments),
        description=record["description"],
        derivation=record["derivation"],
        source=record["source"],
        validity=tuple(sp.parse_expr(v, local_dict=by_name) for v in record["validity"]),
        order=record["order"],
        notes=tuple(record.get("notes", ())),
    )


class JsonExporter(Exporter):
    """JSON target: :func:`formula_record` as indented JSON text."""

    language = "json"
    extension = "json"
    exact = True
    default_settings = {"function_name": None}

    def export(self, formula: Formula) -> str:
        return json.dumps(formula_record(formula), indent=2)

    def render(self, formula, prepared, names) -> str:  # pragma: no cover - export overrides
        return self.export(formula)


EXPORTERS = {"json": JsonExporter}
