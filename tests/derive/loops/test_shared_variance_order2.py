"""The shared-bias Var Q through 1/N^2 in closed form in T against the integer-depth route.

``variance_coefficients_at`` counts the same diagrams' placements at an integer depth (and
equals exhaustive Wick enumeration at T = 1..3: test_variance_linear's
test_second_order_route_equals_exact_enumeration); the closed form must equal it at
T = 1..7, exactly.  The closed form carries sigma_w2^(T/2) (and (-1)^T), so it is compared
at points where sigma_w2 is the square of a rational: exact rational arithmetic.
"""

import pytest
import sympy as sp

from nnqft.derive.loops.variance import variance_coefficients, variance_coefficients_at
from nnqft.rules.feynman import get_rules
from nnqft.rules.symbols import T, q0, sigma_b2, sigma_w2

#: (sqrt(sigma_w2), sigma_b2, q0): rational points, sigma_w2 a square
POINTS = [
    (sp.Rational(2, 7), sp.Rational(5, 3), sp.Rational(3, 11)),
    (sp.Rational(13, 5), sp.Rational(1, 9), sp.Rational(7, 2)),
    (sp.Rational(3, 4), sp.Integer(2), sp.Rational(1, 3)),
]


@pytest.mark.slow
def test_shared_second_order_closed_form_equals_the_integer_depth_route():
    """Cold, the test takes 79 s on one core (the closed form about 50 s of it, as the
    command line's cold run; 119 s with the machine's other core busy): the one-trace
    classes of deficit <= 1 and the two-trace ones, some of whose sums need the residue of
    T modulo 12."""
    rules = get_rules("linear-recurrent-shared")
    c = variance_coefficients(rules, 2)
    for depth in range(1, 8):
        at = variance_coefficients_at(rules, 2, depth)
        for d in (1, 2):
            form = c[d].subs(T, depth)
            for w, b, q in POINTS:
                sub = {sigma_w2: w**2, sigma_b2: b, q0: q}
                assert form.subs(sub) - at[d].subs(sub) == 0, (depth, d, w)
