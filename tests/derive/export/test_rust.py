"""Rust export: generated kernels (and the erf written for Rust, which has none) compiled
with rustc, against Gaussian quadrature and scipy done here."""

import shutil
import subprocess

import numpy as np
import pytest
import sympy as sp
from reference_quadrature import POINTS, gaussian_mean
from scipy.special import erf

from nnqft.derive.export.base import export
from nnqft.derive.export.rust import NnqftRustPrinter
from nnqft.rules import symbols as S


def _real(v):
    text = repr(float(v))
    return text if ("." in text or "e" in text) else text + ".0"


@pytest.mark.skipif(shutil.which("rustc") is None, reason="rustc not installed")
def test_compiled_kernels_equal_quadrature(tmp_path):
    """kernel/erf and kernel/sin in one program; the erf activation itself is evaluated by
    the Rust erf of the export (series and continued fraction) in the last lines."""
    mods = [
        f"mod {n} {{\n{export('kernel/' + n, 'rust', function_name='k')}\n}}"
        for n in ("erf", "sin")
    ]
    calls = [
        f'    println!("{{:e}}", {n}::k({", ".join(_real(v) for v in p)}));'
        for n in ("erf", "sin")
        for p in POINTS
    ]
    x = sp.Symbol("x", real=True)
    from nnqft.derive.formulas import formula_from_expression

    erf_only = formula_from_expression(sp.erf(x), "erf_of_x", arguments=[x])
    mods.append(f"mod e {{\n{export(erf_only, 'rust', function_name='f')}\n}}")
    points = [-4.2, -0.3, 0.0, 1.1, 2.9, 3.5]
    calls += [f'    println!("{{:e}}", e::f({_real(v)}));' for v in points]
    (tmp_path / "k.rs").write_text("\n".join(mods) + "\nfn main() {\n" + "\n".join(calls) + "\n}\n")
    subprocess.run(
        ["rustc", "-O", "-o", "k", "k.rs"],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        timeout=300,
    )
    out = subprocess.run([str(tmp_path / "k")], capture_output=True, text=True, check=True)
    got = [float(v) for v in out.stdout.split()]
    want = [gaussian_mean(erf, *p) for p in POINTS] + [gaussian_mean(np.sin, *p) for p in POINTS]
    want += [float(erf(v)) for v in points]
    assert got == pytest.approx(want, rel=1e-12, abs=1e-15)


def test_parentheses_are_kept():
    """sympy's own Rust printer prints (a+b)**2 as a + b.powi(2); this one keeps the sum."""
    text = NnqftRustPrinter().doprint((S.sigma_w2 + S.sigma_b2) ** 2)
    assert text.replace(" ", "") == "f64::powi(sigma_b2+sigma_w2,2)"
