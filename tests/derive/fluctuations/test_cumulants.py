"""The single-neuron generating function against cumulants known by other routes."""

from math import factorial

import sympy as sp

from nnqft.derive.fluctuations.cumulants import generating_function, m, monomials


def _double_factorial(k: int) -> int:
    return 1 if k <= 0 else k * _double_factorial(k - 2)


def test_chi_square_cumulants():
    """X = u^2, u ~ N(0, 1): E X^p = (2p-1)!!, and the cumulants of a chi-square with one
    degree of freedom are kappa_n = 2^(n-1) (n-1)!, so W = sum kappa_n J^n / n!."""
    J = sp.Symbol("J")
    w = generating_function([J], [], 5)
    moments = {m(sp.Tuple(p), sp.Tuple()): _double_factorial(2 * p - 1) for p in range(1, 6)}
    w = sp.expand(w.subs(moments))
    for n in range(1, 6):
        assert w.coeff(J, n) == sp.Rational(2 ** (n - 1) * factorial(n - 1), factorial(n))


def test_linear_activation_closed_form():
    """phi(u) = u, u ~ N(0, K0 + d): E[u^(2p)] = (2p-1)!! K^p, so
    W(J; K) = -(1/2) ln(1 - 2 J K) exactly; its Taylor coefficients in (J, d) must agree."""
    J, d, K0 = sp.symbols("J d K0", positive=True)
    K = sp.Symbol("K")
    degree = 4
    w = generating_function([J], [d], degree)
    subs = {}
    for p in range(1, degree + 1):
        for k in range(0, degree + 1 - p):
            value = sp.diff(_double_factorial(2 * p - 1) * K**p, K, k).subs(K, K0)
            subs[m(sp.Tuple(p), sp.Tuple(k))] = value
    w = sp.expand(w.subs(subs))
    exact = -sp.log(1 - 2 * J * (K0 + d)) / 2
    eps = sp.Symbol("eps")
    series = sp.expand(
        sp.series(exact.subs({J: eps * J, d: eps * d}), eps, 0, degree + 1).removeO().subs(eps, 1)
    )
    assert sp.expand(w - series) == 0


def test_two_variables_mixed_cumulant():
    """Two pair variables without covariance shifts: the J1 J2 coefficient is the covariance
    E[X1 X2] - E X1 E X2."""
    J1, J2 = sp.symbols("J1 J2")
    w = generating_function([J1, J2], [], 2)
    cov = m(sp.Tuple(1, 1), sp.Tuple()) - m(sp.Tuple(1, 0), sp.Tuple()) * m(
        sp.Tuple(0, 1), sp.Tuple()
    )
    assert sp.expand(w.coeff(J1, 1).coeff(J2, 1) - cov) == 0


def test_monomials_count():
    """Monomials of total degree 1..3 in 3 variables: 3 + 6 + 10."""
    assert len(list(monomials("abc", 3))) == 19


def test_latex_of_a_moment_derivative():
    assert sp.latex(m(sp.Tuple(2), sp.Tuple(1))) == r"\partial_q \langle \phi^{4} \rangle"
