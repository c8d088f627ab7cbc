"""Exported code is run and compared with high-precision values of the exact expression.

Every registered formula is exported to C, Fortran and Rust, compiled, and run on a grid
of inputs; the numbers must match 40-digit evalf of the *exact* expression (a route
independent of the stable forms, cse and printers) and the numpy export to 1e-12
relative.  The grid keeps |sigma_w2 - 1| >= 0.1: the linear-network formulas have
removable poles at sigma_w2 = 1 (terms like sigma_b2/(1 - sigma_w2) cancel between
each other), so near there the formula itself cancels; the stable-form tests below
show what is kept there.
"""

from __future__ import annotations

import json
import math
import random
import shutil

import numpy as np
import pytest
import sympy as sp
from compile_tools import GFORTRAN, run

from nnqft.derive.export import base as codegen
from nnqft.derive.export.base import export, get_exporter, polygamma_asymptotic, stable_form
from nnqft.derive.formulas import formula_from_expression, get_formula, list_formulas
from nnqft.errors import InvalidParameter, UnknownName
from nnqft.rules import symbols as S

RTOL = 1e-12
POINTS = 4

IDS = list_formulas()


def _grid(formula, count=POINTS, seed=7):
    """Float inputs (python floats, ints for N and T) in the formula's domain."""
    rng = random.Random(seed)
    dom = formula.sampling_domain()
    rows = []
    while len(rows) < count:
        row = {}
        for s in formula.arguments:
            lo, hi = dom[s.name]
            if s.is_integer:
                row[s] = rng.randint(int(lo), min(int(hi), 60))
            elif s.name == "q12":
                continue
            else:
                row[s] = round(rng.uniform(lo, hi), 3)
        if S.q12 in formula.arguments:
            row[S.q12] = round(rng.uniform(-0.9, 0.9) * math.sqrt(row[S.q11] * row[S.q22]), 4)
        if S.sigma_w2 in row and abs(row[S.sigma_w2] - 1) < 0.1:
            continue
        rows.append([row[s] for s in formula.arguments])
    return rows


def _exact(formula, row):
    subs = {
        s: (sp.Integer(v) if s.is_integer else sp.Float(v, 40))
        for s, v in zip(formula.arguments, row)
    }
    return float(sp.N(formula.expression.doit().xreplace(subs), 40))


@pytest.fixture(scope="module")
def cases():
    out = []
    for fid in IDS:
        f = get_formula(fid)
        for row in _grid(f):
            out.append((fid, row, _exact(f, row)))
    return out


def _close(got, want, rtol=RTOL, scale=0.0):
    return abs(got - want) <= rtol * max(abs(want), scale, 1e-300)


def _assert_all(values, cases, lang):
    assert len(values) == len(cases), f"{lang}: {len(values)} values for {len(cases)} points"
    bad = [
        (fid, row, got, want)
        for (fid, row, want), got in zip(cases, values)
        if not _close(got, want, *_tolerance(fid, cases))
    ]
    assert not bad, f"{lang} disagrees with 40-digit evalf at: {bad[:5]}"


def _tolerance(fid, cases):
    """(rtol, scale): the fluctuation V forms have poles (chi - 1)^-3 whose terms cancel
    (about 3 digits lost near chi = 1) and vanish exactly at T = 1, where what is left is
    rounding of the terms: relative to the largest value of the formula on the grid."""
    if not fid.startswith("fluctuations/V/"):
        return RTOL, 0.0
    return 1e-9, 1e-3 * max(abs(w) for cid, _, w in cases if cid == fid)


# --- every formula, every compiled target ---------------------------------------------------


def test_numpy_export_matches_high_precision(cases):
    values = []
    for fid in IDS:
        ns: dict = {}
        exec(export(fid, "numpy", function_name="f"), ns)
        for cid, row, _ in cases:
            if cid == fid:
                values.append(float(ns["f"](*[float(v) for v in row])))
    _assert_all(values, cases, "numpy")


@pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc not installed")
def test_c_export_compiles_and_matches(cases, tmp_path):
    src = ["#include <stdio.h>"]
    calls = []
    for i, fid in enumerate(IDS):
        src.append(export(fid, "c", function_name=f"f{i}"))
        for cid, row, _ in cases:
            if cid == fid:
                args = ", ".join(repr(float(v)) for v in row)
                calls.append(f'    printf("%.17g\\n", f{i}({args}));')
    src += ["int main(void) {", *calls, "    return 0;", "}"]
    (tmp_path / "f.c").write_text("\n".join(src))
    run(["gcc", "-std=c99", "-O2", "-Wall", "-Werror", "-o", "f", "f.c", "-lm"], tmp_path)
    out = run([str(tmp_path / "f")], tmp_path)
    _assert_all([float(v) for v in out.split()], cases, "C")


