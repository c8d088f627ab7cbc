"""`nnqft correlator` for nonlinear activations: numbers per layer from the fluctuation
diagrams (the CLI contract: "steps" with "coefficients", "diagrams")."""

import json
import subprocess
import sys

import pytest

from nnqft.derive.finite_width.recursions import finite_width
from nnqft.rules.network import Network


def run(*args):
    return subprocess.run(
        [sys.executable, "-m", "nnqft", "correlator", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_mean_json_equals_the_recursion():
    out = run(
        "--activation",
        "tanh",
        "--sigma-w2",
        "1.5",
        "--sigma-b2",
        "0.05",
        "--depth",
        "6",
        "--observable",
        "mean",
        "--order",
        "1",
        "--json",
    )
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    ref = finite_width(Network("feedforward", "tanh", 1.5, 0.05, q0=1.0), 6)
    assert [s["t"] for s in data["steps"]] == list(range(1, 7))
    for s, r in zip(data["steps"], ref):
        assert s["coefficients"]["0"] == pytest.approx(r["K0"], abs=1e-12)
        assert s["coefficients"]["1"] == pytest.approx(r["K1"], abs=1e-12)
    (tadpole,) = data["diagrams"]
    assert tadpole["name"] == "tadpole" and tadpole["symmetry_factor"] == "1/2"
    assert tadpole["n_power"] == -1 and tadpole["values"][-1] == pytest.approx(ref[-1]["K1"])


def test_variance_text_lists_the_diagrams():
    out = run(
        "--activation",
        "relu",
        "--sigma-w2",
        "2",
        "--sigma-b2",
        "0",
        "--depth",
        "3",
        "--observable",
        "variance",
        "--order",
        "1",
    )
    assert out.returncode == 0, out.stderr
    assert "Var Q(t)" in out.stdout and "tree (the dQ correlator)" in out.stdout


@pytest.mark.parametrize(
    "args, words",
    [
        (("--activation", "tanh", "--depth", "3", "--order", "1"), "--sigma-w2"),
        (("--activation", "tanh", "--sigma-w2", "1", "--sigma-b2", "0", "--depth", "3"), "--order"),
        (
            (
                "--activation",
                "tanh",
                "--sigma-w2",
                "1",
                "--sigma-b2",
                "0",
                "--depth",
                "3",
                "--order",
                "1",
                "--observable",
                "log-mean",
            ),
            "observable",
        ),
        (
            (
                "--activation",
                "nope",
                "--sigma-w2",
                "1",
                "--sigma-b2",
                "0",
                "--depth",
                "3",
                "--order",
                "1",
            ),
            "nope",
        ),
        (
            (
                "--activation",
                "tanh",
                "--sigma-w2",
                "1",
                "--sigma-b2",
                "0",
                "--depth",
                "0",
                "--order",
                "1",
            ),
            "depth",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args, words):
    out = run(*args)
    assert out.returncode == 2
    assert words in out.stderr and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_correlation_of_two_inputs():
    out = run("--activation", "tanh", "--sigma-w2", "1.5", "--sigma-b2", "0.05", "--depth", "3",
              "--order", "1", "--observable", "correlation", "--c0", "0.5", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    from nnqft.derive.finite_width.recursions import finite_width_two_inputs

    ref = finite_width_two_inputs(Network("feedforward", "tanh", 1.5, 0.05, q0=1.0), 0.5, 3)
    for s, r in zip(data["steps"], ref):
        assert s["coefficients"]["1"] == pytest.approx(r["correlation1"], abs=1e-10)
    missing = run("--activation", "tanh", "--sigma-w2", "1", "--sigma-b2", "0", "--depth", "3",
                  "--order", "1", "--observable", "correlation")
    assert missing.returncode == 2 and "--c0" in missing.stderr
