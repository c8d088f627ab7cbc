"""C export: the generated closed-form kernels, compiled with cc, against Gaussian
quadrature done here in numpy (two routes to E[phi(u1) phi(u2)])."""

import shutil
import subprocess

import numpy as np
import pytest
from reference_quadrature import POINTS, gaussian_mean
from scipy.special import erf

from nnqft.derive.export.base import export
from nnqft.derive.export.c import NnqftCPrinter


@pytest.mark.skipif(shutil.which("cc") is None, reason="no C compiler")
@pytest.mark.parametrize("name,phi", [("erf", erf), ("sin", np.sin), ("cos", np.cos)])
def test_compiled_kernel_equals_quadrature(name, phi, tmp_path):
    calls = "\n".join(f'    printf("%.17g\\n", k({a!r}, {b!r}, {c!r}));' for a, b, c in POINTS)
    src = f"#include <stdio.h>\n{export('kernel/' + name, 'c', function_name='k')}\n"
    src += f"int main(void) {{\n{calls}\n    return 0;\n}}\n"
    (tmp_path / "k.c").write_text(src)
    cmd = ["cc", "-std=c99", "-Wall", "-Werror", "-o", "k", "k.c", "-lm"]
    subprocess.run(cmd, cwd=tmp_path, check=True, capture_output=True, timeout=120)
    out = subprocess.run([str(tmp_path / "k")], capture_output=True, text=True, check=True)
    got = [float(v) for v in out.stdout.split()]
    want = [gaussian_mean(phi, *p) for p in POINTS]
    assert got == pytest.approx(want, rel=1e-12, abs=1e-14)


def test_constants_are_literals_not_m_pi():
    """M_PI is not ISO C: pi is printed as a number equal to numpy's pi."""
    import sympy as sp

    text = NnqftCPrinter().doprint(sp.pi)
    assert "M_PI" not in text and float(text) == np.pi
    assert float(NnqftCPrinter().doprint(sp.E)) == np.e
