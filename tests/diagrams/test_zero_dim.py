"""The zero-dimensional O(N) oracle against numerical integration done here: the moments
against chi-square moments, the propagator series against quad at small coupling."""

import math

import pytest
from scipy import integrate
from scipy.special import gammaln

from nnqft.diagrams.zero_dim import moment, zero_dim_series
from nnqft.rules.symbols import N


@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_moments_are_chi_square_moments(n):
    for k in range(6):
        chi2 = math.exp(k * math.log(2) + gammaln(n / 2 + k) - gammaln(n / 2))
        assert float(moment(k).subs(N, n)) == pytest.approx(chi2, rel=1e-12)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_propagator_series_equals_the_integral_at_small_g(n):
    """G(g) = <x.x>/N under exp(-(g/4!)(x.x)^2), integrated radially (r^(n-1) dr): the
    series through g^3 leaves a remainder that is the g^4 term (to 20%, the g^5 rest)."""
    g = 0.02
    series = [float(c.subs(N, n)) for c in zero_dim_series(4)["propagator"]]

    def radial(power):
        f = lambda r: r ** (n - 1 + power) * math.exp(-(r**2) / 2 - g * r**4 / 24)  # noqa: E731
        return integrate.quad(f, 0, math.inf, epsabs=0, epsrel=1e-13)[0]

    exact = radial(2) / radial(0) / n
    remainder = exact - sum(c * g**k for k, c in enumerate(series[:4]))
    assert remainder == pytest.approx(series[4] * g**4, rel=0.2)
