"""`nnqft mft`, `nnqft critical`, `nnqft phase`: the CLI contract, one-line errors."""

import json
import math
import subprocess
import sys

import pytest
from conftest import run_cli as run


def test_mft_json_contract(capsys):
    code, out, err = run(
        "mft --activation tanh --sigma-w2 1.5 --sigma-b2 0.05 --json".split(), capsys
    )
    assert code == 0 and err == ""
    data = json.loads(out)  # exactly one JSON object, nothing else
    keys = {"q_star", "c_star", "chi_1", "chi_c", "lyapunov_exponent", "xi_q", "xi_c", "phase"}
    assert keys <= set(data) and {"method", "activation", "sigma_w2", "sigma_b2"} <= set(data)
    assert data["q_star"] == pytest.approx(0.418037, abs=1e-4)  # values.json "mft"
    assert data["chi_1"] == pytest.approx(0.938636, abs=1e-4)
    assert data["xi_c"] == pytest.approx(15.7910, abs=1e-4)
    assert data["xi_q"] == pytest.approx(1.6828, abs=1e-4)
    assert data["c_star"] == 1.0 and data["phase"] == "ordered"
    assert "gauss-hermite" in data["method"]


def test_mft_critical_scales_are_null_in_json(capsys):
    code, out, _ = run("mft --activation relu --sigma-w2 2 --json".split(), capsys)
    data = json.loads(out)
    assert code == 0 and data["phase"] == "critical"
    assert data["xi_c"] is None and data["xi_q"] is None and data["method"] == "closed-form"


def test_mft_text_and_q0(capsys):
    code, out, _ = run("mft --activation relu --sigma-w2 2 --q0 3".split(), capsys)
    assert code == 0
    lines = dict(line.split(None, 1) for line in out.strip().splitlines())
    assert float(lines["q_star"]) == 6.0  # marginal ReLU keeps q(1) = sigma_w2 q0
    assert lines["xi_c"].strip() == "inf" and lines["phase"].strip() == "critical"


def test_critical_json(capsys):
    code, out, err = run("critical --activation tanh --sigma-b2 0.05 --json".split(), capsys)
    data = json.loads(out)
    assert code == 0 and err == ""
    assert {"sigma_w2", "sigma_b2", "q_star"} <= set(data)
    assert data["sigma_w2"] == pytest.approx(1.760955, abs=1e-5)
    assert data["q_star"] == pytest.approx(0.570048, abs=1e-5)
    code, out, _ = run("critical --activation erf --sigma-b2 0 --json".split(), capsys)
    assert json.loads(out)["sigma_w2"] == pytest.approx(math.pi / 4, abs=1e-15)


def test_critical_without_bias_is_chi_parallel_equals_chi_perp(capsys):
    code, out, _ = run("critical --activation gelu --json".split(), capsys)
    data = json.loads(out)
    assert code == 0 and data["q_star"] > 1 and data["sigma_b2"] > 0
    assert data["chi_1"] == pytest.approx(1, abs=1e-12)
    assert data["chi_parallel"] == pytest.approx(1, abs=1e-10)


def test_phase_json_and_plot(tmp_path, capsys):
    png = tmp_path / "phase.png"
    args = f"phase --activation erf --points 6 --plot {png} --json".split()
    code, out, err = run(args, capsys)
    assert code == 0 and err == ""
    data = json.loads(out)
    assert len(data["sigma_w2"]) == 6 and len(data["sigma_b2"]) == 6
    assert len(data["xi_c"]) == 6 and len(data["xi_c"][0]) == 6
    assert len(data["critical_line"]) == 6
    assert data["critical_line"][0]["sigma_w2"] == pytest.approx(math.pi / 4)
    assert {p for row in data["phase"] for p in row} <= {"ordered", "critical", "chaotic"}
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and data["plot"] == str(png)


