"""``nnqft ntk --inputs 2 --c0 C --json``: the two-input dNTK's components P_abcd, Q_abcd per
layer, the diagonal against the one-input P, Q, the existing keys unchanged, JSON only, and
one-line errors (exit 2)."""

import itertools
import json

import numpy as np
import pytest
from conftest import run_cli as run

from nnqft.derive.ntk.dntk_two_inputs import dntk_two_input_statistics
from nnqft.rules.network import Network

BASE = "ntk --activation tanh --sigma-w2 1.5 --sigma-b2 0.05 --depth 3 --json"
KEYS = {f"{k}_{a}{b}{c}{d}" for k in "PQ" for a in "12" for b in "12" for c in "12" for d in "12"}


def _json(args, capsys):
    code, out, err = run(args.split(), capsys)
    assert code == 0, err
    return json.loads(out)


def test_two_input_dntk_keys_and_values(capsys):
    two = _json(BASE + " --inputs 2 --c0 0.5", capsys)
    one = _json(BASE, capsys)
    assert any(n.startswith("dntk (two inputs)") and "P_abcd" in n for n in two["notes"])
    assert two["reasons"] == {}
    theory = dntk_two_input_statistics(Network("feedforward", "tanh", 1.5, 0.05), 0.5, 3)
    for r, o, t in zip(two["layers"], one["layers"], theory):
        # every existing key is still there, with the dntk beside them
        assert set(r) >= {"layer", "K", "ntk", "chi_perp", "ntk_correction", "ntk_variance",
                          "ntk_fluctuation", "dntk"}  # fmt: skip
        d = r["dntk"]
        assert set(d) == KEYS
        for key in ("P", "Q"):  # equal input indices: the one-input values
            for a in "12":
                assert d[f"{key}_{a * 4}"] == pytest.approx(o["dntk"][key], rel=1e-10, abs=1e-12)
            T = np.array(t[key])
            for q in np.ndindex(2, 2, 2, 2):
                assert d[key + "_" + "".join(str(i + 1) for i in q)] == T[q]
        # dH symmetric in (i1, a1) <-> (i2, a2)
        assert d["P_1122"] == d["P_1212"] and d["P_2121"] == d["P_2211"]
    assert abs(two["layers"][-1]["dntk"]["Q_1221"]) > 0.1  # a mixed component, not zero


def test_one_input_dntk_unchanged_and_text_without_dntk(capsys):
    one = _json(BASE, capsys)
    assert set(one["layers"][1]["dntk"]) == {"P", "Q"}
    code, out, _ = run(BASE.replace(" --json", " --c0 0.5").split(), capsys)
    assert code == 0 and "dntk" not in out


def test_relu_and_identical_inputs(capsys):
    relu = _json("ntk --activation relu --sigma-w2 2 --sigma-b2 0.1 --depth 3 --c0 0.3 --json",
                 capsys)  # fmt: skip
    d = relu["layers"][1]["dntk"]
    assert d["P_1111"] == pytest.approx(8.4, rel=1e-10)  # 2 lambda_W C_W H1 <phi^2 phi'^2>
    assert 0 < d["P_1221"] < d["P_1111"]
    same = _json(BASE + " --c0 1", capsys)
    assert len({v for v in same["layers"][-1]["dntk"].values()}) == 2  # P and Q


def test_degenerate_and_recurrent_have_no_dntk(capsys):
    data = _json("ntk --activation tanh --depth 3 --c0 -1 --sigma-b2 0 --json", capsys)
    assert all("dntk" not in r for r in data["layers"])
    data = _json("ntk --activation tanh --depth 3 --c0 0.5 --arch recurrent --json", capsys)
    assert all("dntk" not in r for r in data["layers"])


@pytest.mark.parametrize(
    "args, message",
    [("--c0 1.5", "--c0"), ("--inputs 2", "--c0"), ("--c0 nan", "--c0"),
     ("--inputs 1 --c0 0.5", "--c0")],
)  # fmt: skip
def test_bad_input_is_one_line_exit_2(args, message, capsys):
    code, out, err = run(["ntk", "--json", *args.split()], capsys)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and message in err


def test_a_dntk_that_fails_is_null_with_its_reason_in_the_json_only(monkeypatch, capsys):
    import nnqft.derive.ntk.dntk_two_inputs as module
    from nnqft.errors import InvalidParameter

    rows = module.dntk_rows  # the dNTK's rows, as the CLI steps them beside the corrections

    def refuse(*args, **kwargs):
        yield from itertools.islice(rows(*args, **kwargs), 2)  # layers 1, 2, then
        raise InvalidParameter("the two-input dNTK at layer 3 is beyond the floating-point range")

    monkeypatch.setattr(module, "dntk_rows", refuse)
    data = _json(BASE + " --c0 0.5", capsys)
    assert set(data["reasons"]) == {"dntk"} and "floating-point" in data["reasons"]["dntk"]
    assert all("dntk" not in r for r in data["layers"])
    assert data["layers"][-1]["ntk_correction"] is not None  # the rest stands
    code, out, _ = run(BASE.replace(" --json", " --c0 0.5").split(), capsys)
    assert code == 0 and "dntk" not in out
