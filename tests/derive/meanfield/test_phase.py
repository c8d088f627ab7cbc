"""Phase diagrams: the vectorised grid against single fixed points, the critical line, the plot."""

import json

import numpy as np
import pytest

from nnqft.derive import meanfield
from nnqft.derive.meanfield.phase import phase_diagram, plot_phase_diagram
from nnqft.errors import InvalidParameter
from nnqft.rules.network import Network

SW = np.linspace(0.6, 3.6, 9)
SB = np.array([0.0, 0.02, 0.1, 0.3])


@pytest.fixture(scope="module")
def tanh_grid():
    return phase_diagram("tanh", SW, SB)


def test_grid_equals_single_fixed_points(tanh_grid):
    """Every grid point equals fixed_point() of that network (same engine, chunked)."""
    pd = tanh_grid
    assert pd.xi_c.shape == (SB.size, SW.size)
    for i, sb in enumerate(SB):
        for j in (0, 3, 5, 8):
            mf = meanfield.fixed_point(Network("feedforward", "tanh", sigma_w2=SW[j], sigma_b2=sb))
            for key in ("q_star", "c_star", "chi_1", "chi_c", "xi_q", "xi_c"):
                assert getattr(pd, key)[i, j] == pytest.approx(
                    getattr(mf, key), rel=1e-12, abs=1e-14
                ), (key, sb, SW[j])
            assert pd.phase[i, j] == mf.phase


def test_phase_map_is_split_by_the_critical_line(tanh_grid):
    pd = tanh_grid
    for i, sw_c in enumerate(pd.critical_line.sigma_w2):
        assert np.all(pd.phase[i, SW < sw_c] == "ordered")
        assert np.all(pd.phase[i, SW > sw_c] == "chaotic")
        chaotic = SW > sw_c
        assert np.all(pd.c_star[i, chaotic] < 1) and np.all(pd.c_star[i, ~chaotic] == 1)
    assert pd.critical_line.sigma_w2[0] == 1.0  # tanh at sigma_b2 = 0: phi'(0)^-2
    assert np.all(pd.c_star[0, SW > 1] == 0.0)  # odd phi at sigma_b2 = 0


def test_closed_form_grid_agrees_with_quadrature_grid():
    """erf: arcsine kernels vs 201-node Gauss-Hermite with the Mehler series for c*."""
    exact = phase_diagram("erf", SW[::2], SB)
    quad = phase_diagram("erf", SW[::2], SB, nodes=201)
    for key in ("q_star", "c_star", "chi_1", "chi_c", "xi_q", "xi_c"):
        a, b = getattr(exact, key), getattr(quad, key)
        assert np.array_equal(np.isinf(a), np.isinf(b)), key
        fin = np.isfinite(a)
        np.testing.assert_allclose(a[fin], b[fin], rtol=1e-9, atol=1e-12, err_msg=key)
    assert exact.method == "closed-form" and "Mehler" in quad.method


def test_as_dict_is_json_ready(tanh_grid):
    data = json.loads(json.dumps(tanh_grid.as_dict(), allow_nan=True))
    assert data["activation"] == "tanh" and len(data["critical_line"]) == SB.size
    assert len(data["phase"]) == SB.size and len(data["phase"][0]) == SW.size


def test_plot_writes_a_png(tanh_grid, tmp_path):
    import matplotlib.image as mpimg

    path = tmp_path / "phase.png"
    plot_phase_diagram(tanh_grid, path)
    image = mpimg.imread(path)
    assert image.ndim == 3 and image.shape[0] > 300 and image.shape[1] > 400
    assert image[..., :3].std() > 0.05  # not a blank canvas


def test_bad_grids():
    with pytest.raises(InvalidParameter, match="sigma_w2 must be positive"):
        phase_diagram("tanh", [0.0, 1.0], [0.0])
    with pytest.raises(InvalidParameter, match="non-negative"):
        phase_diagram("tanh", [1.0], [-0.1])
    with pytest.raises(InvalidParameter, match="empty"):
        phase_diagram("tanh", [], [0.1])
