"""The saddle point with a concrete activation (nnqft.derive.meanfield.saddle).

Price's theorem against finite differences of quadrature.
"""

import sympy as sp

from nnqft.derive.gaussian import bivariate_gaussian_mean
from nnqft.derive.meanfield.saddle import numeric_function_of
from nnqft.rules import action as A
from nnqft.rules import symbols as S
from nnqft.rules.activations import get_activation


def test_price_theorem_against_finite_differences():
    """d/dq12 E[phi(u1) phi(u2)] = E[phi'(u1) phi'(u2)] for tanh, by quadrature."""
    f = sp.Lambda((A.u1, A.u2), A.phi(A.u1) * A.phi(A.u2))
    deriv = sp.diff(A.BivariateGaussianMean(f, S.q11, S.q22, S.q12), S.q12)
    tanh = get_activation("tanh")
    g = numeric_function_of(deriv, (S.q11, S.q22, S.q12), tanh, use_kernels=False)
    ph = tanh.numeric(0)
    h = 1e-4
    for v1, v2, c in [(0.7, 1.3, 0.2), (2.0, 0.5, -0.4)]:
        fd = (
            bivariate_gaussian_mean(ph, ph, v1, v2, c + h)
            - bivariate_gaussian_mean(ph, ph, v1, v2, c - h)
        ) / (2 * h)
        assert abs(float(g(v1, v2, c)) - fd) < 1e-7
