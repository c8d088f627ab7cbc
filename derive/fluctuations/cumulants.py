"""The single-neuron functional about the saddle point, expanded: the couplings of the
collective-field fluctuations (docs/conventions.md §8).

After the collective fields decouple the neurons, the weight is exp(N E) with, per
neuron, the cumulant generating function of the pair products X_a = phi(u) phi(u')
(a = one pair of inputs or of times)

    W(J; K) = ln E_{u ~ N(0, K)} exp(sum_a J_a X_a(u)),

J the conjugate fields times sigma_w2 and K the covariance the collective fields set.
About the saddle point K = K0 + dK:

    E_{K0 + dK}[exp(J.X)] = sum_{alpha, beta} J^alpha dK^beta / (alpha! beta!) d^beta_K E[X^alpha],

so W's Taylor coefficients in (J, dK) are polynomials in the *moment derivatives*
``m(alpha, beta) = d^beta_K E_K[prod_a X_a^alpha_a]`` at K0.  :func:`generating_function`
derives that polynomial expansion (the logarithm of the series, by sympy) to a total
degree; nothing of it is tabulated: the cumulants (kappa_1 = m, kappa_2 = m_2 - m_1^2, ...)
come out of the logarithm.

>>> J, d = sp.symbols("J d")
>>> w = generating_function([J], [d], 2)
>>> sp.expand(w.coeff(J, 2).subs(d, 0))        # kappa_2 / 2 of X = phi^2
-m((1,), (0,))**2/2 + m((2,), (0,))/2
>>> w.coeff(J, 1).coeff(d, 1)                   # d<phi^2>/dK: chi_parallel / sigma_w2
m((1,), (1,))
"""

from __future__ import annotations

import itertools
from math import factorial

import sympy as sp

__all__ = ["m", "generating_function", "monomials"]


class m(sp.Function):
    """A moment derivative d^beta_K E_K[prod_a X_a^alpha_a] at the saddle point:
    ``m(alpha, beta)`` with ``alpha`` and ``beta`` tuples (one entry per pair variable).

    >>> m((2,), (1,))
    m((2,), (1,))
    """

    nargs = 2
    is_commutative = True  # its Tuple arguments would otherwise make it non-commutative
    is_real = True

    @classmethod
    def eval(cls, alpha, beta):
        return None

    @property
    def alpha(self) -> tuple[int, ...]:
        """The powers of the pair products."""
        return tuple(int(a) for a in self.args[0])

    @property
    def beta(self) -> tuple[int, ...]:
        """The orders of the covariance derivatives."""
        return tuple(int(b) for b in self.args[1])

    def _latex(self, printer, exp=None):
        body = self._latex_body()
        return body if exp is None else rf"\left({body}\right)^{{{exp}}}"

    def _latex_body(self) -> str:
        alpha, beta = self.alpha, self.beta
        if len(alpha) == 1:  # one pair variable X = phi^2: <phi^{2p}> and q-derivatives
            body = rf"\langle \phi^{{{2 * alpha[0]}}} \rangle"
            k = beta[0]
            if k == 0:
                return body
            return (r"\partial_q " if k == 1 else rf"\partial_q^{{{k}}} ") + body
        body = r" ".join(
            rf"X_{{{i + 1}}}^{{{a}}}" if a > 1 else rf"X_{{{i + 1}}}"
            for i, a in enumerate(alpha)
            if a
        )
        ders = r" ".join(
            rf"\partial_{{K_{{{i + 1}}}}}^{{{b}}}" if b > 1 else rf"\partial_{{K_{{{i + 1}}}}}"
            for i, b in enumerate(beta)
            if b
        )
        return rf"{ders} \langle {body or '1'} \rangle".strip()


def monomials(variables, degree: int):
    """The exponent tuples of every monomial of total degree 1..``degree``.

    >>> list(monomials("ab", 2))
    [(1, 0), (0, 1), (2, 0), (1, 1), (0, 2)]
    """
    n = len(variables)
    for total in range(1, degree + 1):
        for combo in itertools.combinations_with_replacement(range(n), total):
            yield tuple(combo.count(i) for i in range(n))


def _multi_factorial(powers) -> int:
    out = 1
    for p in powers:
        out *= factorial(p)
    return out


def generating_function(J, dK, degree: int) -> sp.Expr:
    """W(J; K0 + dK) - W(0; K0) through total degree ``degree`` in (J, dK), as a polynomial
    whose coefficients are polynomials in the moment derivatives :class:`m`.

    ``J`` and ``dK`` are sequences of symbols (one per pair variable; they may differ in
    length only when ``dK`` is empty, i.e. the covariance is held at the saddle).

    >>> J, d = sp.symbols("J d")
    >>> w = generating_function([J], [d], 3)
    >>> sp.expand(w.coeff(J, 1).coeff(d, 2))       # (1/2) d^2<phi^2>/dK^2
    m((1,), (2,))/2
    """
    J, dK = list(J), list(dK)
    nb = len(dK)
    variables = J + dK
    # the series E[exp(J.X)] - 1 as {exponents of (J, dK): coefficient}, truncated by degree
    series: dict = {}
    for alpha in monomials(J, degree):
        rest = degree - sum(alpha)
        betas = [(0,) * nb] + (list(monomials(dK, rest)) if nb and rest else [])
        for beta in betas:
            weight = sp.Rational(1, _multi_factorial(alpha) * _multi_factorial(beta))
            series[alpha + beta] = weight * m(sp.Tuple(*alpha), sp.Tuple(*beta))

    def times(a: dict, b: dict) -> dict:
        out: dict = {}
        for ea, ca in a.items():
            for eb, cb in b.items():
                e = tuple(x + y for x, y in zip(ea, eb))
                if sum(e) <= degree:
                    out[e] = out.get(e, 0) + ca * cb
        return out

    # ln(1 + x) = sum_k (-1)^(k+1) x^k / k; x has no constant term, so k <= degree
    log: dict = {}
    power = dict(series)
    for k in range(1, degree + 1):
        for e, c in power.items():
            log[e] = log.get(e, 0) + sp.Rational((-1) ** (k + 1), k) * c
        if k < degree:
            power = times(power, series)
    out = sp.Integer(0)
    for e, c in log.items():
        c = sp.expand(c)
        if c != 0:
            out += c * sp.Mul(*[v**p for v, p in zip(variables, e)])
    return out
