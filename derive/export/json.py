"""Export to JSON: the exact expression and its metadata, for another program to rebuild.

The object carries the expression three ways: ``tree`` (the data tree of
:mod:`nnqft.derive.exprtree`: exact, with every symbol's assumptions, rebuilt without
evaluating anything), ``srepr`` (sympy's constructor form, for readers that want it; never
parsed here) and ``expression`` (a plain sympy-parsable string in the standard symbols),
plus ``latex``, the argument order with assumptions, validity (as strings and as
``validity_tree``), derivation, source and truncation order.  :func:`formula_from_json`
rebuilds the formula from the trees.

>>> from nnqft.derive.export.base import export
>>> from nnqft.derive.formulas import get_formula
>>> f = get_formula("kernel/erf")
>>> formula_from_json(export(f, "json")).expression == f.expression
True
"""

from __future__ import annotations

import json

import sympy as sp

from ...errors import ParseError
from ..exprtree import from_tree, to_tree
from ..formulas import Formula
from .base import ExactExporter
from .latex import latex_expression

__all__ = ["JsonExporter", "formula_record", "formula_from_json", "EXPORTERS"]

#: the assumptions an argument record may list (what formulas._argument_record writes)
_ARGUMENT_ASSUMPTIONS = ("integer", "positive", "nonnegative", "real")


def formula_record(formula: Formula) -> dict:
    """The JSON-ready dict of a formula (what ``nnqft export ID --lang json`` prints).

    Parameters
    ----------
    formula : Formula
        The formula.

    Returns
    -------
    dict
        Its metadata, the expression as a plain string, a data tree, srepr and LaTeX, the
        validity as trees and the sampling domain.

    Examples
    --------
    >>> from nnqft.derive.formulas import get_formula
    >>> record = formula_record(get_formula("kernel/linear"))
    >>> record["expression"], record["tree"][0]
    ('q12', 'Symbol')
    """
    record = formula.metadata()
    record["expression"] = sp.sstr(formula.expression)
    record["tree"] = to_tree(formula.expression)
    record["srepr"] = sp.srepr(formula.expression)
    record["latex"] = latex_expression(formula.expression)
    record["validity_tree"] = [to_tree(c) for c in formula.validity]
    record["domain"] = {k: list(v) for k, v in formula.sampling_domain().items()}
    return record


def _field(record: dict, name: str, kinds):
    if name not in record:
        raise ParseError(f"formula record has no {name!r} field")
    value = record[name]
    if not isinstance(value, kinds):
        raise ParseError(f"formula record field {name!r} has the wrong type")
    return value


def formula_from_json(text: str | dict) -> Formula:
    """Rebuild a :class:`Formula` from :func:`formula_record` output.

    The expression and validity come from the ``tree`` fields (nothing is evaluated).

    Parameters
    ----------
    text : str or dict
        JSON text or the decoded record.

    Returns
    -------
    Formula

    Raises
    ------
    ParseError
        For a record without the tree fields, or with a malformed field.

    Examples
    --------
    >>> from nnqft.derive.formulas import get_formula
    >>> f = get_formula("kernel/relu")
    >>> formula_from_json(json.dumps(formula_record(f))).expression == f.expression
    True
    """
    try:
        record = json.loads(text) if isinstance(text, str) else text
    except (ValueError, RecursionError):
        raise ParseError("formula record is not valid JSON") from None
    if not isinstance(record, dict):
        raise ParseError("a formula record must be a JSON object")
    expr = from_tree(_field(record, "tree", list))
    by_name = {s.name: s for s in expr.free_symbols}
    arguments = []
    for arg in _field(record, "arguments", list):
        if not (
            isinstance(arg, dict)
            and isinstance(arg.get("name"), str)
            and isinstance(arg.get("assumptions"), list)
            and all(a in _ARGUMENT_ASSUMPTIONS for a in arg["assumptions"])
        ):
            raise ParseError(f"bad argument record {str(arg)[:60]!r}")
        sym = by_name.get(arg["name"])
        if sym is None:
            sym = sp.Symbol(arg["name"], **{k: True for k in arg["assumptions"]})
        arguments.append(sym)
    order = record.get("order")
    if order is not None and (isinstance(order, bool) or not isinstance(order, int)):
        raise ParseError("formula record field 'order' must be an integer or null")
    return Formula(
        id=_field(record, "id", str),
        expression=expr,
        arguments=tuple(arguments),
        description=_field(record, "description", str),
        derivation=_field(record, "derivation", str),
        source=_field(record, "source", str),
        validity=tuple(from_tree(v) for v in _field(record, "validity_tree", list)),
        order=order,
        notes=tuple(str(n) for n in record.get("notes", ())),
    )


class JsonExporter(ExactExporter):
    """JSON target: :func:`formula_record` as indented JSON text."""

    language = "json"
    extension = "json"

    def export(self, formula: Formula) -> str:
        return json.dumps(formula_record(formula), indent=2)

    def render(self, formula, prepared, names) -> str:  # pragma: no cover - export overrides
        return self.export(formula)


EXPORTERS = {"json": JsonExporter}
