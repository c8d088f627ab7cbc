"""Vectorised kernels: the compiled closed forms against Gaussian quadrature done here,
on arrays, and every backend against the others."""

import numpy as np
import pytest
from reference_quadrature import POINTS, gaussian_mean
from scipy.special import erf

from nnqft.derive.export.kernels import kernel, llvm_available


@pytest.mark.parametrize("name,phi", [("erf", erf), ("sin", np.sin), ("cos", np.cos)])
def test_kernel_on_arrays_equals_quadrature(name, phi):
    q11, q22, q12 = (np.array(v) for v in zip(*POINTS))
    got = kernel("kernel/" + name)(q11, q22, q12)
    want = [gaussian_mean(phi, *p) for p in POINTS]
    assert got.shape == (len(POINTS),)
    assert got == pytest.approx(want, rel=1e-12, abs=1e-14)


@pytest.mark.skipif(not llvm_available(), reason="symengine's LLVM backend is not available")
def test_llvm_and_numpy_backends_agree():
    q = np.linspace(0.1, 2.0, 7)
    fast, plain = kernel("mft/chi1/erf", backend="llvm"), kernel("mft/chi1/erf", backend="numpy")
    assert fast.arguments == ("sigma_w2", "sigma_b2", "q")
    assert fast(1.3, 0.2, q) == pytest.approx(plain(1.3, 0.2, q), rel=1e-13)
    # chi_1 = sigma_w2 E[erf'(u)^2] = sigma_w2 (4/pi) / sqrt(1 + 4q) (closed form, by hand)
    assert plain(1.3, 0.2, q) == pytest.approx(1.3 * 4 / np.pi / np.sqrt(1 + 4 * q), rel=1e-13)
