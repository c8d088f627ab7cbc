"""Exports at criticality: the linear-network closed forms are 0/0 at sigma_w2 = 1 and, for
the feedforward variance, where (1 + 2/N) sigma_w2^2 = 1 or (1 + 2/N) sigma_w2 = 1.  Every
numeric export (C, Fortran, Rust compiled; numpy, JAX run) is evaluated exactly there and
1e-9 off, and compared with sympy's limit at the point (the exact route: at an integer T
the closed form is a rational function of sigma_w2, whose limit sympy takes exactly)."""

from __future__ import annotations

import shutil
from fractions import Fraction

import pytest
import sympy as sp
from compile_tools import GFORTRAN, run

from nnqft.derive.export.base import export, removable_points
from nnqft.derive.export.mathematica import read_back
from nnqft.derive.formulas import get_formula
from nnqft.rules import symbols as S

IDS = ["linear-feedforward/mean", "linear-feedforward/variance"]
RTOL = 1e-10  # the accuracy each export states in its comment
OTHERS = {S.sigma_b2: sp.Rational(3, 10), S.q0: sp.Rational(6, 5)}


def _points(formula):
    """(fid, argument row as floats, exact value) at each critical point and 1e-9 off."""
    rows = []
    for depth in (1, 4, 12):
        for width in (3, 10):
            fixed = {**OTHERS, S.N: sp.Integer(width), S.T: sp.Integer(depth)}
            fixed = {a: v for a, v in fixed.items() if a in formula.arguments}
            exact = formula.expression.subs(fixed)
            rational = sp.cancel(sp.together(exact))  # the common factor cancelled
            for x0 in (
                sp.Integer(1),
                sp.sqrt(sp.Rational(width, width + 2)),
                sp.Rational(width, width + 2),
            ):
                if S.N not in formula.arguments and x0 != 1:
                    continue
                for offset in (0.0, 1e-9, -1e-9):
                    at = float(x0) + offset
                    if offset == 0.0:
                        # the limit at the point: the reduced rational function's value there
                        # (sympy's limit where its denominator still vanishes)
                        want = sp.radsimp(rational.subs(S.sigma_w2, x0))
                        if not want.is_finite:
                            want = sp.limit(exact, S.sigma_w2, x0)
                    else:
                        want = rational.subs(S.sigma_w2, sp.Rational(Fraction(at)))
                    values = {**fixed, S.sigma_w2: at}
                    rows.append(([float(values[a]) for a in formula.arguments], float(want)))
    return rows


@pytest.fixture(scope="module")
def cases():
    return {fid: _points(get_formula(fid)) for fid in IDS}


def test_the_points_are_found():
    values = {
        fid: {
            p.value
            for p in removable_points(get_formula(fid).expression, get_formula(fid).arguments)
        }
        for fid in IDS
    }
    assert values["linear-feedforward/mean"] == {1}
    assert values["linear-feedforward/variance"] == {
        1,
        S.N / (S.N + 2),
        sp.sqrt(S.N) / sp.sqrt(S.N + 2),
    }


def _check(got, rows, lang):
    assert len(got) == len(rows)
    bad = [(row, g, w) for (row, w), g in zip(rows, got) if not abs(g - w) <= RTOL * abs(w)]
    assert not bad, f"{lang} at criticality: {bad[:4]}"


@pytest.mark.parametrize("fid", IDS)
def test_numpy_and_jax_exports_are_finite_and_right(fid, cases):
    for lang in ("numpy", "jax"):
        if lang == "jax":
            jax = pytest.importorskip("jax")
            jax.config.update("jax_enable_x64", True)
        ns: dict = {}
        exec(export(fid, lang, function_name="f"), ns)
        _check([float(ns["f"](*row)) for row, _ in cases[fid]], cases[fid], lang)


@pytest.mark.skipif(shutil.which("cc") is None, reason="no C compiler")
@pytest.mark.parametrize("fid", IDS)
def test_c_export_is_finite_and_right(fid, cases, tmp_path):
    calls = [f'    printf("%.17g\\n", f({", ".join(map(repr, row))}));' for row, _ in cases[fid]]
    src = ["#include <stdio.h>", export(fid, "c", function_name="f"), "int main(void) {"]
    (tmp_path / "f.c").write_text("\n".join(src + calls + ["    return 0;", "}"]))
    run(["cc", "-std=c99", "-O2", "-Wall", "-Werror", "-o", "f", "f.c", "-lm"], tmp_path)
    _check([float(v) for v in run(["./f"], tmp_path).split()], cases[fid], "C")


@pytest.mark.skipif(shutil.which("gfortran") is None, reason="gfortran not installed")
@pytest.mark.parametrize("fid", IDS)
def test_fortran_export_is_finite_and_right(fid, cases, tmp_path):
    def real(v):
        text = repr(v)
        return text.replace("e", "d") if "e" in text else text + "d0"

    calls = [f"  write (*, '(ES26.17E3)') f({', '.join(map(real, row))})" for row, _ in cases[fid]]
    program = ["program main", "  use f_mod", "  implicit none", *calls, "end program main"]
    (tmp_path / "f.f90").write_text(
        export(fid, "fortran", function_name="f") + "\n".join(program) + "\n"
    )
    run(
        [*GFORTRAN, "-o", "f", "f.f90"],
        tmp_path,
    )
    _check([float(v) for v in run(["./f"], tmp_path).split()], cases[fid], "Fortran")


@pytest.mark.skipif(shutil.which("rustc") is None, reason="rustc not installed")
@pytest.mark.parametrize("fid", IDS)
def test_rust_export_is_finite_and_right(fid, cases, tmp_path):
    calls = [
        f'    println!("{{:e}}", f({", ".join(repr(v) for v in row)}));' for row, _ in cases[fid]
    ]
    src = export(fid, "rust", function_name="f") + "\nfn main() {\n" + "\n".join(calls) + "\n}\n"
    (tmp_path / "f.rs").write_text(src)
    run(["rustc", "-O", "-D", "warnings", "-o", "f", "f.rs"], tmp_path)
    _check([float(v) for v in run(["./f"], tmp_path).split()], cases[fid], "Rust")


@pytest.mark.parametrize("fid", IDS)
def test_the_comment_states_the_branch_and_the_arguments(fid):
    text = export(fid, "c")
    assert "0/0 at sigma_w2 = 1" in text and "below 1e-10" in text
    assert "weight variance sigma_w^2 (C_W in PDLT)" in text
    assert "depth T, number of layers" in text and "docs/" not in text


def test_mathematica_takes_the_limit_at_the_point():
    f = get_formula("linear-feedforward/variance")
    text = export(f, "mathematica")
    assert "Limit[" in text and "sigmaW2 == 1" in text
    assert read_back(text, f) == f.expression


def test_a_closed_form_without_a_reliable_branch_says_so():
    """A removable point of order 12 in sigma_w2 alone (no depth: the series in
    ln sigma_w2 of log_series.py does not apply): no interpolation branch reaches its
    tolerance there, and the export says it is not finite at the point rather than print a
    wrong number."""
    from nnqft.derive.formulas import formula_from_expression

    h = S.sigma_w2 - 1
    expr = (sp.exp(h) - sum(h**j / sp.factorial(j) for j in range(12))) / h**12
    text = export(formula_from_expression(expr, "steep"), "c")
    assert "Warning: the closed form is 0/0 at sigma_w2 = 1" in text
    assert "_closed_form" not in text
