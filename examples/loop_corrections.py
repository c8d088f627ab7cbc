"""1/N corrections of a linear recurrent network, in closed form at symbolic depth T.

Run: python examples/loop_corrections.py
"""

import sympy as sp

import nnqft
from nnqft.rules.symbols import N, T, q0, sigma_b2, sigma_w2

# E |z(T)|^2/N through 1/N for shared weights and a shared bias (docs/conventions.md §5)
mean = nnqft.correlator(nnqft.Network("recurrent", "linear", bias="shared"), "mean", order=1)
print("O(1):  ", mean.coefficients[0])
print("O(1/N):", mean.coefficients[1])

# At sigma_w2 = 1 the 1/N coefficient grows like T^3: the expansion parameter is T^2/N
at_edge = sp.limit(mean.coefficients[1], sigma_w2, 1)
print("at sigma_w2 = 1:", sp.factor(sp.simplify(at_edge.subs((-1) ** T, 1))), "(T even)")

# The stationary value T -> oo with its 1/N correction, and the depth scales
scales = nnqft.correlation_lengths(nnqft.Network(sigma_w2=0.5, sigma_b2=1, width=16))
print("q* =", scales["q_star_recurrent_coefficients"], "(coefficients of 1/N^k)")
print("xi (mean field) =", scales["xi_mean_field"], " xi (typical, N = 16) =", scales["xi_typical"])

# Evaluate at T = 3, N = 4: 2.125 is the exact polynomial (docs/conventions.md §5) through 1/N
value = mean.expression.subs({T: 3, N: 4, sigma_w2: sp.Rational(1, 2), sigma_b2: 1, q0: 1})
print("E Q(3) at N = 4 through 1/N:", sp.nsimplify(sp.simplify(value)))
