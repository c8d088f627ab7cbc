"""`nnqft xi --arch recurrent`: the exponent and the critical weight of a shared-W net are
mean field with a null 1/N coefficient and the reason (never a feedforward number)."""

import json
import math
import os
import subprocess
import sys

import pytest


def run(*args, cache):
    env = dict(os.environ, NNQFT_CACHE_DIR=str(cache))
    return subprocess.run(
        [sys.executable, "-m", "nnqft", *args], capture_output=True, text=True, env=env, timeout=300
    )


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


def test_linear_recurrent_has_no_feedforward_exponent(cache):
    base = ["xi", "--sigma-w2", "0.5", "--sigma-b2", "0.1", "--width", "64", "--json"]
    ff = json.loads(run(*base, cache=cache).stdout)
    rec = json.loads(run(*base, "--arch", "recurrent", cache=cache).stdout)
    assert ff["lyapunov_exponent"] < 0.5 * math.log(0.5)  # the feedforward 1/N shift
    for key in ("lyapunov_exponent", "xi_typical", "sigma_w2_critical"):
        assert rec[key] is None and "1/N series" in rec["reasons"][key], key
    assert "spectral radius" in rec["reasons"]["lyapunov_exponent"]
    assert rec["lyapunov_exponent_mean_field"] == pytest.approx(0.5 * math.log(0.5))
    assert rec["q_star_recurrent"] == pytest.approx(ff["q_star_recurrent"])
    symbolic = json.loads(run("xi", "--arch", "recurrent", "--json", cache=cache).stdout)
    assert symbolic["lyapunov_exponent_mean_field"] == "log(sigma_w2)/2"


def test_nonlinear_recurrent_exponent_entries(cache):
    args = ["xi", "--arch", "recurrent", "--activation", "tanh", "--sigma-w2", "1.5",
            "--sigma-b2", "0.05", "--width", "64", "--steps", "9"]
    out = run(*args, "--json", cache=cache)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    lam, crit = data["lyapunov_exponent"], data["sigma_w2_critical"]
    assert lam["mean_field"] == pytest.approx(0.5 * math.log(data["mean_field"]["chi_1"]))
    assert lam["coefficient_1"] is None
    assert "spectral radius" in data["reasons"]["lyapunov_exponent"]
    assert crit["mean_field"] > 1.5 and crit["value_at_N"] is None
    text = run(*args, cache=cache).stdout
    assert "lyapunov_exponent  null at finite N (mean field -0.0316" in text