@pytest.mark.skipif(shutil.which("gfortran") is None, reason="gfortran not installed")
def test_fortran_export_compiles_and_matches(cases, tmp_path):
    mods, uses, calls = [], [], []
    for i, fid in enumerate(IDS):
        mods.append(export(fid, "fortran", function_name=f"f{i}"))
        uses.append(f"  use f{i}_mod")
        for cid, row, _ in cases:
            if cid == fid:
                args = ", ".join(
                    f"{float(v)!r}d0".replace("e", "d").replace("dd0", "d0") for v in row
                )
                args = ", ".join(_fortran_real(v) for v in row)
                calls.append(f"  write (*, '(ES26.17E3)') f{i}({args})")
    program = ["program main", *uses, "  implicit none", *calls, "end program main"]
    (tmp_path / "f.f90").write_text("\n".join(mods + program) + "\n")
    run(
        [*GFORTRAN, "-o", "f", "f.f90"],
        tmp_path,
    )
    out = run([str(tmp_path / "f")], tmp_path)
    _assert_all([float(v) for v in out.split()], cases, "Fortran")


def _fortran_real(v) -> str:
    text = repr(float(v))
    return text.replace("e", "d") if "e" in text else text + "d0"


@pytest.mark.skipif(shutil.which("rustc") is None, reason="rustc not installed")
def test_rust_export_compiles_and_matches(cases, tmp_path):
    mods, calls = [], []
    for i, fid in enumerate(IDS):
        mods.append(f"mod m{i} {{\n{export(fid, 'rust', function_name='f')}\n}}")
        for cid, row, _ in cases:
            if cid == fid:
                args = ", ".join(_rust_real(v) for v in row)
                calls.append(f'    println!("{{:e}}", m{i}::f({args}));')
    src = "\n".join(mods) + "\nfn main() {\n" + "\n".join(calls) + "\n}\n"
    (tmp_path / "f.rs").write_text(src)
    run(["rustc", "-O", "-D", "warnings", "-o", "f", "f.rs"], tmp_path)
    out = run([str(tmp_path / "f")], tmp_path)
    _assert_all([float(v) for v in out.split()], cases, "Rust")


def _rust_real(v) -> str:
    text = repr(float(v))
    return text if ("." in text or "e" in text) else text + ".0"


def test_jax_export_matches_numpy(cases):
    jax = pytest.importorskip("jax", reason="jax not installed (optional extra nnqft[jax])")
    jax.config.update("jax_enable_x64", True)
    values = []
    for fid in IDS:
        ns: dict = {}
        exec(export(fid, "jax", function_name="f"), ns)
        for cid, row, _ in cases:
            if cid == fid:
                values.append(float(ns["f"](*[jax.numpy.float64(v) for v in row])))
    _assert_all(values, cases, "JAX")


def test_julia_export_runs_or_skips(tmp_path):
    julia = shutil.which("julia")
    if julia is None:
        pytest.skip("julia is not installed here (no Debian package); export is tested for form")
    f = get_formula("mft/length-map/erf")
    (tmp_path / "f.jl").write_text(
        export(f, "julia", function_name="f") + "\nprintln(f(1.5, 0.1, 0.7))\n"
    )
    out = run([julia, "f.jl"], tmp_path)
    assert _close(float(out), _exact(f, [1.5, 0.1, 0.7]))


def test_julia_export_form():
    src = export("linear-feedforward/log-mean", "julia")
    assert src.startswith("using SpecialFunctions")
    assert "digamma(" in src and "function linear_feedforward_log_mean(sigma_w2, q0, N, T)" in src


# --- exact targets: read back -------------------------------------------------------------------


# sympy's Mathematica parser is slow on the recurrent 1/N^2 series (thousands of operations)
SMALL = [i for i in IDS if sp.count_ops(get_formula(i).expression) < 400]


@pytest.mark.parametrize("fid", SMALL)
def test_mathematica_output_parses_back_to_the_same_expression(fid):
    from nnqft.derive.export.mathematica import read_back

    f = get_formula(fid)
    text = export(f, "mathematica")
    definition = [ln for ln in text.splitlines() if ":=" in ln][0]
    assert "sigma_w2" not in definition and "_" not in definition.split(":=")[1]
    back = read_back(text, f)
    if back != f.expression:
        diff = back - f.expression
        for row in _grid(f, 3, seed=11):
            subs = {
                s: (sp.Integer(v) if s.is_integer else sp.Float(v, 50))
                for s, v in zip(f.arguments, row)
            }
            assert abs(complex(diff.evalf(50, subs=subs))) < 1e-35 * (1 + abs(_exact(f, row)))


