"""The objects the field theory is written with (docs/conventions.md §2-3).

The network's fields ``z[i, t]``, ``zt[i, t]`` (:class:`sympy.IndexedBase`; a replica
index is a third index), its weights and biases, the single-neuron fields ``z(t)``,
``zt(t)`` after the neurons decouple, the collective fields ``Q``, ``Qt``; the index
labels :data:`NEURON`, :data:`TIME`, :data:`REPLICA` (from :mod:`nnqft.algebra.indices`);
and the integrals and averages as unevaluated sympy functions: :class:`PathIntegral`,
:class:`DisorderAverage`, :class:`Average`, :class:`GaussianMean`,
:class:`BivariateGaussianMean`.

>>> zt[NEURON[0], TIME[0]] * phi(z[NEURON[1], TIME[0] - 1])
phi(z[j, t - 1])*zt[i, t]
"""

from __future__ import annotations

import sympy as sp

from ...algebra.indices import NEURON, REPLICA, TIME
from ...errors import InvalidParameter

__all__ = [
    "NEURON",
    "TIME",
    "REPLICA",
    "z",
    "zt",
    "W",
    "b",
    "x",
    "phi",
    "K",
    "B",
    "Q",
    "Qt",
    "z1",
    "zt1",
    "qf",
    "d",
    "S_eff",
    "Z_1",
    "chi_1",
    "lambda_max",
    "q_star",
    "u",
    "u1",
    "u2",
    "PHI_OF_INPUT",
    "PathIntegral",
    "DisorderAverage",
    "Average",
    "GaussianMean",
    "BivariateGaussianMean",
    "replica_index",
    "field",
]

# --- the fields and symbols --------------------------------------------------------------

z = sp.IndexedBase("z")  #: pre-activation z_i(t)
zt = sp.IndexedBase("zt")  #: response field \tilde z_i(t)
W = sp.IndexedBase("W")  #: weights W_ij(t)
b = sp.IndexedBase("b")  #: biases b_i(t)
x = sp.IndexedBase("x")  #: the input x_j
phi = sp.Function("phi")  #: the activation, abstract (derive.meanfield.saddle specialises it)
K = sp.Function("K")  #: time structure of the weight covariance
B = sp.Function("B")  #: time structure of the bias covariance
Q = sp.Function("Q")  #: collective field Q(t, s) (with replicas Q(t, s, alpha, beta))
Qt = sp.Function("Qt")  #: its conjugate \tilde Q(t, s)
z1 = sp.Function("z")  #: single-neuron field z(t) (z(t, alpha) with replicas)
zt1 = sp.Function("zt")  #: single-neuron response field
qf = sp.Function("q")  #: the mean-field covariance q(t, s) (q(t, s, alpha, beta))
d = sp.Function("d")  #: squared distance of two replicas, d(t)
S_eff = sp.Symbol("S_eff")  #: the action of the collective fields (printed S[Q, Qt])
Z_1 = sp.Symbol("Z_1")  #: the single-neuron partition function
chi_1 = sp.Symbol("chi_1", positive=True)
lambda_max = sp.Symbol("lambda_max", real=True)
q_star = sp.Symbol("q_star", positive=True)
u = sp.Symbol("u", real=True)
u1, u2 = sp.symbols("u1 u2", real=True)
#: the input convention of docs/conventions.md §1: phi is not applied to the input
PHI_OF_INPUT = sp.Eq(phi(z[NEURON[1], 0]), x[NEURON[1]])


# --- the objects of the theory: integrals and averages -------------------------------------


class PathIntegral(sp.Function):
    """``int D(fields) exp(exponent)``: args (exponent, *field bases)."""

    @classmethod
    def eval(cls, *args):
        return None


class DisorderAverage(sp.Function):
    """``<expr>_{W,b}``: the average over the weights and biases."""

    nargs = 1


class Average(sp.Function):
    """``<expr>``: the average in the single-neuron theory at the saddle point."""

    nargs = 1


