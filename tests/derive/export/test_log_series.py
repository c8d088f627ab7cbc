"""The recurrent means exported at and near sigma_w2 = 1 (their closed forms are 0/0 there,
poles of order up to 10 in sqrt(sigma_w2) - 1).

Every numeric export (C, Fortran, Rust compiled; numpy, JAX run) is evaluated at
sigma_w2 = 1 exactly and at 1 +- 1e-6, 1 +- 1e-3, and compared with two routes that do not
use the series: off the point, the closed form in mpmath at 250 digits (exact enough for
the 1e-10 poles at 1e-6: 60 digits lost of 250); at the point, the diagrams summed at
sigma_w2 = 1 (``critical=True``: every geometric sum taken as a power sum before it is
summed, :mod:`nnqft.derive.loops.time_sums`)."""

from __future__ import annotations

import shutil

import mpmath
import pytest
import sympy as sp
from compile_tools import GFORTRAN, run

from nnqft.derive.export.base import export
from nnqft.derive.export.log_series import log_series, series_branch
from nnqft.derive.formulas import get_formula
from nnqft.errors import InvalidParameter
from nnqft.rules import symbols as S

IDS = ["linear-recurrent-shared/mean", "linear-recurrent-fresh/mean"]
RTOL = 1e-9
OTHERS = {"sigma_b2": 0.3, "q0": 1.2}


def test_series_of_the_geometric_sum_is_its_taylor_series():
    """sum_{k<T} s^k in L = ln s: sympy's own series of the function at T = 5 (a second
    route: a numeric depth, sympy's series engine) against the coefficients at T = 5."""
    s, T, L = S.sigma_w2, S.T, sp.Symbol("L")
    geometric = (1 - s**T) / (1 - s)
    mine = log_series(geometric, s, T, 6)
    theirs = sp.series(sum(sp.exp(k * L) for k in range(5)), L, 0, 7).removeO()
    for j, c in enumerate(mine):
        assert sp.nsimplify(c.subs(T, 5) - theirs.coeff(L, j)) == 0, j


def test_a_pole_is_refused_and_a_parity_term_kept():
    s, T = S.sigma_w2, S.T
    with pytest.raises(InvalidParameter, match="pole at sigma_w2 = 1"):
        log_series(s**T / (s - 1) ** 2, s, T, 2)
    c = log_series((-1) ** T * s ** (T / 2), s, T, 1)
    assert c == ((-1) ** T, (-1) ** T * T / 2)


def test_the_branch_is_the_closed_form_off_the_point():
    s, T = S.sigma_w2, S.T
    e = get_formula("linear-recurrent-fresh/mean", order=1).expression
    branch = series_branch(e, s, T, e)
    names = (s, T, S.N, S.sigma_b2, S.q0)
    # lambdified, then evaluated in mpmath at fixed precision: a numeric subs leaves the
    # nested series (Horner form in ln sigma_w2) to sympy's adaptive evalf, which re-evaluates
    # every level at rising precision, exponentially in its depth
    with mpmath.workdps(80):
        at = (mpmath.mpf(1001) / 1000, 7, 10, mpmath.mpf(3) / 10, 1)
        got = sp.lambdify(names, branch.args[0][0], "mpmath")(*at)
        want = sp.lambdify(names, e, "mpmath")(*at)
    assert abs(float(got) - float(want)) < 1e-13 * abs(float(got))


def _rows(fid):
    """(argument row, exact value) at sigma_w2 = 1, 1 +- 1e-6, 1 +- 1e-3, T = 1, 4, 12, 50."""
    from nnqft.derive.loops.amplitudes import recurrent_mean_coefficients

    formula = get_formula(fid)
    bias = fid.split("/")[0].rsplit("-", 1)[1]
    critical = recurrent_mean_coefficients(bias, formula.order, critical=True)
    slow = sp.lambdify(formula.arguments, formula.expression, "mpmath")
    rows = []
    for depth in (1, 4, 12, 50):
        for width in (3, 10):
            for x in (1.0, 1 + 1e-6, 1 - 1e-6, 1 + 1e-3, 1 - 1e-3):
                values = {"sigma_w2": x, "N": float(width), "T": float(depth), **OTHERS}
                row = [values[a.name] for a in formula.arguments]
                if x == 1.0:
                    exact = {S.T: depth, S.N: width, S.sigma_b2: sp.Rational(3, 10)}
                    exact[S.q0] = sp.Rational(6, 5)
                    want = sum(c / S.N**k for k, c in critical.items()).subs(exact)
                    want = float(want)
                else:
                    with mpmath.workdps(250):
                        want = float(slow(*[mpmath.mpf(v) for v in row]))
                rows.append((row, want))
    return rows


