"""`nnqft check` as a user reads it: the verdict in words, the correct formula, the
factored difference; never a failed-looking number beside a right verdict."""

from __future__ import annotations

import json

from conftest import run_cli


def test_right_answer_where_the_formula_vanishes_reads_clean(capsys):
    code, out, err = run_cli(
        [
            "check",
            "2*q0**2*sigma_w2**(2*T)*T - 2*q0**2*exp(2*T*log(sigma_w2))",
            "--against",
            "finite-width/V/linear",
        ],
        capsys,
    )
    assert code == 0 and err == ""
    assert "verdict     equivalent (proven symbolically" in out
    assert "trust" not in out and "max relative difference" not in out
    assert "correct     2*q0**2*sigma_w2**(2*T)*(T - 1)" in out


def test_numeric_only_equivalence_says_so(capsys):
    args = ["check", "sigma_b2 + 2*sigma_w2*atan(2*q/sqrt(1 + 4*q))/pi"]
    code, out, _ = run_cli([*args, "--against", "mft/length-map/erf"], capsys)
    assert code == 0
    assert "equivalent (numerically, 40 digits at 24 points; not proven symbolically)" in out


def test_wrong_answer_text_and_json(capsys):
    code, out, _ = run_cli(["check", "sigma_w2", "--against", "mft/chi1/relu"], capsys)
    assert code == 1
    assert "diagnosis   your result is 2 x the correct one" in out
    assert "correct     sigma_w2/2" in out
    code, out, _ = run_cli(["check", "-sigma_w2", "--against", "mft/chi1/relu", "--json"], capsys)
    data = json.loads(out)
    assert code == 1 and data["equivalent"] is False
    assert data["diagnosis"] == ["your result is -2 x the correct one"]
    assert data["correct"] == "sigma_w2/2" and data["verdict"].startswith("not equivalent")


def test_difference_is_factored_in_the_text(capsys):
    expr = "q*sigma_w2 + sigma_b2 + (sigma_w2 - 1)**3"
    code, out, _ = run_cli(["check", expr, "--against", "mft/length-map/linear"], capsys)
    assert code == 1 and "difference  (sigma_w2 - 1)**3" in out
    assert "an extra term (sigma_w2 - 1)**3" in out


def test_latex_input_with_the_default_install(capsys):
    code, out, _ = run_cli(["check", r"\frac{\sigma_w^2}{2}", "--against", "mft/chi1/relu"], capsys)
    assert code == 0 and "equivalent  yes" in out
