"""Python export: the numpy module of a kernel, executed, against Gaussian quadrature done
here; it is vectorised (scipy.special's erf, not math.erf)."""

import numpy as np
import pytest
from scipy.special import erf

from nnqft.derive.export.base import export

#: (q11, q22, q12) points: two inputs with different lengths, positive and negative overlap
POINTS = [(0.7, 1.3, 0.4), (1.5, 0.4, -0.3), (0.2, 2.0, 0.55)]


def gaussian_mean(phi, q11, q22, q12, nodes=80):
    """E[phi(u1) phi(u2)], (u1, u2) ~ N(0, [[q11, q12], [q12, q22]]), by a 2-d
    Gauss-Hermite rule written here (an independent route to the closed-form kernels)."""
    z, w = np.polynomial.hermite_e.hermegauss(nodes)
    w = w / w.sum()
    z1, z2 = np.meshgrid(z, z, indexing="ij")
    u1 = np.sqrt(q11) * z1
    u2 = q12 / np.sqrt(q11) * z1 + np.sqrt(q22 - q12**2 / q11) * z2
    return float(np.sum(np.outer(w, w) * phi(u1) * phi(u2)))


def _function(fid):
    space: dict = {}
    exec(export(fid, "numpy", function_name="f"), space)  # code nnqft generated from the registry
    return space["f"]


@pytest.mark.parametrize("name,phi", [("erf", erf), ("sin", np.sin)])
def test_numpy_module_equals_quadrature(name, phi):
    f = _function("kernel/" + name)
    for p in POINTS:
        assert f(*p) == pytest.approx(gaussian_mean(phi, *p), rel=1e-12, abs=1e-14)
    q11, q22, q12 = (np.array(v) for v in zip(*POINTS))
    assert f(q11, q22, q12) == pytest.approx([f(*p) for p in POINTS], rel=1e-15)


def test_erf_activation_is_vectorised():
    """The length map of erf uses erf through scipy.special: arrays go through."""
    f = _function("mft/length-map/erf")
    q = np.array([0.5, 1.0, 2.0])
    values = f(1.5, 0.1, q)
    assert values.shape == (3,) and np.all(np.diff(values) > 0)  # the map grows with q
