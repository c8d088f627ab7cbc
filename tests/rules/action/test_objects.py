"""The averages as sympy objects (nnqft.rules.action.objects): Gaussian means evaluate
polynomials and v = 0, collapse coincident bivariate means, refuse a non-Lambda."""

import pytest
import sympy as sp

from nnqft.errors import InvalidParameter
from nnqft.rules import action as A
from nnqft.rules import symbols as S


def test_gaussian_mean_rules():
    assert A.GaussianMean(sp.Lambda(A.u, A.u**4), S.q) == 3 * S.q**2
    assert A.GaussianMean(sp.Lambda(A.u, sp.cos(A.u)), 0) == 1
    collapsed = A.BivariateGaussianMean(sp.Lambda((A.u1, A.u2), A.u1 * A.u2), S.q, S.q, S.q)
    assert collapsed == S.q
    with pytest.raises(InvalidParameter):
        A.GaussianMean(S.q, S.q)
