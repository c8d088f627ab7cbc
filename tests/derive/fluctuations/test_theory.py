"""The generic fluctuation theory: diagrams from the shape rules, values by contraction,
against exact integrals of zero-dimensional theories."""

from fractions import Fraction

import numpy as np
import pytest
from scipy import integrate

from nnqft.derive.fluctuations.theory import (
    FluctuationTheory,
    diagrams_at,
    one_point,
    shape_rules,
    sparse_symmetric,
    two_point,
)
from nnqft.errors import InvalidParameter


def _moments_by_quadrature(a, g3, g4, N):
    """<x>, <x^2> - <x>^2 of the weight exp(N (-a x^2/2 + g3 x^3/6 + g4 x^4/24)), g4 < 0."""

    def w(x):
        return np.exp(N * (-a * x**2 / 2 + g3 * x**3 / 6 + g4 * x**4 / 24))

    z = integrate.quad(w, -np.inf, np.inf, epsabs=0, epsrel=1e-13, limit=400)[0]
    m1 = (
        integrate.quad(lambda x: x * w(x), -np.inf, np.inf, epsabs=0, epsrel=1e-13, limit=400)[0]
        / z
    )
    m2 = (
        integrate.quad(lambda x: x * x * w(x), -np.inf, np.inf, epsabs=0, epsrel=1e-13, limit=400)[
            0
        ]
        / z
    )
    return m1, m2 - m1**2


def _scalar(a, g3, g4, g5=0.0):
    vertices = {3: sparse_symmetric({(0, 0, 0): g3}, 3), 4: sparse_symmetric({(0,) * 4: g4}, 4)}
    if g5:
        vertices[5] = sparse_symmetric({(0,) * 5: g5}, 5)
    return FluctuationTheory(("x",), np.array([[-a]]), vertices)


def test_one_point_against_the_exact_integral():
    """N <x> -> (1/N-coefficient) as N grows: the tadpole g3/(2 a^2); with the 1/N^2 term,
    N^2 (<x> - c1/N) -> c2 (Richardson over N = 400, 800)."""
    a, g3, g4 = 1.3, 0.4, -0.5
    theory = _scalar(a, g3, g4)
    c1 = one_point(theory, 1)[0]
    assert c1 == pytest.approx(g3 / (2 * a**2), rel=1e-14)
    theory5 = FluctuationTheory(
        theory.labels, theory.hessian, {**theory.vertices, 5: sparse_symmetric({}, 5)}
    )
    c2 = one_point(theory5, 2)[0]
    ests = []
    for N in (400.0, 800.0):
        m1, _ = _moments_by_quadrature(a, g3, g4, N)
        ests.append(N**2 * (m1 - c1 / N))
    richardson = 2 * ests[1] - ests[0]  # the next term is O(1/N)
    assert richardson == pytest.approx(c2, rel=2e-3)


def test_two_point_correction_against_the_exact_integral():
    """N^2 (Var x - 1/(a N)) -> the one-loop self-energy diagrams (g3^2 and g4)."""
    a, g3, g4 = 1.1, 0.3, -0.6
    theory = _scalar(a, g3, g4)
    tree = two_point(theory, 0)[0, 0]
    assert tree == pytest.approx(1 / a)
    one_loop = two_point(theory, 1)[0, 0]
    ests = []
    for N in (400.0, 800.0):
        _, var = _moments_by_quadrature(a, g3, g4, N)
        ests.append(N**2 * (var - tree / N))
    assert 2 * ests[1] - ests[0] == pytest.approx(one_loop, rel=2e-3)


def test_matrix_theory_equals_the_scalar_theory_in_a_rotated_basis():
    """Two decoupled copies of a scalar theory in a rotated basis: the tadpole rotates as a
    vector (the contraction uses the full matrix propagator and tensor)."""
    a, g3 = 0.7, 0.9
    c, s = np.cos(0.4), np.sin(0.4)
    R = np.array([[c, -s], [s, c]])
    hessian = R @ np.diag([-a, -a]) @ R.T
    full = np.zeros((2, 2, 2))
    for axis in range(2):
        e = R[:, axis]
        full += g3 * np.einsum("i,j,k->ijk", e, e, e)
    entries = {tuple(sorted(k)): full[k] for k in np.ndindex(2, 2, 2)}
    theory = FluctuationTheory(("x", "y"), hessian, {3: sparse_symmetric(entries, 3)})
    expected = R @ np.array([g3 / (2 * a**2), g3 / (2 * a**2)])
    assert np.allclose(one_point(theory, 1), expected, rtol=1e-13, atol=1e-15)


def test_diagram_sets_and_symmetry_factors():
    """1-point at 1/N: the tadpole (S = 1/2); at 1/N^2 the sum of S over diagrams of a
    given vertex set matches the counts of phi^3 + phi^4 + phi^5 perturbation theory."""
    assert [(d.vertices, d.symmetry_factor) for d in diagrams_at(1, 1)] == [
        (("x3",), Fraction(1, 2))
    ]
    second = diagrams_at(1, 2)
    by_set = {}
    for d in second:
        by_set.setdefault(d.vertices, []).append(d.symmetry_factor)
    assert set(by_set) == {("x5",), ("x3", "x4"), ("x3", "x3", "x3")}
    assert by_set[("x5",)] == [Fraction(1, 8)]
    assert sum(by_set[("x3", "x4")]) == Fraction(2, 3)
    assert [d.vertices for d in diagrams_at(2, 0)] == [()]
    assert [r.kind for r in shape_rules(4).vertices] == ["x3", "x4"]


def test_missing_degree_is_refused():
    theory = _scalar(1.0, 0.1, -0.1)
    with pytest.raises(InvalidParameter, match="degree 5"):
        one_point(theory, 2)


def test_singular_hessian_is_refused():
    theory = FluctuationTheory(("x",), np.array([[0.0]]), {})
    with pytest.raises(InvalidParameter, match="singular"):
        theory.propagator()
