"""The moment table equals direct quadrature, and the phase diagram built on it equals the
direct route's (README: phase diagrams; docs/conventions.md §3)."""

import numpy as np
import pytest

from nnqft.derive.meanfield._inputs import _moments
from nnqft.derive.meanfield.phase import phase_diagram
from nnqft.derive.meanfield.tabulated import Q_LO, MomentTable, moment_table
from nnqft.rules.activations import get_activation

CASES = [("tanh", None), ("sigmoid", None), ("swish", None), ("softplus", None), ("gelu", 301)]


@pytest.mark.parametrize("name, nodes", CASES)
def test_table_equals_direct_quadrature_at_random_q(name, nodes):
    act = get_activation(name)
    table = MomentTable(act, nodes)
    assert table.error_bound < 1e-13  # the stated (Chebyshev tail) interpolation error
    rng = np.random.default_rng(7)
    q = np.exp(rng.uniform(np.log(table.edges[0]), np.log(table.edges[-1]), 2000))
    q = np.concatenate([q, table.edges])  # the panel edges too (band changes)
    with np.errstate(all="ignore"):
        got, want = table(q), _moments(act, q, nodes)
    for g, w in zip(got, want):
        assert np.all(np.abs(g - w) <= 1e-10 * np.abs(w)), name


def test_outside_the_table_the_direct_route_answers_bit_for_bit():
    act = get_activation("softplus")  # its table ends where E[phi^2] overflows
    table = moment_table(act)
    q = np.array([Q_LO / 10, 0.0, table.edges[-1] * 1.5, 5e3])
    with np.errstate(all="ignore"):
        for g, w in zip(table(q), _moments(act, q, None)):
            assert np.array_equal(g, w, equal_nan=True)


@pytest.mark.parametrize("name, nodes", [("tanh", None), ("sigmoid", None), ("sin", 201)])
def test_tabulated_phase_diagram_equals_the_direct_route(name, nodes):
    """q*, c*, the chi's and the critical line to 1e-9 relative; the depth scales through
    1/xi = -ln|chi| to 1e-9 (xi itself is infinite at the edge of chaos, where any rounding
    moves it without bound)."""
    sw, sb = np.linspace(0.5, 4.0, 12), np.linspace(0.0, 0.5, 7)
    fast = phase_diagram(name, sw, sb, nodes=nodes, progress=False)
    slow = phase_diagram(name, sw, sb, nodes=nodes, progress=False, tabulate=False)
    assert (fast.phase == slow.phase).all()
    for key in ("q_star", "c_star", "chi_1", "chi_c", "chi_parallel", "lyapunov_exponent"):
        a, b = getattr(fast, key), getattr(slow, key)
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12, err_msg=key)
    for key in ("xi_q", "xi_c"):
        with np.errstate(divide="ignore"):
            a, b = 1 / getattr(fast, key), 1 / getattr(slow, key)
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-9, err_msg=key)
    np.testing.assert_allclose(
        fast.critical_line.sigma_w2, slow.critical_line.sigma_w2, rtol=1e-9, err_msg="line"
    )
    np.testing.assert_allclose(fast.critical_line.q_star, slow.critical_line.q_star, rtol=1e-9)


def test_closed_form_activations_are_not_tabulated():
    """erf has closed forms: both routes are the same computation, bit for bit."""
    sw, sb = np.linspace(0.5, 4.0, 6), np.linspace(0.0, 0.5, 3)
    a = phase_diagram("erf", sw, sb, progress=False)
    b = phase_diagram("erf", sw, sb, progress=False, tabulate=False)
    assert all(
        np.array_equal(getattr(a, k), getattr(b, k), equal_nan=True) for k in ("xi_c", "q_star")
    )