def test_phase_text(capsys):
    code, out, _ = run("phase --activation tanh --points 5".split(), capsys)
    assert code == 0
    lines = out.splitlines()
    table = lines[lines.index("critical line (chi_1 = 1):") + 1 :]
    assert table[0].split() == ["sigma_b2", "sigma_w2", "q_star"]
    assert table[2].split() == ["0", "1", "0"]  # tanh's line starts at (1, 0) with q* = 0
    assert len(table) == 2 + 5


def test_phase_finite_width_edge(tmp_path, capsys):
    png = tmp_path / "edge.png"
    args = f"phase --activation erf --points 4 --sigma-b2-range 0.1 0.4 --width 64 --plot {png}"
    code, out, _ = run((args + " --json").split(), capsys)
    assert code == 0
    data = json.loads(out)
    edge = data["critical_line_finite_width"]
    assert edge["width"] == 64 and len(edge["points"]) == 4
    for p, mf in zip(edge["points"], data["critical_line"]):
        assert p["mean_field"] == pytest.approx(mf["sigma_w2"], rel=1e-9)
        assert p["sigma_w2"] == pytest.approx(p["mean_field"] + p["coefficient_1"] / 64)
        assert p["sigma_w2"] > p["mean_field"] and p["reason"] is None
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    code, out, _ = run(args.split(), capsys)
    lines = out.splitlines()
    table = lines[lines.index("critical line at N = 64 (lambda_max(N) = 0, through 1/N):") + 1 :]
    assert table[0].split() == ["sigma_b2", "sigma_w2", "mean_field", "coefficient_1"]
    assert len(table) == 2 + 4
    # without --width the JSON has no such key (the contract of the mean-field diagram)
    _, out, _ = run("phase --activation erf --points 3 --json".split(), capsys)
    assert "critical_line_finite_width" not in json.loads(out)


@pytest.mark.parametrize(
    "args, message",
    [
        ("phase --points 3 --width 1", "--width must be an integer >= 2"),
        ("mft --activation tnah --sigma-w2 1", "unknown activation 'tnah'; known: "),
        ("mft --sigma-w2 -1", "sigma_w2 must be positive"),
        ("mft --sigma-w2 1 --sigma-b2 -0.1", "sigma_b2 must be non-negative"),
        ("mft --sigma-w2 abc", "'abc' is not a valid float"),
        ("mft --sigma-w2 nan", "sigma_w2 must be finite"),
        ("mft --sigma-w2 1 --nodes 1", "--nodes must be an integer >= 2"),
        ("critical --sigma-b2 -1", "sigma_b2 must be a finite number >= 0"),
        ("critical --activation gelu --sigma-b2 0.1", "no critical point of 'gelu'"),
        ("phase --points 1", "--points must be an integer >= 2"),
        ("phase --sigma-w2-range 2 1", "--sigma-w2-range needs finite MIN < MAX"),
        ("phase --sigma-b2-range -1 1", "--sigma-b2-range must be non-negative"),
    ],
)
def test_bad_input_is_one_line_exit_2(args, message, capsys):
    code, out, err = run(args.split(), capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and message in err, err
    assert "Traceback" not in err


def test_unknown_activation_lists_known_ones(capsys):
    _, _, err = run("critical --activation nope".split(), capsys)
    assert "tanh" in err and "relu" in err and "gelu" in err


def test_console_entry_point_subprocess():
    """The real process: `python -m nnqft` prints only JSON and exits 0; errors exit 2."""
    ok = subprocess.run(
        [sys.executable, "-m", "nnqft", "mft", "--activation", "erf", "--sigma-w2", "3", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ok.returncode == 0 and ok.stderr == ""
    assert json.loads(ok.stdout)["c_star"] == 0.0
    bad = subprocess.run(
        [sys.executable, "-m", "nnqft", "mft", "--sigma-w2", "-2"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2 and bad.stdout == "" and len(bad.stderr.splitlines()) == 1
