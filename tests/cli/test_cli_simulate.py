"""`nnqft simulate`, end to end through the console entry point (the CLI contract)."""

import json
import subprocess
import sys

import numpy as np
import pytest

from nnqft.cli import main
from nnqft.derive.meanfield import q_trajectory
from nnqft.rules.network import Network

BASE = ["simulate", "--activation", "tanh", "--sigma-w2", "1.5", "--sigma-b2", "0.05"]
KEYS = {
    "layer", "mean", "mean_stderr", "variance", "variance_stderr", "log_mean",
    "log_mean_stderr", "theory_mean",
}  # fmt: skip


def run(*args):
    return subprocess.run(
        [sys.executable, "-m", "nnqft", *args], capture_output=True, text=True, timeout=300
    )


def test_json_contract_feedforward():
    proc = run(*BASE, "--width", "16", "--depth", "6", "--samples", "20000", "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)  # exactly one JSON object, nothing else
    assert out["sampler"] == "fast"
    layers = out["layers"]
    assert [row["layer"] for row in layers] == [1, 2, 3, 4, 5, 6]
    assert all(set(row) == KEYS for row in layers)
    assert all(isinstance(row[k], float) for row in layers for k in KEYS - {"layer"})
    theory = q_trajectory(Network("feedforward", "tanh", 1.5, 0.05, width=16, depth=6))
    np.testing.assert_allclose([row["theory_mean"] for row in layers], theory)
    # layer 1 is exactly Gaussian: E Q(1) = sigma_w2 q0 + sigma_b2 at any width
    first = layers[0]
    assert abs(first["mean"] - 1.55) < 4 * first["mean_stderr"]


def test_recurrent_two_inputs_jobs_and_seed():
    args = [*BASE, "--arch", "recurrent", "--bias", "fresh", "--width", "32", "--depth", "4"]
    args += ["--samples", "600", "--c0", "0.5", "--seed", "7", "--json"]
    one = json.loads(run(*args, "--jobs", "1").stdout)
    two = json.loads(run(*args, "--jobs", "2").stdout)
    assert one == two  # the numbers do not depend on the number of processes
    assert one["sampler"] == "full" and one["bias"] == "fresh" and one["c0"] == 0.5
    row = one["layers"][0]
    assert {"correlation", "correlation_stderr", "q12", "theory_correlation"} <= set(row)


def test_text_table_and_plot(tmp_path):
    png = tmp_path / "sim.png"
    proc = run(*BASE, "--width", "8", "--depth", "3", "--samples", "500", "--c0", "0.2",
               "--plot", str(png))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "theory_mean" in proc.stdout and "sampler" in proc.stdout
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_full_sampler_flag():
    proc = run(*BASE, "--width", "8", "--depth", "2", "--samples", "50", "--sampler", "full",
               "--json")  # fmt: skip
    assert json.loads(proc.stdout)["sampler"] == "full"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--width", "0"], "width"),
        (["--depth", "0"], "depth"),
        (["--samples", "0"], "samples"),
        (["--sigma-w2", "-1"], "sigma_w2"),
        (["--sigma-b2", "-0.1"], "sigma_b2"),
        (["--sigma-w2", "abc"], "sigma-w2"),
        (["--activation", "tnah"], "did you mean 'tanh'"),
        (["--arch", "recurrent", "--sampler", "fast"], "feedforward"),
        (["--c0", "1.5"], "c0"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(extra, message, capsys):
    """In process (the console script runs the same ``main``): one stderr line, exit 2."""
    args = ["simulate", "--sigma-w2", "1.5", "--width", "4", "--depth", "2", "--samples", "10"]
    with pytest.raises(SystemExit) as exit_info:
        main([*args, *extra])
    out, err = capsys.readouterr()
    assert exit_info.value.code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert message in err


def test_bad_input_through_the_console_entry_point():
    proc = run("simulate", "--sigma-w2", "1.5", "--width", "4", "--depth", "2", "--samples", "0")
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip() == "nnqft: error: --samples must be an integer >= 1, got 0"
