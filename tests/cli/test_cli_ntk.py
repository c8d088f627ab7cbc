"""``nnqft ntk``: the JSON contract, the values against the closed forms, the simulation
beside the theory, and one-line errors (exit 2)."""

import json

import pytest
from conftest import run_cli as run


def test_json_contract_single_input(capsys):
    code, out, err = run(
        "ntk --activation relu --sigma-w2 2 --sigma-b2 0 --depth 5 --json".split(), capsys
    )
    assert code == 0 and err == ""
    data = json.loads(out)
    layers = data["layers"]
    assert [r["layer"] for r in layers] == [1, 2, 3, 4, 5]
    # ReLU at sigma_w2 = 2, sigma_b2 = 0, q0 = 1: H(l) = l q0 + l (the closed form)
    assert [r["ntk"] for r in layers] == pytest.approx([2, 4, 6, 8, 10], rel=1e-14)
    # scale invariance: no 1/n correction to the mean NTK of a ReLU net
    assert all(r["ntk_correction"] == pytest.approx(0, abs=1e-12) for r in layers)
    assert data["reasons"] == {}
    assert data["notes"] and data["method"] == "closed-form" and data["inputs"] == 1
    # layer 2 by hand, u ~ N(0, K1 = 2), H1 = 2: A = Var(relu(u)^2 + 4 step(u)) = 22 - 9,
    # B = C_W^2 H1^2 E[step^4] = 8, n Var(H_ii) = A + 2B
    assert layers[0]["ntk_variance"] == 0
    assert layers[1]["ntk_fluctuation"]["A"] == pytest.approx(13, rel=1e-10)
    assert layers[1]["ntk_fluctuation"]["B"] == pytest.approx(8, rel=1e-10)
    assert layers[1]["ntk_variance"] == pytest.approx(29, rel=1e-10)


def test_variance_is_null_with_its_reason_where_not_derived(capsys):
    # two inputs are derived (tests/cli/test_cli_ntk_two_inputs.py)
    for extra in ("--arch recurrent", "--arch recurrent --c0 0.5"):
        code, out, _ = run(f"ntk --activation erf --depth 3 {extra} --json".split(), capsys)
        data = json.loads(out)
        assert code == 0 and set(data["reasons"]) == {"ntk_correction", "ntk_variance"}
        assert all(
            r["ntk_variance"] is None and r["ntk_correction"] is None for r in data["layers"]
        )


def test_two_inputs_and_learning_rates(capsys):
    args = (
        "ntk --activation linear --sigma-w2 1 --depth 2 --c0 0.5 --lambda-b 2 --lambda-w 3 --json"
    )
    code, out, _ = run(args.split(), capsys)
    layers = json.loads(out)["layers"]
    assert code == 0
    # linear, sigma_b2 = 0: H12(1) = 2 + 3 (0.5), H12(2) = 2 + 3 K12(1) + H12(1) = 2 + 1.5 + 3.5
    assert layers[0]["ntk"] == [[5.0, 3.5], [3.5, 5.0]]
    assert layers[1]["ntk"][0][1] == pytest.approx(7.0, rel=1e-14)


def test_simulation_beside_the_theory(capsys):
    args = "ntk --activation tanh --sigma-w2 1.5 --sigma-b2 0.1 --depth 3 --width 16 --samples 300"
    args += " --json"
    code, out, err = run(args.split(), capsys)
    assert code == 0, err
    data = json.loads(out)
    assert data["simulation"]["width"] == 16 and data["simulation"]["samples"] == 300
    for r in data["layers"]:
        s = r["simulation"]
        # width 16: the 1/n correction is a few per cent; 10 standard errors or 5 %
        assert abs(s["ntk"] - r["ntk"]) < max(10 * s["ntk_stderr"], 0.05 * r["ntk"])
        # n Var(H_ii) -> ntk_variance; at n = 16 within 25 % or 5 standard errors
        assert abs(16 * s["variance"] - r["ntk_variance"]) <= max(
            0.25 * r["ntk_variance"], 5 * 16 * s["variance_stderr"], 1e-12
        )


def test_recurrent_text_output(capsys):
    code, out, _ = run(
        "ntk --activation erf --arch recurrent --bias fresh --depth 3".split(), capsys
    )
    assert code == 0
    assert "recurrent" in out and "ntk" in out and "ntk_variance: null" in out