class GaussianMean(sp.Function):
    """``int Dz f(sqrt(v) z)``, i.e. E[f(u)] for u ~ N(0, v); args (Lambda(u, f), v).

    Differentiation uses the heat equation dE[f]/dv = E[f'']/2, so sympy's chain rule
    works through it; at v = 0 it is f(0).

    >>> from nnqft.rules import symbols as S
    >>> g = GaussianMean(sp.Lambda(u, u**2), S.q)
    >>> sp.diff(g, S.q)
    1
    """

    nargs = 2

    @classmethod
    def eval(cls, f, v):
        if not isinstance(f, sp.Lambda):
            raise InvalidParameter("GaussianMean needs a sympy Lambda as its first argument")
        if v.is_zero:
            return f.expr.subs(f.variables[0], 0)
        if not f.expr.has(*f.variables):
            return f.expr
        if f.expr.is_polynomial(*f.variables):
            (var,) = f.variables
            poly = sp.Poly(f.expr, var)
            return sum(
                c * (v ** (k // 2) * sp.factorial2(k - 1) if k % 2 == 0 else 0)
                for (k,), c in poly.terms()
            )
        return None

    def fdiff(self, argindex=2):
        f, v = self.args
        if argindex != 2:
            raise sp.ArgumentIndexError(self, argindex)
        (var,) = f.variables
        return GaussianMean(sp.Lambda(var, sp.diff(f.expr, var, 2) / 2), v)


class BivariateGaussianMean(sp.Function):
    """E[f(u1, u2)] for (u1, u2) ~ N(0, [[v1, c], [c, v2]]); args (Lambda((u1, u2), f), v1, v2, c).

    Differentiation follows Price's theorem: dE/dc = E[d1 d2 f], dE/dv1 = E[d1^2 f]/2.
    Coincident arguments (v1 = v2 = c) collapse it to a single :class:`GaussianMean`.

    >>> from nnqft.rules import symbols as S
    >>> f = sp.Lambda((u1, u2), phi(u1) * phi(u2))
    >>> sp.diff(BivariateGaussianMean(f, S.q11, S.q22, S.q12), S.q12).args[0].expr
    Derivative(phi(u1), u1)*Derivative(phi(u2), u2)
    """

    nargs = 4

    @classmethod
    def eval(cls, f, v1, v2, c):
        if not isinstance(f, sp.Lambda) or len(f.variables) != 2:
            raise InvalidParameter("BivariateGaussianMean needs a Lambda of two variables")
        if v1 == v2 == c:
            a, bb = f.variables
            return GaussianMean(sp.Lambda(u, f.expr.xreplace({a: u, bb: u}).doit()), v1)
        return None

    def fdiff(self, argindex=4):
        f, v1, v2, c = self.args
        a, bb = f.variables
        body = {
            2: sp.diff(f.expr, a, 2) / 2,
            3: sp.diff(f.expr, bb, 2) / 2,
            4: sp.diff(f.expr, a, bb),
        }.get(argindex)
        if body is None:
            raise sp.ArgumentIndexError(self, argindex)
        return BivariateGaussianMean(sp.Lambda((a, bb), body), v1, v2, c)


# --- field helpers ---------------------------------------------------------------------------


def replica_index(replicas: int):
    """The replica index for ``replicas`` copies of the network: None for one, alpha for two.

    >>> replica_index(1) is None, replica_index(2)
    (True, alpha)
    """
    if not isinstance(replicas, int) or replicas not in (1, 2):
        raise InvalidParameter(f"replicas must be 1 or 2, got {replicas!r}")
    return REPLICA[0] if replicas == 2 else None


def field(base, i, t, a=None):
    """The entry ``base[i, t]`` of a field, or ``base[i, t, a]`` with a replica index.

    >>> field(z, NEURON[0], TIME[0], REPLICA[0])
    z[i, t, alpha]
    """
    return base[i, t] if a is None else base[i, t, a]
