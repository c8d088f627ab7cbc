"""The `nnqft correlator` and `nnqft xi` commands (the CLI contract)."""

import json
import math
import os
import re
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


def test_correlator_json(cache, tmp_path):
    tex = tmp_path / "d.tex"
    out = run(
        "correlator",
        "--arch",
        "recurrent",
        "--activation",
        "linear",
        "--bias",
        "fresh",
        "--observable",
        "mean",
        "--order",
        "1",
        "--latex",
        str(tex),
        "--json",
        cache=cache,
    )
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert set(data["coefficients"]) == {"0", "1"} and data["coefficients"]["1"] == "0"
    assert "expression" in data and "latex" in data
    assert tex.read_text().startswith("\\documentclass")


def test_feedforward_exact_variance(cache):
    out = run(
        "correlator",
        "--arch",
        "feedforward",
        "--observable",
        "variance",
        "--exact",
        "--json",
        cache=cache,
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["exact"] is True


def test_xi_numbers(cache):
    out = run("xi", "--sigma-w2", "0.5", "--sigma-b2", "1", "--width", "16", "--json", cache=cache)
    data = json.loads(out.stdout)
    assert data["q_star_recurrent"] == pytest.approx(2.5)


@pytest.mark.parametrize(
    "args,message",
    [
        (["--arch", "recurent", "--order", "1"], "unknown architecture"),
        (["--arch", "recurrent", "--observable", "mena", "--order", "1"], "unknown observable"),
        (["--arch", "recurrent", "--bias", "frsh", "--order", "1"], "unknown bias"),
        (["--arch", "recurrent", "--order", "5"], "maximum 3"),
        (["--arch", "recurrent", "--exact"], "no exact"),
        (["--arch", "recurrent", "--activation", "tanh", "--order", "1"], "linear"),
    ],
)
def test_bad_input(cache, args, message, capsys, monkeypatch):
    from nnqft.cli import main

    monkeypatch.setenv("NNQFT_CACHE_DIR", str(cache))
    with pytest.raises(SystemExit) as exit_info:
        main(["correlator", *args])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert message in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "args",
    [
        ("--arch", "recurrent", "--bias", "shared", "--order", "2"),
        ("--arch", "recurrent", "--bias", "fresh", "--order", "1"),
        ("--arch", "feedforward", "--order", "1"),
    ],
)
def test_correlator_diagrams_sum_to_the_coefficients(cache, tmp_path, args):
    """The contract: "diagrams" [{id, order, symmetry_factor, n_power, value}], the values
    of one order summing to coefficients[order] (parsed back with the package's parser)."""
    from nnqft.rules.parse import parse_expression

    out = run("correlator", *args, "--json", "--draw", str(tmp_path / "d"), cache=cache)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["diagrams"], "every mean comes with its diagrams"
    sums = {}
    for d in data["diagrams"]:
        assert {"id", "order", "symmetry_factor", "n_power", "value"} <= set(d)
        assert d["n_power"] == -d["order"]
        sums[d["order"]] = sums.get(d["order"], 0) + parse_expression(d["value"])
    import sympy as sp

    for k, text in data["coefficients"].items():
        assert sp.simplify(sums.get(int(k), 0) - parse_expression(text)) == 0, k
    index = json.loads((tmp_path / "d" / "index.json").read_text())
    assert sorted(index.values()) == sorted(d["id"] for d in data["diagrams"])
    assert any(d["name"].startswith("ladder (cactus") for d in data["diagrams"])


def test_xi_nonlinear_json(cache):
    out = run(
        "xi",
        "--activation",
        "erf",
        "--sigma-w2",
        "4",
        "--sigma-b2",
        "0.5",
        "--width",
        "64",
        "--json",
        cache=cache,
    )
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    for key in ("chi_parallel", "xi_q", "chi_1", "lyapunov_exponent", "sigma_w2_critical"):
        entry = data[key]
        assert entry["value_at_N"] == pytest.approx(
            entry["mean_field"] + entry["coefficient_1"] / 64
        ), key
    assert data["mean_field"]["phase"] == "chaotic"
    assert data["chi_c"]["reliable"] is False and data["chi_c"]["gap_ratio"] > 0.1


