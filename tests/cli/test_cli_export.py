"""`nnqft list`, `nnqft export`, `nnqft check` through the real command line."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest


def nnqft(*args):
    return subprocess.run(
        [sys.executable, "-m", "nnqft", *args], capture_output=True, text=True, timeout=300
    )


def test_list_json_has_the_contract_ids():
    p = nnqft("list", "--json")
    assert p.returncode == 0, p.stderr
    data = json.loads(p.stdout)
    ids = {row["id"] for row in data["formulas"]}
    for fid in (
        "linear-feedforward/mean",
        "linear-feedforward/variance",
        "linear-feedforward/log-mean",
        "linear-recurrent-shared/mean",
        "linear-recurrent-fresh/mean",
        "mft/length-map/relu",
        "mft/chi1/erf",
    ):
        assert fid in ids
    assert data["count"] == len(data["formulas"])


@pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc not installed")
def test_export_c_compiles_and_runs(tmp_path):
    p = nnqft("export", "mft/length-map/relu", "--lang", "c")
    assert p.returncode == 0, p.stderr
    main = (
        "#include <stdio.h>\nint main(void) "
        '{ printf("%.17g\\n", mft_length_map_relu(2.0, 0.5, 3.0)); return 0; }\n'
    )
    (tmp_path / "f.c").write_text(p.stdout + main)
    subprocess.run(["gcc", "-std=c99", "-o", tmp_path / "f", tmp_path / "f.c", "-lm"], check=True)
    out = subprocess.run([tmp_path / "f"], capture_output=True, text=True, check=True).stdout
    assert float(out) == 2.0 * 3.0 / 2 + 0.5


def test_export_json_is_one_object():
    p = nnqft("export", "linear-feedforward/mean", "--lang", "julia", "--json")
    assert p.returncode == 0, p.stderr
    data = json.loads(p.stdout)
    assert data["arguments"] == ["sigma_w2", "sigma_b2", "q0", "T"]
    assert "function linear_feedforward_mean(" in data["code"]


def test_export_lang_json_carries_srepr():
    p = nnqft("export", "mft/chi1/erf", "--lang", "json")
    data = json.loads(p.stdout)
    assert (
        data["srepr"].startswith("Mul(") and data["expression"] == "4*sigma_w2/(pi*sqrt(4*q + 1))"
    )


@pytest.mark.parametrize(
    "args, text",
    [
        (("export", "mft/lenght-map/erf", "--lang", "c"), "did you mean 'mft/length-map/erf'"),
        (("export", "mft/length-map/erf", "--lang", "cobol"), "unknown language 'cobol'"),
        (("check", "sigma_w2/(2", "--against", "mft/chi1/relu"), "cannot parse"),
    ],
)
def test_bad_input_is_one_line_exit_2(args, text):
    p = nnqft(*args)
    assert p.returncode == 2
    assert p.stdout == ""
    assert len(p.stderr.strip().splitlines()) == 1 and text in p.stderr


def test_check_exit_codes_and_json():
    assert nnqft("check", "sigma_w2/2", "--against", "mft/chi1/relu").returncode == 0
    p = nnqft(
        "check", "log(q0) + T*log(sigma_w2)", "--against", "linear-feedforward/log-mean", "--json"
    )
    assert p.returncode == 1
    data = json.loads(p.stdout)
    assert data["equivalent"] is False and data["first_differing_order_in_1_over_N"] == 1
    assert data["first_differing_order"] == 1
    assert data["leading_difference"] == "T"