@pytest.fixture(scope="module")
def cases():
    return {fid: _rows(fid) for fid in IDS}


def _check(got, rows, lang):
    bad = [(r, g, w) for (r, w), g in zip(rows, got) if not abs(g - w) <= RTOL * abs(w)]
    assert len(got) == len(rows) and not bad, f"{lang}: {bad[:3]}"


@pytest.mark.slow
@pytest.mark.parametrize("fid", IDS)
def test_python_exports_are_exact_at_criticality(fid, cases):
    for lang in ("numpy", "jax"):
        if lang == "jax":
            jax = pytest.importorskip("jax")
            jax.config.update("jax_enable_x64", True)
        ns: dict = {}
        exec(export(fid, lang, function_name="f"), ns)  # safe: code nnqft generated
        _check([float(ns["f"](*row)) for row, _ in cases[fid]], cases[fid], lang)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("cc") is None, reason="no C compiler")
@pytest.mark.parametrize("fid", IDS)
def test_c_export_is_exact_at_criticality(fid, cases, tmp_path):
    calls = [f'    printf("%.17g\\n", f({", ".join(map(repr, r))}));' for r, _ in cases[fid]]
    src = ["#include <stdio.h>", export(fid, "c", function_name="f"), "int main(void) {"]
    (tmp_path / "f.c").write_text("\n".join(src + calls + ["    return 0;", "}"]))
    run(["cc", "-std=c99", "-O2", "-Wall", "-Werror", "-o", "f", "f.c", "-lm"], tmp_path)
    _check([float(v) for v in run(["./f"], tmp_path).split()], cases[fid], "C")


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("gfortran") is None, reason="gfortran not installed")
@pytest.mark.parametrize("fid", IDS)
def test_fortran_export_is_exact_at_criticality(fid, cases, tmp_path):
    def real(v):
        text = repr(v)
        return text.replace("e", "d") if "e" in text else text + "d0"

    calls = [f"  write (*, '(ES26.17E3)') f({', '.join(map(real, r))})" for r, _ in cases[fid]]
    program = ["program main", "  use f_mod", "  implicit none", *calls, "end program main"]
    (tmp_path / "f.f90").write_text(
        export(fid, "fortran", function_name="f") + "\n".join(program) + "\n"
    )
    run([*GFORTRAN, "-o", "f", "f.f90"], tmp_path)
    _check([float(v) for v in run(["./f"], tmp_path).split()], cases[fid], "Fortran")


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("rustc") is None, reason="rustc not installed")
@pytest.mark.parametrize("fid", IDS)
def test_rust_export_is_exact_at_criticality(fid, cases, tmp_path):
    calls = [f'    println!("{{:e}}", f({", ".join(repr(v) for v in r)}));' for r, _ in cases[fid]]
    src = export(fid, "rust", function_name="f") + "\nfn main() {\n" + "\n".join(calls) + "\n}\n"
    (tmp_path / "f.rs").write_text(src)
    run(["rustc", "-O", "-D", "warnings", "-o", "f", "f.rs"], tmp_path)
    _check([float(v) for v in run(["./f"], tmp_path).split()], cases[fid], "Rust")


@pytest.mark.slow
@pytest.mark.parametrize("fid", IDS)
def test_the_comment_states_the_series_and_no_warning(fid):
    text = export(fid, "c")
    assert "Warning" not in text and "_closed_form" in text
    assert "Taylor series in ln(sigma_w2) through order 30" in text
    assert "width N, an integer" in text and "docs/" not in text