@pytest.mark.parametrize(
    "args, message",
    [
        ("--depth 0", "depth"),
        ("--c0 1.5", "--c0"),
        ("--c0 nan", "--c0"),
        ("--inputs 2", "--c0"),
        ("--inputs 1 --c0 0.5", "--inputs 2"),
        ("--lambda-b -1", "lambda_b"),
        ("--lambda-w inf", "--lambda-w"),
        ("--bias shared", "recurrent"),
        ("--samples 10", "--width"),
        ("--width 0", "--width"),
        ("--width 4 --samples 1", "--samples"),
        ("--width 100000 --samples 10", "too large"),
        ("--activation tnah", "unknown activation"),
        ("--sigma-w2 -1", "sigma_w2"),
    ],
)
def test_bad_input_is_one_line_exit_2(args, message, capsys):
    code, out, err = run(["ntk", *args.split()], capsys)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and message in err


def test_dntk_in_the_json_only(capsys):
    # ReLU at sigma_w2 = 2, sigma_b2 = 0, q0 = 1: K1 = H1 = 2, P(2) = 2 C_W H1 <relu^2 step>
    # = 8 and Q(2) = 4 (phi phi'' = 0); the text output has no dntk column or note
    code, out, _ = run("ntk --activation relu --sigma-w2 2 --depth 3 --json".split(), capsys)
    layers = json.loads(out)["layers"]
    assert code == 0 and layers[0]["dntk"] == {"P": 0.0, "Q": 0.0}
    assert layers[1]["dntk"]["P"] == pytest.approx(8.0, rel=1e-10)
    assert layers[1]["dntk"]["Q"] == pytest.approx(4.0, rel=1e-10)
    code, out, _ = run("ntk --activation relu --sigma-w2 2 --depth 3".split(), capsys)
    assert code == 0 and "dntk" not in out
    # two inputs (--c0) have their own dntk keys: tests/cli/test_cli_dntk_two_inputs.py
    code, out, _ = run("ntk --activation erf --depth 3 --arch recurrent --json".split(), capsys)
    assert code == 0 and all("dntk" not in r for r in json.loads(out)["layers"])


def _layers(args, capsys):
    code, out, err = run(args.split(), capsys)
    assert code == 0, err
    data = json.loads(out)
    return data, data["layers"]


def test_linear_recurrent_correction(capsys):
    """Linear recurrent nets with one input fill ntk_correction (derive/ntk/
    recurrent_correction.py): shared bias at (0.8, 0.1), H1(3) = 2 lambda_b s and
    H1(4) = 2 s (2 lambda_W sigma_b2 + 2 lambda_b s + lambda_b); 0 for a fresh bias."""
    base = "ntk --arch recurrent --activation linear --sigma-w2 0.8 --sigma-b2 0.1 --depth 4"
    data, layers = _layers(f"{base} --width 32 --samples 50 --json", capsys)
    got = [r["ntk_correction"] for r in layers]
    assert got == pytest.approx([0, 0, 1.6, 1.6 * (0.2 + 1.6 + 1)], abs=1e-12)
    assert set(data["reasons"]) == {"ntk_variance"}
    assert all(r["ntk_variance"] is None and "simulation" in r for r in layers)
    assert [r["ntk"] for r in layers] == pytest.approx([2, 3.5, 4.62, 5.452], rel=1e-12)
    _, layers = _layers(f"{base} --lambda-b 2 --lambda-w 3 --json", capsys)
    assert layers[3]["ntk_correction"] == pytest.approx(1.6 * (0.6 + 3.2 + 2), rel=1e-12)
    _, layers = _layers(f"{base} --bias fresh --json", capsys)
    assert all(r["ntk_correction"] == 0 for r in layers)
    code, out, _ = run(f"{base} --width 32 --samples 20".split(), capsys)
    assert code == 0 and "ntk_correction" in out and "ntk_at_n" in out
    assert "ntk_correction: null" not in out and "ntk_variance: null" in out


def test_recurrent_correction_null_where_not_built(capsys):
    base = "ntk --arch recurrent --sigma-w2 0.8 --sigma-b2 0.1"
    for extra, needle in (
        ("--activation tanh --depth 3", "linear recurrent"),
        ("--activation linear --depth 3 --c0 0.5", "one input"),
        ("--activation linear --depth 101", "depth <= 100"),
    ):
        data, layers = _layers(f"{base} {extra} --json", capsys)
        assert all(r["ntk_correction"] is None for r in layers)
        assert needle in data["reasons"]["ntk_correction"]


def test_linear_recurrent_bad_input_is_one_line(capsys):
    args = "ntk --arch recurrent --activation linear --sigma-w2 1e200 --depth 4 --json"
    code, out, err = run(args.split(), capsys)
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    code, out, err = run("ntk --arch recurrent --bias tied --activation linear".split(), capsys)
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
