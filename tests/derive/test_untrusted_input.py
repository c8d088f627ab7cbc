"""Values from outside (strings, files, registry entries) never reach eval/exec/import."""

from __future__ import annotations

import json

import numpy as np
import pytest
import sympy as sp

import nnqft
from nnqft.derive.convert import to_sympy
from nnqft.derive.document import derivation as D
from nnqft.derive.export.json import formula_from_json, formula_record
from nnqft.derive.formulas import formula_from_expression, get_formula
from nnqft.errors import InvalidParameter, InvalidType, NnqftError, UnknownName
from nnqft.rules import symbols as S


@pytest.mark.parametrize("bad", [None, 3, ["kernel/erf"], b"kernel/erf"])
def test_kernel_of_a_non_formula_is_a_one_line_type_error(bad):
    with pytest.raises(InvalidType, match="formula id") as info:
        nnqft.kernel(bad)
    assert "\n" not in str(info.value)


def test_kernel_of_an_unknown_id_or_backend_is_unknown_name():
    with pytest.raises(UnknownName):
        nnqft.kernel("kernel/ref")
    with pytest.raises(UnknownName):
        nnqft.kernel("kernel/erf", backend=None)


def test_kernel_of_a_hostile_json_formula_runs_no_text_of_it(tmp_path, monkeypatch):
    """Free text and symbol names of a formula read from a file end up in generated
    docstrings; the kernel compiler must not let them out of the string."""
    monkeypatch.chdir(tmp_path)
    f = get_formula("kernel/relu")
    record = formula_record(f)
    escape = '"""\nopen("pwned", "w")\n"""'
    record.update(id=f"x{escape}", description=escape, derivation=escape, notes=[escape])
    hostile = formula_from_json(json.dumps(record))
    name = 'q11"""\nopen("pwned2", "w")\n"""'
    q11 = sp.Symbol(name, positive=True)
    hostile = type(hostile)(
        **{
            **hostile.__dict__,
            "expression": hostile.expression.xreplace({S.q11: q11}),
            "arguments": (q11, S.q22, S.q12),
        }
    )
    k = nnqft.kernel(hostile, backend="numpy")
    want = nnqft.kernel("kernel/relu", backend="numpy")(1.0, 2.0, 0.3)
    assert np.allclose(k(1.0, 2.0, 0.3), want)
    assert not (tmp_path / "pwned").exists() and not (tmp_path / "pwned2").exists()


def test_register_chapter_rejects_module_strings_outside_the_registry():
    saved = list(D.CHAPTERS)
    try:
        for target in ("os:system", "subprocess:run", "nnqft.derive.loops.amplitudes:nope", 3):
            with pytest.raises(InvalidParameter, match="chapter builders") as info:
                nnqft.register_chapter("x", target)
            assert "\n" not in str(info.value)
        assert D.chapter_names() == [n for n, _ in saved]
        nnqft.register_chapter("loops2", "nnqft.derive.loops.amplitudes:loop_chapter")
        nnqft.register_chapter("mine", lambda activation=None: [])
        assert D.chapter_names()[-2:] == ["loops2", "mine"]
        # a hand-edited registry list is checked again before anything is imported
        D.CHAPTERS.append(("evil", "os:system"))
        with pytest.raises(InvalidParameter):
            D.paper_chapters(only=["evil"])
    finally:
        D.CHAPTERS[:] = saved


@pytest.fixture
def parser_calls(monkeypatch):
    """Record what reaches nnqft.rules.symbols.parse_expression (the safe parser another
    module owns) instead of running it."""
    calls = []

    def fake(text, extra=None):
        calls.append(text)
        return S.q

    monkeypatch.setattr(S, "parse_expression", fake)
    return calls


HOSTILE = "__import__('os').system('echo pwned')"


def test_strings_go_to_the_expression_parser(parser_calls):
    from nnqft.derive import meanfield
    from nnqft.derive.export import base as codegen
    from nnqft.derive.finite_width import recursions as finite_width
    from nnqft.rules.network import Network

    assert to_sympy(HOSTILE) == S.q
    assert formula_from_expression(HOSTILE).expression == S.q
    finite_width.gaussian_moment(HOSTILE)
    meanfield.length_map(Network("feedforward", "linear"), HOSTILE)
    codegen.prepare(HOSTILE)
    assert parser_calls == [HOSTILE] * 5


@pytest.mark.parametrize("bad", [object(), [1, 2], None, True, {"a": 1}, {HOSTILE: 1}])
def test_other_objects_are_type_errors_not_str_parsed(bad, parser_calls):
    with pytest.raises(NnqftError):
        formula_from_expression(bad)
    with pytest.raises(InvalidType):
        to_sympy(bad)
    assert parser_calls == []


def test_numbers_and_sympy_objects_pass_through():
    assert to_sympy(2) == 2 and to_sympy(0.5) == sp.Float(0.5)
    assert to_sympy(np.int64(3)) == 3 and to_sympy(S.T) is S.T
