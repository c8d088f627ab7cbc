"""``nnqft finite-width``: the CLI contract, the plot, and one-line errors (exit 2)."""

import json
import subprocess
import sys

import pytest
from conftest import run_cli as run


def test_json_contract_and_reference_values(capsys):
    code, out, err = run(
        "finite-width --activation tanh --sigma-w2 1 --sigma-b2 0 --q0 1 --depth 8 --json".split(),
        capsys,
    )
    assert code == 0 and err == ""
    data = json.loads(out)  # exactly one JSON object
    layers = data["layers"]
    assert [r["layer"] for r in layers] == list(range(1, 9))
    assert {"layer", "K0", "K1", "V", "chi_parallel", "chi_perp"} <= set(layers[0])
    assert abs(layers[5]["K0"] - 0.103441) < 1e-5  # values.json "finite_width"
    assert abs(layers[5]["K1"] - (-0.079861)) < 1e-5
    assert layers[0]["K0"] == 1.0 and layers[0]["V"] == 0 and layers[0]["K1"] == 0


def test_relu_json_is_exact_in_l(capsys):
    code, out, _ = run(
        "finite-width --activation relu --sigma-w2 2 --depth 5 --json --next-order".split(), capsys
    )
    rows = json.loads(out)["layers"]
    assert code == 0
    assert [r["V"] / r["K0"] ** 2 for r in rows] == pytest.approx([0, 5, 10, 15, 20], abs=1e-12)
    assert all(r["K1"] == 0 and "V1" in r for r in rows)


def test_text_output_and_universality(capsys):
    code, out, _ = run("finite-width --activation gelu --depth 3 --universality".split(), capsys)
    assert code == 0
    assert "K0" in out and "chi_perp" in out
    assert "universality class: K*!=0" in out


def test_two_inputs_option(capsys):
    code, out, _ = run(
        "finite-width --activation relu --sigma-w2 2 --depth 5 --c0 0.5 --json".split(), capsys
    )
    two = json.loads(out)["two_inputs"]
    assert code == 0 and [r["layer"] for r in two] == [1, 2, 3, 4, 5]
    assert two[0]["K0_12"] == 1.0 and two[0]["correlation0"] == 0.5  # sigma_w2 q0 c0
    assert two[1]["K1_12"] == 0 and two[-1]["K1_12"] < 0  # ReLU: K1_11 = 0 but K1_12 != 0


def test_plot_against_simulation(tmp_path, capsys):
    png = tmp_path / "fw.png"
    args = (
        f"finite-width --activation tanh --sigma-w2 1.5 --sigma-b2 0.05 --depth 3 "
        f"--plot {png} --width 4 --width 8 --samples 3000 --json"
    ).split()
    code, out, err = run(args, capsys)
    assert code == 0, err
    data = json.loads(out)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [s["width"] for s in data["simulation"]] == [4, 8]
    assert len(data["simulation"][0]["layers"]) == 3


@pytest.mark.parametrize(
    "args, message",
    [
        ("--depth 0", "depth"),
        ("--sigma-b2 -1", "sigma_b2"),
        ("--sigma-w2 -2", "sigma_w2"),
        ("--q0 -1", "q0"),
        ("--activation tnah", "unknown activation 'tnah'"),
        ("--width 8", "--plot"),
        ("--plot out.pdf", "PNG"),
        ("--c0 1.5", "--c0"),
    ],
)
def test_bad_input_is_one_line_exit_2(args, message, capsys):
    code, out, err = run(["finite-width", *args.split()], capsys)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and message in err


def test_console_entry_point_exit_code():
    proc = subprocess.run(
        [sys.executable, "-m", "nnqft", "finite-width", "--depth", "0"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("nnqft: error:") and "Traceback" not in proc.stderr