def test_mathematica_naming_policy():
    text = export("linear-feedforward/variance", "mathematica")
    line = [ln for ln in text.splitlines() if ":=" in ln][0]
    assert line.startswith("linearFeedforwardVariance[sigmaW2_, sigmaB2_, q0_, n_, t_] :=")
    assert "sigma_" not in line and "N" not in line.split(":=")[1].replace("Pi", "")


@pytest.mark.parametrize("fid", IDS)
def test_json_rebuilds_the_exact_expression(fid):
    from nnqft.derive.export.json import formula_from_json

    f = get_formula(fid)
    record = json.loads(export(f, "json"))
    assert record["id"] == fid
    rebuilt = formula_from_json(record)
    assert rebuilt.expression == f.expression  # exact, assumptions included
    assert rebuilt.arguments == f.arguments
    plain = S.parse_expression(record["expression"]).xreplace(
        {
            s: a
            for s in S.parse_expression(record["expression"]).free_symbols
            for a in f.arguments
            if a.name == s.name
        }
    )
    row = _grid(f, 1, seed=5)[0]
    subs = {
        s: (sp.Integer(v) if s.is_integer else sp.Float(v, 40)) for s, v in zip(f.arguments, row)
    }
    assert abs(complex((plain - f.expression).evalf(40, subs=subs))) < 1e-30 * (
        1 + abs(_exact(f, row))
    )


@pytest.mark.parametrize(
    "fid",
    [
        "mft/length-map/relu",
        "mft/chi1/erf",
        "kernel/linear",
        "linear-feedforward/mean",  # \sigma_w^{2 T}: merged powers read back
        "finite-width/V/linear",  # \sigma_w^{4 T}
        "linear-feedforward/log-mean",  # \ln, \psi
    ],
)
def test_latex_output_parses_back(fid):
    pytest.importorskip("antlr4", reason="LaTeX parsing needs antlr4 (optional extra nnqft[latex])")
    from nnqft.derive.check import parse_user_expression  # the LaTeX route of nnqft check

    f = get_formula(fid)
    text = export(f, "latex")
    body = [ln for ln in text.splitlines() if "=" in ln and not ln.startswith("%")][0]
    back = parse_user_expression(body.split("=", 1)[1].strip(), f)
    assert sp.simplify(back - f.expression) == 0


# --- stable forms, integer depth, special functions -----------------------------------------------


def _c_values(formula, rows, tmp_path, name="g"):
    calls = "\n".join(
        f'    printf("%.17g\\n", {name}({", ".join(repr(float(v)) for v in row)}));' for row in rows
    )
    code = export(formula, "c", function_name=name)
    src = f"#include <stdio.h>\n{code}\nint main(void) {{\n{calls}\n    return 0;\n}}\n"
    (tmp_path / f"{name}.c").write_text(src)
    run(["gcc", "-std=c99", "-O2", "-o", name, f"{name}.c", "-lm"], tmp_path)
    return [float(v) for v in run([str(tmp_path / name)], tmp_path).split()]


@pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc not installed")
def test_geometric_sum_keeps_full_precision_near_sigma_w2_one(tmp_path):
    # (1 - s**T)/(1 - s) at s = 1 +- 1e-9: the naive form loses ~8 digits, the export none
    f = get_formula("linear-feedforward/mean")
    rows = [[1 + d, 0.3, 0.7, t] for d in (1e-9, -1e-9, 1e-6, -1e-6, 1e-3) for t in (1, 7, 50)]
    got = _c_values(f, rows, tmp_path)
    naive = sp.lambdify(f.arguments, f.expression, modules="numpy")
    worst_naive = 0.0
    for row, value in zip(rows, got):
        want = _exact(f, row)
        assert _close(value, want, 1e-13), (row, value, want)
        worst_naive = max(worst_naive, abs(naive(*row) - want) / abs(want))
    assert worst_naive > 1e-9  # the cancellation is real: the stable form is what saves it


@pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc not installed")
def test_variance_near_sigma_w2_one_and_large_width(tmp_path):
    # compound ratios (1 + 2/N) are kept by log1p/expm1; what is left near s = 1 is the
    # formula's own pole cancellation between its terms, O(eps_machine / (s-1)^2)
    f = get_formula("linear-feedforward/variance")
    rows = [[s, 0.2, 1.3, n, t] for s in (0.8, 1.3) for n in (10**4, 10**7) for t in (3, 40)]
    for row, value in zip(rows, _c_values(f, rows, tmp_path)):
        assert _close(value, _exact(f, row), 1e-11), row
    near = [[1 + d, 0.2, 1.3, 64, 5] for d in (1e-2, -1e-2)]
    for row, value in zip(near, _c_values(f, near, tmp_path, "h")):
        assert _close(value, _exact(f, row), 1e-9), row


def test_stable_form_is_the_same_expression():
    rng = random.Random(3)
    for fid in [i for i in IDS if i.startswith("linear-")]:
        f = get_formula(fid)
        st = stable_form(f.expression)
        for _ in range(3):
            subs = {
                S.sigma_w2: sp.Rational(rng.randint(20, 250), 100),
                S.sigma_b2: sp.Rational(rng.randint(1, 100), 100),
                S.q0: sp.Rational(rng.randint(10, 300), 100),
                S.N: rng.randint(2, 99),
                S.T: rng.randint(1, 15),
            }
            assert abs(complex((st - f.expression).evalf(40, subs=subs))) < 1e-30


@pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc not installed")
def test_integer_depth_with_negative_bases(tmp_path):
    # (-1)**T and (-s)**(T-1): T is a double holding an integer; C's pow, Fortran's
    # real**nint(...) and Rust's powf must all give the signed result
    e = (-S.sigma_w2) ** (S.T - 1) + (-1) ** S.T * S.sigma_w2 ** (S.T / 2) / S.N
    f = formula_from_expression(e, "signed")
    rows = [[0.7, 5, t] for t in range(1, 8)]
    for row, value in zip(rows, _c_values(f, rows, tmp_path)):
        assert _close(value, _exact(f, row)), row
    if shutil.which("gfortran"):
        src = export(f, "fortran", function_name="g") + "program main\n  use g_mod\n"
        src += "".join(f"  write (*, '(ES26.17E3)') g(0.7d0, 5d0, {t}d0)\n" for t in range(1, 8))
        (tmp_path / "g.f90").write_text(src + "end program main\n")
        run(["gfortran", "-std=f2008", "-o", "gf", "g.f90"], tmp_path)
        out = [float(v) for v in run([str(tmp_path / "gf")], tmp_path).split()]
        for row, value in zip(rows, out):
            assert _close(value, _exact(f, row)), row


@pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc not installed")
def test_generated_polygamma_helpers_match_scipy(tmp_path):
    from scipy.special import polygamma

    x = sp.Symbol("x", positive=True)
    xs = [0.01, 0.3, 1.0, 2.5, 7.25, 15.999, 16.0, 40.0, 1e3, 1e7]
    for m in (0, 1, 2):
        f = formula_from_expression(sp.polygamma(m, x), f"psi{m}", arguments=(x,))
        got = _c_values(f, [[v] for v in xs], tmp_path, f"p{m}")
        for v, value in zip(xs, got):
            want = float(polygamma(m, v))
            assert abs(value - want) <= 2e-14 * abs(want), (m, v, value, want)


@pytest.mark.skipif(shutil.which("rustc") is None, reason="rustc not installed")
def test_generated_rust_erf_and_digamma_match_scipy(tmp_path):
    from scipy.special import digamma, erf

    x = sp.Symbol("x", real=True)
    xs = [-7.0, -3.2, -1.0, -1e-8, 0.0, 1e-300, 0.01, 0.5, 0.9, 1.7, 2.99, 3.0, 4.4, 5.9, 6.6]
    src = export(formula_from_expression(sp.erf(x), "e", arguments=(x,)), "rust")
    y = sp.Symbol("y", positive=True)
    src += export(formula_from_expression(sp.digamma(y), "d", arguments=(y,)), "rust")
    ys = [0.05, 1.0, 3.3, 17.0, 1e5]
    body = "".join(f'    println!("{{:e}}", e({_rust_real(v)}));\n' for v in xs)
    body += "".join(f'    println!("{{:e}}", d({_rust_real(v)}));\n' for v in ys)
    (tmp_path / "e.rs").write_text(src + "fn main() {\n" + body + "}\n")
    run(["rustc", "-O", "-o", "e", "e.rs"], tmp_path)
    out = [float(v) for v in run([str(tmp_path / "e")], tmp_path).split()]
    for v, value in zip(xs, out[: len(xs)]):
        # a few ulp: the series and the continued fraction are summed in double precision
        assert abs(value - erf(v)) <= 1e-15 * max(abs(erf(v)), 1e-300) + 1e-300, (v, value)
    for v, value in zip(ys, out[len(xs) :]):
        assert abs(value - digamma(v)) <= 2e-14 * abs(digamma(v)), (v, value)


