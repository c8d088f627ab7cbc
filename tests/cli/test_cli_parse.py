"""No text given to the CLI is evaluated as Python; bad or costly text is one line, exit 2.

Every payload runs with a fresh temporary folder as the working directory, and the file
it would create must not exist afterwards.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
from conftest import PAYLOADS, PWNED, run_cli

#: each command that takes --activation, with the other options it needs
COMMANDS = {
    "mft": ["mft", "--sigma-w2", "1.5", "--sigma-b2", "0.05"],
    "critical": ["critical", "--sigma-b2", "0.05"],
    "phase": ["phase", "--points", "3"],
    "finite-width": ["finite-width", "--sigma-w2", "1", "--sigma-b2", "0", "--depth", "2"],
    "simulate": [
        "simulate",
        "--sigma-w2",
        "1.5",
        "--width",
        "4",
        "--depth",
        "2",
        "--samples",
        "10",
    ],
    "action": ["action"],
}


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    assert not (tmp_path / PWNED).exists()
    assert os.listdir(tmp_path) == []


def _refused(code, out, err):
    assert code == 2, (out, err)
    assert out == ""
    assert len(err.strip().splitlines()) == 1 and err.startswith("nnqft: error: "), err
    assert "Traceback" not in err


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("payload", PAYLOADS)
def test_activation_payloads_are_refused(command, payload, in_tmp, capsys):
    _refused(*run_cli([*COMMANDS[command], "--activation", payload], capsys))


@pytest.mark.parametrize("payload", PAYLOADS + ["9**9**9**9", "sigma_w2**(10**10)"])
def test_check_payloads_are_refused(payload, in_tmp, capsys):
    start = time.perf_counter()
    _refused(*run_cli(["check", payload, "--against", "mft/chi1/relu"], capsys))
    assert time.perf_counter() - start < 5.0


@pytest.mark.parametrize("text", ["nan", "zoo", "oo", "-oo", "1/0"])
def test_check_refuses_non_finite(text, capsys):
    code, out, err = run_cli(["check", text, "--against", "mft/chi1/relu"], capsys)
    _refused(code, out, err)
    assert "not a finite expression" in err


def test_check_takes_an_expression_starting_with_minus(capsys):
    code, out, err = run_cli(
        ["check", "-sigma_w2/2", "--against", "mft/chi1/relu", "--json"], capsys
    )
    assert code == 1 and err == ""
    assert json.loads(out)["expression"] == "-sigma_w2/2"
    code, out, _ = run_cli(["check", "--against", "mft/chi1/relu", "-(-sigma_w2/2)"], capsys)
    assert code == 0 and "equivalent  yes" in out
    # options still work around it, and -- still works
    code, out, _ = run_cli(
        ["check", "--json", "--against=mft/chi1/relu", "--", "-sigma_w2"], capsys
    )
    assert code == 1 and json.loads(out)["equivalent"] is False


def test_check_refuses_a_negative_order_at_once(capsys):
    start = time.perf_counter()
    code, out, err = run_cli(
        ["check", "q0*sigma_w2**T", "--against", "linear-recurrent-shared/mean", "--order", "-1"],
        capsys,
    )
    assert time.perf_counter() - start < 2.0  # refused before any derivation
    _refused(code, out, err)
    assert "--order" in err


def test_mft_activation_injection_in_a_real_process(tmp_path):
    payload = f"__import__('os').system('touch {PWNED}')"
    for args in (
        ["mft", "--activation", payload, "--sigma-w2", "1.5", "--sigma-b2", "0.05"],
        ["check", payload, "--against", "mft/chi1/relu"],
    ):
        p = subprocess.run(
            [sys.executable, "-m", "nnqft", *args], capture_output=True, text=True, cwd=tmp_path
        )
        assert p.returncode == 2 and p.stdout == ""
        assert len(p.stderr.strip().splitlines()) == 1 and "Traceback" not in p.stderr
    assert not (tmp_path / PWNED).exists()


def test_valid_expressions_still_work(capsys):
    code, out, _ = run_cli(
        ["mft", "--activation", "tanh(z)+0.1*z**3", "--sigma-w2", "1.5", "--sigma-b2", "0.05",
         "--json"],
        capsys,
    )  # fmt: skip
    assert code == 0 and json.loads(out)["activation"] == "tanh(z)+0.1*z**3"
    code, out, _ = run_cli(["check", "sigma_w2^1/2", "--against", "mft/chi1/relu"], capsys)
    assert code == 0
