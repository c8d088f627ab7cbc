"""CLI numerical edge cases: one-line errors (exit 2) or null with a reason, never a
traceback or a wrong number (issue 10 part 4)."""

import json
import math

import pytest
from conftest import run_cli as run


def _ok(args, capsys):
    code, out, err = run(args.split(), capsys)
    assert code == 0, err
    return json.loads(out), err


def _error(args, capsys):
    code, out, err = run(args.split() if isinstance(args, str) else args, capsys)
    assert code == 2 and out == "" and "Traceback" not in err
    assert err.startswith("nnqft: error: ") and err.count("\n") == 1
    return err


@pytest.mark.parametrize("sw", ["1", "1.5"])
def test_xi_at_and_above_one(sw, capsys):
    data, _ = _ok(f"xi --sigma-w2 {sw} --sigma-b2 1 --width 16 --json", capsys)
    assert data["xi_mean_field"] is None and "xi_mean_field" in data["reasons"]
    assert data["q_star_recurrent"] is None and data["q_star_recurrent_truncated_at"] == "1/N"
    lengths = ("xi_mean_field", "xi_fluctuation", "xi_typical")
    assert all(data[k] is None or data[k] > 0 for k in lengths)


@pytest.mark.parametrize(
    "bad", ["--sigma-w2 nan", "--sigma-w2 inf", "--sigma-w2 0.5 --sigma-b2 nan"]
)
def test_xi_refuses_nan_and_inf(bad, capsys):
    err = _error(f"xi {bad} --width 8 --json", capsys)
    assert "finite" in err or "positive" in err


def test_finite_width_constant_universality(capsys):
    assert "constant" in _error(["finite-width", "--activation", "1", "--universality"], capsys)


def test_finite_width_divergent_integral(capsys):
    err = _error(["finite-width", "--activation", "exp(z**2)", "--json"], capsys)
    assert "E[phi(z)^2] diverges for exp(z**2) at variance 1" in err


def test_finite_width_polynomial_overflow(capsys):
    args = ["finite-width", "--activation", "z**3", "--sigma-w2", "3", "--depth", "20"]
    err = _error(args, capsys)
    assert "overflow" in err or "outside the floating-point range" in err


def test_mft_unbounded_nulls_with_reasons(capsys):
    for act in ("gelu", "swish", "exp(z)"):
        data, err = _ok(f"mft --activation {act} --sigma-w2 5 --json", capsys)
        assert data["q_star"] is None and data["phase"] == "unbounded"
        for key in ("chi_1", "chi_c", "lyapunov_exponent", "xi_q", "xi_c"):
            assert data[key] is None and key in data["reasons"], (act, key)


def test_mft_warns_about_quadrature_error(capsys):
    data, err = _ok("mft --activation swish --sigma-w2 1.99 --sigma-b2 0.8 --json", capsys)
    assert data["quadrature_error"]["xi_q"] > 1e-6
    assert err.startswith("nnqft: warning: estimated quadrature error")


def test_xi_at_large_width_and_subnormal_sigma_is_fast_and_finite(capsys):
    """psi(N/2) at N = 10^5 is evaluated numerically (sympy's harmonic-number expansion took
    minutes); a subnormal sigma_w2 gives the number of -1/ln sigma_w2, not a complex value."""
    import time

    start = time.perf_counter()
    code, out, err = run(
        ["xi", "--sigma-w2", "0.9", "--sigma-b2", "0.1", "--width", "100000", "--json"], capsys
    )
    assert code == 0, err
    assert time.perf_counter() - start < 20
    data = json.loads(out)
    # (N/2) exp(-psi(N/2)) = 1 + 1/N + O(1/N^2)
    assert data["sigma_w2_critical"] == pytest.approx(1 + 1e-5, rel=1e-9)
    code, out, err = run(["xi", "--sigma-w2", "5e-324", "--width", "1", "--json"], capsys)
    assert code == 0, err
    assert json.loads(out)["xi_mean_field"] == pytest.approx(-1 / math.log(5e-324))
