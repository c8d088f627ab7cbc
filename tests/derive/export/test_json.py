"""JSON export read-back: expressions and validity come from data trees, never parsed."""

from __future__ import annotations

import json

import pytest

from nnqft.derive.export.base import export
from nnqft.derive.export.json import formula_from_json, formula_record
from nnqft.derive.exprtree import to_tree
from nnqft.derive.formulas import get_formula
from nnqft.errors import ParseError

IDS = ["kernel/erf", "kernel-derivative/cos", "mft/chi1/gelu", "linear-feedforward/log-mean",
       "finite-width/K0/leaky_relu"]  # fmt: skip


@pytest.mark.parametrize("fid", IDS)
def test_record_carries_trees_and_rebuilds_exactly(fid):
    f = get_formula(fid)
    record = json.loads(export(f, "json"))
    assert record["tree"] == to_tree(f.expression)
    assert record["validity_tree"] == [to_tree(c) for c in f.validity]
    assert record["srepr"] and record["expression"]  # still there for other readers
    rebuilt = formula_from_json(record)
    assert rebuilt.expression == f.expression and rebuilt.arguments == f.arguments
    assert rebuilt.validity == f.validity
    assert (rebuilt.id, rebuilt.order, rebuilt.notes) == (f.id, f.order, f.notes)


def test_srepr_and_expression_strings_are_never_parsed(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    f = get_formula("kernel/erf")
    record = formula_record(f)
    payload = "__import__('pathlib').Path('pwned').write_text('x')"
    record["srepr"] = payload
    record["expression"] = payload
    record["validity"] = [payload]
    assert formula_from_json(json.dumps(record)).expression == f.expression
    assert not (tmp_path / "pwned").exists()


def _bad(change):
    record = formula_record(get_formula("kernel/erf"))
    change(record)
    return record


@pytest.mark.parametrize(
    "record",
    [
        _bad(lambda r: r.pop("tree")),
        _bad(lambda r: r.update(tree=["eval", "1+1"])),
        _bad(lambda r: r.update(tree="Integer(2)")),
        _bad(lambda r: r.update(validity_tree=[["__import__", "os"]])),
        _bad(lambda r: r.pop("validity_tree")),
        _bad(lambda r: r.update(arguments=[{"name": "q", "assumptions": ["evaluate"]}])),
        _bad(lambda r: r.update(order="1")),
        _bad(lambda r: r.pop("id")),
        [1, 2],
        "not json {",
    ],
)
def test_malformed_records_are_one_line_parse_errors(record):
    with pytest.raises(ParseError) as info:
        formula_from_json(record)
    assert "\n" not in str(info.value)
