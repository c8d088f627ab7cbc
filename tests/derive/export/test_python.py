"""Python export: the numpy module of a kernel, executed, against Gaussian quadrature done
here; it is vectorised (scipy.special's erf, not math.erf)."""

import numpy as np
import pytest
from reference_quadrature import POINTS, gaussian_mean
from scipy.special import erf

from nnqft.derive.export.base import export


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