def test_polygamma_asymptotic_series_is_derived():
    x = sp.Symbol("x", positive=True)
    for m in (0, 1, 3):
        series = polygamma_asymptotic(m, x, terms=8)
        exact = sp.polygamma(m, 30).evalf(40)
        assert abs(series.subs(x, 30).evalf(40) - exact) < 1e-20 * abs(exact)


# --- options, names and errors ------------------------------------------------------------------


def test_cse_names_temporaries_and_can_be_switched_off():
    with_cse = export("mft/correlation-map/relu", "c")
    assert "const double cse0" in with_cse
    assert "cse0" not in export("mft/correlation-map/relu", "c", cse=False)


def test_unknown_language_and_option_are_refused():
    with pytest.raises(UnknownName, match="did you mean 'fortran'"):
        get_exporter("fortan")
    with pytest.raises(InvalidParameter, match="unknown option"):
        get_exporter("c", colour=True)
    with pytest.raises(InvalidParameter, match="unknown option"):
        get_exporter("mathematica", cse=False)


def test_fortran_refuses_case_clash():
    a, b = sp.Symbol("a"), sp.Symbol("A")
    with pytest.raises(InvalidParameter, match="naming clash"):
        export(formula_from_expression(a + b, "clash"), "fortran")


def test_reserved_words_are_renamed():
    s = sp.Symbol("int")
    assert "double int_" in export(formula_from_expression(s + 1, "r"), "c")


def test_every_language_exports_the_largest_formula():
    for lang in codegen.LANGUAGES:
        assert export("linear-feedforward/variance", lang).strip()


def test_kernel_numpy_export_is_vectorised():
    ns: dict = {}
    exec(export("mft/length-map/erf", "numpy", function_name="f"), ns)
    q = np.linspace(0.1, 3.0, 7)
    out = ns["f"](1.5, 0.1, q)
    assert out.shape == (7,)


# --- numeric kernels ---------------------------------------------------------------------------


@pytest.mark.parametrize("fid", IDS)
def test_kernels_match_evalf_on_both_backends(fid):
    from nnqft.derive.export.kernels import kernel, llvm_available

    f = get_formula(fid)
    rows = np.array(_grid(f, 5, seed=21), dtype=float)
    want = np.array([_exact(f, list(r)) for r in rows])
    cols = [rows[:, i] for i in range(rows.shape[1])]
    got = {"numpy": kernel(fid, "numpy")(*cols)}
    if llvm_available() and not f.expression.has(sp.polygamma):
        got["llvm"] = kernel(fid, "llvm")(*cols)
    # the recurrent 1/N series have removable poles up to (1 - sigma_w2)^-5 whose terms
    # cancel each other: at |sigma_w2 - 1| ~ 0.1 that costs up to ~3 digits
    rtol = 1e-10 if fid.startswith("linear-recurrent") else 1e-12
    atol = 0.0
    if fid.startswith("fluctuations/V/"):
        # poles (chi - 1)^-3 whose terms cancel: ~3 digits lost near chi = 1, and V(1) = 0
        # exactly comes out as rounding of the terms' scale
        rtol, atol = 1e-9, 1e-13 * float(np.max(np.abs(want)))
    for backend, values in got.items():
        assert values.shape == want.shape
        np.testing.assert_allclose(values, want, rtol=rtol, atol=atol, err_msg=backend)
    assert kernel(fid).backend in ("llvm", "numpy")


def test_kernel_broadcasts_and_checks_arity():
    from nnqft.derive.export.kernels import kernel

    k = kernel("mft/length-map/erf")
    assert k(np.ones((2, 3)), 0.1, np.linspace(0.5, 1, 3)).shape == (2, 3)
    with pytest.raises(InvalidParameter, match="takes 3 arguments"):
        k(1.0, 2.0)
    with pytest.raises(UnknownName):
        kernel("mft/length-map/erf", backend="cuda")
    plain = kernel("linear-feedforward/mean", "numpy", stable=False)(0.5, 0.3, 1.2, 6.0)
    stable = kernel("linear-feedforward/mean", "numpy")(0.5, 0.3, 1.2, 6.0)
    assert abs(plain - stable) < 1e-14 * abs(stable)
    with pytest.raises(InvalidParameter, match="no LLVM kernel"):
        kernel("linear-feedforward/log-mean", backend="llvm")  # polygamma: numpy only
