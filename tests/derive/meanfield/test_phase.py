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


# --- an independent route: plain iteration with a quadrature rule written here -------------

# E f(z), z ~ N(0, 1), by the trapezoidal rule: exponentially accurate for an analytic f
# (tanh(sqrt(q) z) is analytic in a strip of half-width pi / (2 sqrt q) ~ 0.9 here).
_Z = np.linspace(-12.0, 12.0, 241)
_W = np.exp(-(_Z**2) / 2)
_W = _W / _W.sum()


def _tanh_derivatives(u):
    th = np.tanh(u)
    return th, 1 - th**2, -2 * th * (1 - th**2)


def _by_iteration(sw, sb):
    """q*, c*, chi_1, chi_c, chi_parallel for tanh by iterating the maps of
    docs/conventions.md §3 (no code of nnqft: numpy quadrature and plain loops)."""
    q = 1.0 * sw + sb  # q(1) from q0 = 1
    for _ in range(20000):
        new = sw * np.dot(_W, np.tanh(np.sqrt(q) * _Z) ** 2) + sb
        if abs(new - q) < 1e-15 * max(q, 1e-300):
            break
        q = new
    q = new if q > 1e-12 else 0.0
    phi, d1, d2 = _tanh_derivatives(np.sqrt(q) * _Z)
    chi_1 = sw * np.dot(_W, d1**2)
    chi_par = chi_1 + sw * np.dot(_W, d2 * phi)
    if chi_1 <= 1:  # ordered: c* = 1, chi_c = chi_1
        return q, 1.0, chi_1, chi_1, chi_par
    z1, z2 = np.meshgrid(_Z, _Z, indexing="ij")
    w2 = np.outer(_W, _W)
    c = 0.5
    for _ in range(20000):
        u1 = np.sqrt(q) * z1
        u2 = np.sqrt(q) * (c * z1 + np.sqrt(1 - c * c) * z2)
        new = (sw * np.sum(w2 * np.tanh(u1) * np.tanh(u2)) + sb) / q
        if abs(new - c) < 1e-15:
            break
        c = new
    u1 = np.sqrt(q) * z1
    u2 = np.sqrt(q) * (c * z1 + np.sqrt(1 - c * c) * z2)
    chi_c = sw * np.sum(w2 * (1 - np.tanh(u1) ** 2) * (1 - np.tanh(u2) ** 2))
    return q, c, chi_1, chi_c, chi_par


def test_grid_equals_plain_iteration_of_the_maps(tanh_grid):
    """Every tested grid point against the length and correlation maps iterated by hand
    here (a trapezoidal rule, no nnqft code), and the depth scales -1/ln chi."""
    pd = tanh_grid
    assert pd.xi_c.shape == (SB.size, SW.size)
    for i, sb in enumerate(SB):
        for j in (0, 3, 5, 8):
            q, c, chi_1, chi_c, chi_par = _by_iteration(SW[j], sb)
            want = {"q_star": q, "c_star": c, "chi_1": chi_1, "chi_c": chi_c}
            want["chi_parallel"] = chi_par
            want["xi_q"] = -1 / np.log(abs(chi_par))
            want["xi_c"] = -1 / np.log(abs(chi_c))
            for key, value in want.items():
                assert getattr(pd, key)[i, j] == pytest.approx(value, rel=1e-7, abs=1e-9), (
                    key,
                    sb,
                    SW[j],
                )
            assert pd.phase[i, j] == ("chaotic" if chi_1 > 1 else "ordered")


def test_grid_equals_single_fixed_points(tanh_grid):
    """The chunked grid agrees with fixed_point() of each network (bookkeeping of the
    reshape and chunking; the values themselves are checked against iteration above)."""
    pd = tanh_grid
    for i, sb in enumerate(SB):
        for j in (1, 4, 7):
            mf = meanfield.fixed_point(Network("feedforward", "tanh", sigma_w2=SW[j], sigma_b2=sb))
            for key in ("q_star", "c_star", "chi_1", "chi_c"):
                assert getattr(pd, key)[i, j] == pytest.approx(
                    getattr(mf, key), rel=1e-12, abs=1e-14
                ), (key, sb, SW[j])
            # xi = -1/ln chi is ill-conditioned where chi ~ 1: the rate 1/xi = -ln chi
            # inherits chi's absolute rounding (3e-14 at sigma_w2 = 2.1), so compare rates
            # to 1e-13 absolute (chi itself agrees to 1e-12 relative above)
            for key in ("xi_q", "xi_c"):
                assert 1 / getattr(pd, key)[i, j] == pytest.approx(
                    1 / getattr(mf, key), rel=1e-12, abs=1e-13
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
