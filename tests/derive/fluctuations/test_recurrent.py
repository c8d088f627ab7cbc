"""The recurrent collective-field theory against independent routes: the exact linear
recurrent results (derive/loops, closed forms in T), the two-time overlaps from the
trace moments M(k,m) of docs/conventions.md §5, finite differences in the covariance for
the score-polynomial derivatives, and quadrature refinement for nonlinear activations."""

import numpy as np
import pytest

from nnqft.derive.fluctuations.recurrent import (
    GaussianRule,
    recurrent_correlators,
    recurrent_theory,
    saddle_kernel,
)
from nnqft.derive.fluctuations.theory import one_point
from nnqft.errors import InvalidParameter, OrderTooHigh
from nnqft.rules import symbols as S
from nnqft.rules.network import Network

SW, SB, Q0 = 0.7, 0.3, 1.3


def _linear(bias):
    return Network("recurrent", "linear", SW, SB, bias=bias, q0=Q0)


@pytest.fixture(scope="module", params=["shared", "fresh"])
def linear_rows(request):
    return request.param, recurrent_correlators(_linear(request.param), 6)


def _at(expr, T):
    return float(expr.subs({S.T: T, S.sigma_w2: SW, S.sigma_b2: SB, S.q0: Q0}))


def test_linear_mean_equals_the_exact_recurrent_coefficients(linear_rows):
    from nnqft.derive.loops.amplitudes import recurrent_mean_coefficients

    bias, rows = linear_rows
    exact = recurrent_mean_coefficients(bias, 1)
    for row in rows:
        T = row["t"]
        assert row["mean"][0] == pytest.approx(_at(exact[0], T), abs=1e-10)
        assert row["mean"][1] == pytest.approx(_at(exact[1], T), abs=1e-10)


def test_linear_variance_equals_the_exact_recurrent_coefficient(linear_rows):
    """N Var Q(T) at O(1/N), with |x|^2 = N q0 fixed: this decides that the input's
    constraint field may be left out (an unconstrained Gaussian input would add
    2 q0^2 sigma_w2^(2T))."""
    from nnqft.derive.loops.amplitudes import recurrent_variance_coefficients

    bias, rows = linear_rows
    exact = recurrent_variance_coefficients(bias)[1]
    for row in rows:
        assert row["variance"][0] == pytest.approx(_at(exact, row["t"]), abs=1e-10)


def _trace_moment(k, m):
    """M(k,m) = (1/N) E tr[(W^T)^k W^m] through 1/N (docs/conventions.md §5)."""
    if k == m:
        return SW**k, 0.0
    if (k - m) % 2:
        return 0.0, 0.0
    return 0.0, (min(k, m) + 1) * SW ** ((k + m) / 2)


def test_linear_two_time_overlaps_from_the_trace_moments(linear_rows):
    """z(t) = W^t x + sum_k W^k b(t-k): E z(s).z(t)/N = q0 M(s,t) + sigma_b2 sum B M(k,m)."""
    bias, rows = linear_rows
    for row in rows:
        t = row["t"]
        for s, (c0, c1) in row["two_time"].items():
            want = np.array(_trace_moment(s, t)) * Q0
            for k in range(s):
                for m in range(t):
                    if bias == "shared" or s - k == t - m:
                        want = want + SB * np.array(_trace_moment(k, m))
            assert (c0, c1) == pytest.approx(tuple(want), abs=1e-10)


def test_linear_collective_field_is_sigma_w2_times_the_observable(linear_rows):
    """For phi(z) = z, Q(t+1,t+1) = sigma_w2 |z(t)|^2/N: two diagram sums, one number."""
    _, rows = linear_rows
    for row in rows[:-1]:
        assert row["collective"] == pytest.approx([SW * v for v in row["mean"]], abs=1e-12)


def test_score_derivatives_equal_finite_differences():
    C = np.array([[1.2, 0.4, 0.1], [0.4, 0.9, 0.3], [0.1, 0.3, 0.8]])

    def f(z):
        return np.tanh(z[:, 0]) * np.tanh(z[:, 1]) ** 2 * z[:, 2]

    def expect(cov):
        rule = GaussianRule.of(cov, 60)
        return rule.w @ f(rule.z)

    rule = GaussianRule.of(C, 60)
    h = 1e-4
    for c in [(0, 0), (0, 1), (1, 2), (2, 2)]:
        E = np.zeros((3, 3))
        E[c] = E[c[::-1]] = 1.0
        numeric = (expect(C + h * E) - expect(C - h * E)) / (2 * h)
        assert rule.w @ (f(rule.z) * rule.score(*c)) == pytest.approx(numeric, abs=1e-7)
        for e in [(0, 1), (2, 2)]:
            F = np.zeros((3, 3))
            F[e] = F[e[::-1]] = 1.0
            second = (expect(C + h * E + h * F) - expect(C + h * E - h * F)
                      - expect(C - h * E + h * F) + expect(C - h * E - h * F)) / (4 * h * h)
            assert rule.w @ (f(rule.z) * rule.score2(c, e)) == pytest.approx(second, abs=1e-5)


