"""The expression-tree codec and the content-addressed cache: exact round trips, and
nothing read back from a cache file is evaluated (altered entries are recomputed)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import sympy as sp
from conftest import run_cli

from nnqft.derive import cache
from nnqft.derive.exprtree import ExprTreeError, from_tree, to_tree
from nnqft.derive.formulas import get_formula, list_formulas
from nnqft.derive.loops import amplitudes as A
from nnqft.errors import NnqftError
from nnqft.rules import action
from nnqft.rules import symbols as S
from nnqft.rules.network import Network


def assert_round_trip(expr):
    tree = to_tree(expr)
    text = json.dumps(tree)
    back = from_tree(json.loads(text))
    assert back == expr
    assert back.args == expr.args
    assert sp.srepr(back) == sp.srepr(expr)
    assert to_tree(back) == tree
    return tree


# --- the codec ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fid",
    [
        pytest.param(fid, marks=[pytest.mark.slow] if fid.startswith("linear-recurrent") else [])
        for fid in list_formulas()
    ],
)
def test_every_registered_formula_round_trips_exactly(fid):
    f = get_formula(fid)
    assert_round_trip(f.expression)
    for condition in f.validity:
        assert_round_trip(condition)


x = sp.Symbol("x", real=True)
k = sp.Symbol("k", integer=True)
SAMPLES = [
    sp.Float("0.1"),
    sp.Float("-2.5e-30", 30),
    sp.Float(0),
    sp.pi * sp.E + sp.I + sp.EulerGamma,
    sp.oo,
    -sp.oo,
    sp.Rational(-7, 3),
    sp.Integer(10) ** 400,
    sp.Piecewise((x, x > 1), (0, True)),
    sp.Max(x, S.q) + sp.Min(x, 1) + sp.Abs(x) + sp.sign(x),
    sp.erf(x) + sp.tanh(x) + sp.gamma(S.q) + sp.polygamma(1, S.q) + sp.harmonic(S.T),
    sp.Sum(x**k, (k, 1, S.T)),
    sp.Product(k, (k, 1, S.T)),
    sp.Lambda(action.u, action.u**2),
    action.GaussianMean(sp.Lambda(action.u, sp.tanh(action.u)), S.q),
    action.BivariateGaussianMean(
        sp.Lambda((action.u1, action.u2), action.phi(action.u1) * action.phi(action.u2)),
        S.q11,
        S.q22,
        S.q12,
    ),
    sp.Eq(x, 1, evaluate=False),
    sp.Ne(x, 1),
    sp.And(x > 1, x < 2),
    sp.Or(x >= 1, sp.Not(x <= 2)),
    sp.Heaviside(x) + sp.floor(x) + sp.Mod(k, 2) + sp.binomial(S.T, 2) + sp.factorial(S.T),
    sp.sqrt(S.q),
    sp.Derivative(action.phi(action.u), action.u),
    sp.Function("Q")(S.T),
    sp.atan2(x, 1) + sp.exp(-(x**2) / 2) / sp.sqrt(2 * sp.pi),
]


@pytest.mark.parametrize("expr", SAMPLES, ids=lambda e: sp.srepr(e)[:40])
def test_sample_expressions_round_trip_exactly(expr):
    assert_round_trip(expr)


def test_exporters_expm1_round_trips():
    from nnqft.derive.export.base import expm1

    tree = assert_round_trip(expm1(S.q) + sp.log(S.q))
    assert "nnqft.expm1" in json.dumps(tree)


def test_model_symbols_come_back_as_the_same_objects():
    back = from_tree(to_tree(S.sigma_w2**S.T + S.N))
    assert any(a is S.N for a in back.args)
    assert {s.name: s for s in back.free_symbols}["sigma_w2"] is S.sigma_w2


def test_an_edited_number_changes_the_value_not_the_code():
    tree = to_tree(2 * S.q)
    assert tree[1] == ["Integer", "2"]
    tree[1] = ["Integer", "3"]
    assert from_tree(tree) == 3 * S.q


BAD_TREES = [
    ["eval", "__import__('os').system('true')"],
    ["__import__", "os"],
    ["exec", ["Integer", "1"]],
    ["getattr", ["Symbol", "x", {}], "__class__"],
    ["Function", "__import__", ["Integer", "1"]],
    ["Function", "not a name", ["Integer", "1"]],
    ["UnknownClass", ["Integer", "1"]],
    "Integer(2)",
    {"Integer": "2"},
    [],
    [1, 2],
    ["Integer", 2],
    ["Integer", "02"],
    ["Integer", "-0"],
    ["Integer", "2", "3"],
    ["Integer", "1" * 5000],
    ["Rational", "2", "4"],
    ["Rational", "1", "1"],
    ["Rational", "1", "-2"],
    ["Float", "2", 0, 53],
    ["Float", "1", 0, 0],
    ["Float", "1", True, 53],
    ["Symbol", 1, {}],
    ["Symbol", "x"],
    ["Symbol", "x", {"positive": 1}],
    ["Symbol", "x", {"__class__": True}],
    ["Symbol", "x", {"positive": True, "negative": True}],
    ["Symbol", "", {}],
    ["Pow", ["Integer", "2"]],
    ["Add", ["Integer", "2"]],
    ["Add", ["Integer", "2"], ["BooleanTrue"]],
    ["exp", ["Integer", "1"], ["Integer", "2"]],
    ["Equality", ["Integer", "1"]],
    ["And", ["Integer", "1"], ["Integer", "2"]],
    ["Piecewise", ["Integer", "1"]],
    ["Pi", ["Integer", "1"]],
    ["NaN"],
    ["ComplexInfinity"],
    ["Lambda", ["Integer", "1"], ["Integer", "2"]],
]


@pytest.mark.parametrize("tree", BAD_TREES, ids=lambda t: json.dumps(t)[:40])
def test_bad_trees_are_codec_errors(tree):
    with pytest.raises(ExprTreeError) as info:
        from_tree(tree)
    assert isinstance(info.value, NnqftError)
    assert "\n" not in str(info.value)


def test_non_canonical_nodes_are_rejected():
    # evaluate=False keeps Add's args in the stored order, but a Piecewise drops pairs
    # after a True condition: the rebuilt node would not be the stored one
    t = ["Symbol", "x", {}]
    tree = ["Piecewise", ["ExprCondPair", t, ["BooleanTrue"]], ["ExprCondPair", t, ["BooleanTrue"]]]
    with pytest.raises(ExprTreeError, match="canonical"):
        from_tree(tree)


def test_size_limits(monkeypatch):
    deep = ["Symbol", "x", {}]
    for _ in range(300):
        deep = ["exp", deep]
    with pytest.raises(ExprTreeError, match="deeper"):
        from_tree(deep)
    expr = x
    for _ in range(300):
        expr = sp.exp(expr)
    with pytest.raises(ExprTreeError, match="deeper"):
        to_tree(expr)
    import nnqft.derive.exprtree as E

    monkeypatch.setattr(E, "MAX_NODES", 10)
    wide = ["Add", *(["Symbol", f"x{i}", {}] for i in range(20))]
    with pytest.raises(ExprTreeError, match="nodes"):
        from_tree(wide)
    with pytest.raises(ExprTreeError, match="nodes"):
        to_tree(sp.Add(*sp.symbols("x0:20")))


@pytest.mark.parametrize("expr", [sp.nan, sp.zoo, sp.Dummy("d") + 1, sp.Wild("w"), sp.Matrix([1])])
def test_unstorable_expressions_are_codec_errors(expr):
    with pytest.raises(ExprTreeError):
        to_tree(expr)


# --- the cache -----------------------------------------------------------------------------


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("NNQFT_CACHE_DIR", str(folder))
    return folder


def entries(folder: Path) -> list[Path]:
    return sorted(folder.glob("*/*.json"))


def test_entry_layout_and_checksum(cache_dir):
    key = cache.cache_key({"what": "test"})
    cache.store(key, {"v": 2 * S.q, "n": [1, "a"]})
    (path,) = entries(cache_dir)
    doc = json.loads(path.read_text())
    assert set(doc) == {"format", "key", "checksum", "value"}
    assert doc["format"] == cache.FORMAT == 2 and doc["key"] == key
    assert doc["checksum"] == cache.checksum(doc["value"])
    assert doc["value"]["v"] == {"__tree__": to_tree(2 * S.q)}
    assert cache.load(key) == {"v": 2 * S.q, "n": [1, "a"]}


def _tamper_int(doc):  # Integer(2) -> Integer(3), old checksum kept
    text = json.dumps(doc["value"])
    assert '["Integer", "2"]' in text
    doc["value"] = json.loads(text.replace('["Integer", "2"]', '["Integer", "3"]', 1))
    return json.dumps(doc)


def _payload(node, fix_checksum):
    def tamper(doc):
        doc["value"] = {"x": {"__tree__": node}}
        if fix_checksum:
            doc["checksum"] = cache.checksum(doc["value"])
        return json.dumps(doc)

    return tamper


def _with(**changes):
    def tamper(doc):
        doc.update(changes)
        return json.dumps(doc)

    return tamper


PWNED = "nnqft-pwned-marker"
PAYLOAD = f"open({PWNED!r}, 'w').write('x')"

TAMPERS = {
    "integer-edited": _tamper_int,
    "checksum-edited": _with(checksum="0" * 64),
    "key-mismatch": _with(key="f" * 64),
    "old-format": _with(format=1),
    "garbage-bytes": lambda doc: b"\x00\xff\xfe garbage \x80",
    "json-list": lambda doc: json.dumps([doc]),
    "empty": lambda doc: "",
    "eval-node": _payload(["eval", PAYLOAD], True),
    "import-node": _payload(["__import__", "os"], True),
    "unknown-class": _payload(["Subclasses", ["Integer", "1"]], False),
    "srepr-string": _payload(f"Integer(3) if {PAYLOAD} else 0", True),
    "deep-json": lambda doc: "[" * 100_000 + "]" * 100_000,
}


def _write(path: Path, data) -> None:
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data)


@pytest.mark.parametrize("how", TAMPERS)
def test_tampered_entry_is_a_miss_recomputed_with_one_warning(how, cache_dir, capsys):
    content = {"what": "test", "how": how}
    calls = []

    def compute():
        calls.append(1)
        return {"v": 2 * S.q + S.N}

    assert cache.cached(content, compute) == {"v": 2 * S.q + S.N}
    (path,) = entries(cache_dir)
    good = path.read_text()
    _write(path, TAMPERS[how](json.loads(good)))
    assert cache.cached(content, compute) == {"v": 2 * S.q + S.N}
    assert len(calls) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [f"nnqft: warning: cache entry {path} was unreadable or altered; recomputed"]
    assert path.read_text() == good  # rewritten
    assert cache.cached(content, compute) == {"v": 2 * S.q + S.N}
    assert len(calls) == 2 and capsys.readouterr().err == ""
    assert not Path(PWNED).exists() and not (cache_dir / PWNED).exists()


def test_load_of_an_altered_entry_warns_and_returns_none(cache_dir, capsys):
    key = cache.cache_key({"what": "x"})
    cache.store(key, {"v": S.q})
    (path,) = entries(cache_dir)
    path.write_text("[]")
    assert cache.load(key) is None
    assert capsys.readouterr().err.count("\n") == 1


def test_missing_entry_is_silent(cache_dir, capsys):
    assert cache.load(cache.cache_key({"what": "nothing"})) is None
    assert capsys.readouterr().err == ""


def test_unstorable_value_is_skipped(cache_dir):
    key = cache.cache_key({"what": "dummy"})
    cache.store(key, {"v": sp.Dummy("d")})
    assert entries(cache_dir) == []


def test_no_eval_left_in_the_cache_module():
    source = Path(cache.__file__).read_text() + Path(A.__file__).read_text()
    assert "decode_srepr" not in source and "eval(" not in Path(cache.__file__).read_text()
    assert not hasattr(cache, "decode_srepr")


# --- what the engine caches ----------------------------------------------------------------

CORRELATORS = [
    ("recurrent", "mean", "shared", 1, False),
    ("recurrent", "mean", "fresh", 2, False),
    ("recurrent", "variance", "shared", 1, False),
    ("feedforward", "mean", None, None, True),
    ("feedforward", "variance", None, None, True),
    ("feedforward", "log-mean", None, None, True),
    ("feedforward", "log-mean", None, 1, False),
]


@pytest.mark.parametrize("arch,observable,bias,order,exact", CORRELATORS)
def test_cached_correlators_come_back_exactly(arch, observable, bias, order, exact, cache_dir):
    raw = A._derive(
        arch, observable, bias or ("shared" if arch == "recurrent" else None), order, exact
    )
    net = Network(arch, "linear", bias=bias)
    cold = A.correlator(net, observable, order=order, exact=exact)
    assert entries(cache_dir)
    warm = A.correlator(net, observable, order=order, exact=exact)
    for c in (cold, warm):
        assert sp.srepr(c.expression) == sp.srepr(raw.expression)
        assert c.coefficients == raw.coefficients and c.validity == raw.validity
        got = [A._as_equation(e) for _, _, eqs in c.steps for e in eqs]
        want = [e for _, _, eqs in raw.steps for e in eqs]
        assert got == want and [sp.srepr(e) for e in got] == [sp.srepr(e) for e in want]


CLI = [
    "correlator", "--arch", "recurrent", "--activation", "linear", "--bias", "shared",
    "--observable", "mean", "--order", "1", "--json",
]  # fmt: skip


@pytest.mark.parametrize(
    "how",
    [
        "integer-edited",
        "checksum-edited",
        "garbage-bytes",
        "json-list",
        "eval-node",
        "import-node",
        "unknown-class",
    ],
)
def test_cli_recomputes_tampered_cache_entries(how, cache_dir, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, first, err = run_cli(CLI, capsys)
    assert code == 0 and err == ""
    code, second, err = run_cli(CLI, capsys)
    assert (code, second, err) == (0, first, "")
    files = entries(cache_dir)
    assert len(files) == 2  # the diagram ids and the correlator
    for path in files:
        doc = json.loads(path.read_text())
        if how == "integer-edited" and '["Integer", "2"]' not in json.dumps(doc["value"]):
            path.write_text(_payload(["Integer", "2"], False)(doc))  # the ids entry
        else:
            _write(path, TAMPERS[how](doc))
    before = sorted(p for p in tmp_path.rglob("*"))
    code, third, err = run_cli(CLI, capsys)
    assert code == 0 and third == first
    lines = err.splitlines()
    assert len(lines) == len(files)
    assert all(line.startswith("nnqft: warning: cache entry ") for line in lines)
    assert {line.split()[4] for line in lines} == {str(p) for p in files}
    assert sorted(p for p in tmp_path.rglob("*")) == before  # no file made by a payload
    assert json.loads(third)["expression"] == json.loads(first)["expression"]
    code, fourth, err = run_cli(CLI, capsys)
    assert (code, fourth, err) == (0, first, "")
    assert not os.path.exists(PWNED)