def test_xi_linear_keeps_its_keys_and_adds_finite_width(cache):
    out = run("xi", "--sigma-w2", "0.5", "--sigma-b2", "1", "--width", "16", "--json", cache=cache)
    data = json.loads(out.stdout)
    for key in ("xi_mean_field", "lyapunov_exponent", "xi_typical", "sigma_w2_critical"):
        assert key in data
    assert data["finite_width"]["lyapunov_exponent"]["coefficient_1"] == pytest.approx(-0.5)
    text = run("xi", "--sigma-w2", "0.5", "--sigma-b2", "1", "--width", "16", cache=cache)
    assert "finite width, through 1/N" in text.stdout


@pytest.mark.parametrize(
    "args,message",
    [
        (
            ["--activation", "tanh", "--arch", "recurrent", "--sigma-w2", "1", "--sigma-b2",
             "0.1", "--width", "8", "--steps", "100"],
            "give 9 to 40",
        ),
        (["--activation", "tanh", "--sigma-w2", "1", "--sigma-b2", "0.1", "--width", "8",
          "--steps", "12"], "--steps is for a nonlinear recurrent net"),
        (["--activation", "tanh", "--bias", "fresh", "--sigma-w2", "1", "--sigma-b2", "0.1",
          "--width", "8"], "--bias"),
        (["--activation", "tanh", "--sigma-w2", "1"], "needs numbers for --sigma-b2, --width"),
    ],
)
def test_xi_refusals(cache, args, message):
    out = run("xi", *args, cache=cache)
    assert out.returncode == 2
    assert message in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_xi_recurrent_nonlinear_json(cache):
    """`xi --arch recurrent` for tanh: K*(N) from the recurrent diagrams (the numbers of
    recurrent_depth_scales), chi_parallel(N) null with its reason, keys of the series."""
    from nnqft.derive.fluctuations.recurrent_scales import recurrent_depth_scales
    from nnqft.rules.network import Network

    args = ["xi", "--arch", "recurrent", "--activation", "tanh", "--bias", "fresh",
            "--sigma-w2", "0.8", "--sigma-b2", "0.3", "--width", "64", "--steps", "12"]
    out = run(*args, "--json", cache=cache)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    want = recurrent_depth_scales(
        Network("recurrent", "tanh", 0.8, 0.3, bias="fresh", width=64), 12)
    k = data["fixed_point"]["K_star"]
    assert k["coefficient_1"] == pytest.approx(want["fixed_point"]["K_star"]["coefficient_1"])
    assert k["value_at_N"] == pytest.approx(k["mean_field"] + k["coefficient_1"] / 64)
    assert k["mean_field"] == pytest.approx(data["mean_field"]["q_star"])
    for key in ("chi_parallel", "xi_q"):
        assert data[key]["value_at_N"] is None and data["reasons"][key]
    assert len(data["trajectory"]["coefficient_1"]) == data["steps_used"] == 12
    text = run(*args, cache=cache)
    assert "K* = " in text.stdout and re.search(r"chi_parallel +null", text.stdout)


# --- xi --arch recurrent: the exponent of a shared-W net is mean field, with the reason ---


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


@pytest.mark.slow
def test_shared_variance_second_order_diagrams_sum_to_the_coefficients(cache):
    """`--bias shared --observable variance --order 2` (cold ~40-50 s): 127 diagram classes
    whose values of one order, parsed back, sum to coefficients[order]; the closed forms
    themselves are checked against the integer-depth route in
    tests/derive/loops/test_shared_variance_order2.py."""
    import sympy as sp

    from nnqft.rules.parse import parse_expression

    args = ("--arch", "recurrent", "--bias", "shared", "--observable", "variance", "--order", "2")
    out = run("correlator", *args, "--json", cache=cache)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["formula"] == "linear-recurrent-shared/variance" and data["order"] == 2
    sums = {}
    for d in data["diagrams"]:
        sums[d["order"]] = sums.get(d["order"], 0) + parse_expression(d["value"])
    assert sorted(sums) == [1, 2]
    for k, text in data["coefficients"].items():
        diff = sums.get(int(k), 0) - parse_expression(text)
        assert sp.expand(diff) == 0 or sp.simplify(diff) == 0, k