def test_three_response_vertices_do_not_change_the_tadpoles():
    net = Network("recurrent", "tanh", 1.2, 0.2, bias="shared", q0=1.0)
    lean, _ = recurrent_theory(net, 3)
    full, _ = recurrent_theory(net, 3, complete=True)
    assert len(full.vertices[3][1]) > len(lean.vertices[3][1])
    np.testing.assert_allclose(one_point(full, 1), one_point(lean, 1), atol=1e-13)


@pytest.mark.slow
@pytest.mark.parametrize("activation,tol", [("tanh", 1e-5), ("erf", 1e-8), ("relu", 5e-3)])
def test_nonlinear_coefficients_are_converged_in_the_quadrature(activation, tol):
    """Default rules against finer ones (the stated accuracy of the default)."""
    net = Network("recurrent", activation, 1.5, 0.1, bias="shared", q0=1.0)
    rows = recurrent_correlators(net, 4)
    fine = recurrent_correlators(net, 4, nodes={3: 56, 4: 30})
    for a, b in zip(rows, fine):
        assert a["mean"][1] == pytest.approx(b["mean"][1], abs=tol * max(1, abs(b["mean"][1])))
        assert a["variance"][0] == pytest.approx(b["variance"][0], rel=tol)


def test_first_steps_are_exact_and_the_two_biases_agree_at_mean_field():
    shared = recurrent_correlators(Network("recurrent", "erf", 1.5, 0.1, bias="shared"), 3)
    fresh = recurrent_correlators(Network("recurrent", "erf", 1.5, 0.1, bias="fresh"), 3)
    assert shared[0]["mean"] == pytest.approx([1.6, 0.0], abs=1e-12)  # |Wx + b|^2/N
    assert shared[0]["variance"][0] == pytest.approx(2 * 1.6**2, rel=1e-12)  # chi-square
    for a, b in zip(shared, fresh):
        assert a["mean"][0] == pytest.approx(b["mean"][0], rel=1e-12)


def test_saddle_kernel_diagonal_is_the_length_map():
    net = Network("recurrent", "erf", 1.5, 0.1, bias="fresh", q0=1.0)
    C0 = saddle_kernel(net, 4)
    from nnqft.derive.gaussian import expect

    q = 1.6
    for t in range(4):
        assert C0[t, t] == pytest.approx(q, rel=1e-12)
        q = 0.1 + 1.5 * float(expect(net.activation, ("phi^2",), q)[0])
    assert np.allclose(C0[0, 1:], 0.0) and np.allclose(C0, C0.T)


def test_bad_input():
    with pytest.raises(InvalidParameter, match="recurrent nets only"):
        recurrent_theory(Network("feedforward", "tanh", 1.0, 0.1), 3)
    with pytest.raises(OrderTooHigh):
        recurrent_theory(Network("recurrent", "tanh", 1.0, 0.1), 3, degree=5)
    with pytest.raises(InvalidParameter, match="numbers"):
        recurrent_theory(Network("recurrent", "tanh"), 3)
    with pytest.raises(InvalidParameter, match="positive"):
        recurrent_theory(Network("recurrent", "tanh", 1.0, 0.0, q0=0.0), 3)


@pytest.mark.parametrize("activation,bias",
                         [("tanh", "shared"), ("relu", "fresh"), ("gelu", "shared")])
def test_direct_tadpole_and_tree_equal_the_generic_diagram_contraction(activation, bias):
    """recurrent_correlators contracts the cubic vertices with the block inverse of the
    Hessian as it computes them; recurrent_theory stores the symmetric tensor and the
    Hessian, and theory.py inverts and contracts them generically: the same numbers."""
    from nnqft.derive.fluctuations.theory import two_point

    net = Network("recurrent", activation, 1.3, 0.2, bias=bias, q0=0.9)
    rows, parts = recurrent_correlators(net, 4, terms=True)
    theory, _ = recurrent_theory(net, 4)
    mean1, tree = one_point(theory, 1), two_point(theory, 0)
    assert parts["theory"].labels == theory.labels
    np.testing.assert_allclose(parts["theory"].hessian, theory.hessian, rtol=0, atol=1e-12)
    np.testing.assert_allclose(parts["mean"][0].value, mean1, rtol=0, atol=1e-11)
    np.testing.assert_allclose(parts["variance"][0].value, tree, rtol=0, atol=1e-11)
    for row in rows:
        y = theory.index(("dY", (row["t"], row["t"])))
        assert row["mean"][1] == pytest.approx(mean1[y], abs=1e-12)
        assert row["variance"][0] == pytest.approx(tree[y, y], abs=1e-12)
