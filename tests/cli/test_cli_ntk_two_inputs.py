"""``nnqft ntk --inputs 2 --c0 C``: the 2x2 O(1/n) entries in the JSON contract, their
diagonal against one input, the simulation beside them, nulls with reasons, and one-line
errors (exit 2)."""

import json

import pytest
from conftest import run_cli as run


def _json(args, capsys):
    code, out, err = run(args.split(), capsys)
    assert code == 0, err
    return json.loads(out)


def test_two_input_corrections_fill_the_contract(capsys):
    base = "ntk --activation tanh --sigma-w2 1.5 --sigma-b2 0.05 --depth 4 --json"
    two = _json(base + " --inputs 2 --c0 0.5", capsys)
    one = _json(base, capsys)
    assert two["reasons"] == {} and two["inputs"] == 2 and two["c0"] == 0.5
    for key in ("activation", "arch", "depth", "method", "layers", "notes", "reasons"):
        assert key in two
    assert any("ntk_correction (two inputs)" in n for n in two["notes"])
    assert any("ntk_variance (two inputs)" in n for n in two["notes"])
    for r, o in zip(two["layers"], one["layers"]):
        assert set(r) >= {"layer", "K", "ntk", "chi_perp", "ntk_correction", "ntk_variance"}
        c, v = r["ntk_correction"], r["ntk_variance"]
        assert len(c) == 2 and len(v) == 2 and c[0][1] == c[1][0] and v[0][1] == v[1][0]
        # the diagonal entries are the one-input values
        assert c[0][0] == pytest.approx(o["ntk_correction"], rel=1e-10, abs=1e-12)
        assert c[1][1] == pytest.approx(o["ntk_correction"], rel=1e-10, abs=1e-12)
        assert v[0][0] == pytest.approx(o["ntk_variance"], rel=1e-10, abs=1e-12)
        assert set(r["ntk_fluctuation"]) == {"A", "B", "D", "entry_covariance"}
        assert "P_1111" in r["dntk"]  # the two-input dNTK: tests/cli/test_cli_dntk_two_inputs.py
    last = two["layers"][-1]
    assert last["ntk_correction"][0][1] > 0.1 and last["ntk_variance"][0][1] > 1


def test_relu_diagonal_correction_is_zero(capsys):
    data = _json("ntk --activation relu --sigma-w2 2 --depth 4 --c0 0.3 --json", capsys)
    for r in data["layers"]:
        assert r["ntk_correction"][0][0] == pytest.approx(0, abs=1e-10 * r["ntk"][0][0])
    assert data["layers"][-1]["ntk_correction"][0][1] > 0.1


def test_simulation_beside_the_two_input_theory(capsys):
    args = "ntk --activation tanh --sigma-w2 1.5 --sigma-b2 0.05 --depth 3 --inputs 2 --c0 0.5"
    data = _json(args + " --width 32 --samples 400 --json", capsys)
    assert "entry_variance" in data["simulation"]["what"]
    for r in data["layers"][1:]:
        s = r["simulation"]
        for key in ("ntk", "variance", "offdiagonal_variance", "diagonal_covariance"):
            assert key in s  # the existing keys, unchanged
        # n Var H_ii;12 -> ntk_variance_12: at n = 32, 400 networks, within 5 standard
        # errors or 25 %
        nvar, err = 32 * s["entry_variance"][0][1], 32 * s["entry_variance_stderr"][0][1]
        assert abs(nvar - r["ntk_variance"][0][1]) < max(5 * err, 0.25 * r["ntk_variance"][0][1])
        ncov = 32 * s["entry_covariance"]
        pred = r["ntk_fluctuation"]["entry_covariance"]
        assert abs(ncov - pred) < max(5 * 32 * s["entry_covariance_stderr"], 0.25 * pred)


def test_text_output_has_the_two_input_columns(capsys):
    code, out, _ = run(
        "ntk --activation erf --depth 3 --c0 0.5 --width 8 --samples 20".split(), capsys
    )
    assert code == 0
    for column in ("ntk_correction_12", "ntk_variance_12", "ntk_12_at_n", "n_var_12_sim"):
        assert column in out
    assert "ntk_correction: null" not in out


@pytest.mark.parametrize(
    "extra, reason",
    [("--arch recurrent --c0 0.5", "feedforward"), ("--c0 -1 --sigma-b2 0", "degenerate")],
)
def test_null_with_a_reason(extra, reason, capsys):
    data = _json(f"ntk --activation tanh --depth 3 {extra} --json", capsys)
    assert set(data["reasons"]) == {"ntk_correction", "ntk_variance"}
    assert reason in data["reasons"]["ntk_correction"]
    assert all(r["ntk_correction"] is None and r["ntk_variance"] is None for r in data["layers"])


def test_identical_and_opposite_inputs_with_bias(capsys):
    data = _json("ntk --activation tanh --depth 3 --c0 1 --json", capsys)
    assert data["layers"][-1]["ntk_correction"][0][1] == data["layers"][-1]["ntk_correction"][0][0]
    data = _json("ntk --activation tanh --sigma-b2 0.1 --depth 3 --c0 -1 --json", capsys)
    assert data["reasons"] == {}


@pytest.mark.parametrize(
    "args, message",
    [
        ("--c0 1.5", "--c0"),
        ("--c0 -1.01", "--c0"),
        ("--c0 nan", "--c0"),
        ("--inputs 2", "--c0"),
        ("--inputs 3 --c0 0.5", "--inputs"),
        ("--c0 0.5 --width 1", "--width"),
    ],
)
def test_bad_input_is_one_line_exit_2(args, message, capsys):
    code, out, err = run(["ntk", *args.split()], capsys)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and message in err


def test_a_kernel_too_large_for_the_plane_rule_nulls_the_corrections(capsys):
    """ReLU at sigma_w2 = 8 doubles K twice per layer: by layer 3 (K = 128) the plane rule
    would need over 5e6 nodes. The corrections are null with that reason (no memory blow-up),
    the infinite-width NTK of every layer stands."""
    d = _json("ntk --activation relu --sigma-w2 8 --depth 5 --c0 0.2 --json", capsys)
    for key in ("ntk_correction", "ntk_variance"):
        assert "plane rule" in d["reasons"][key]
    assert all(r["ntk_correction"] is None for r in d["layers"])
    assert d["layers"][-1]["ntk"][0][0] > 1e3
