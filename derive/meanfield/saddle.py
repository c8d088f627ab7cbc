"""The saddle point with a concrete activation: closed forms and numbers.

:func:`nnqft.rules.action.saddle_point` and :func:`~nnqft.rules.action.distance_recursion`
give the mean-field maps and chi_1 as :class:`~nnqft.rules.action.objects.GaussianMean`
objects of an abstract phi.  :func:`specialise` puts a concrete activation in place of phi
(its closed-form Gaussian kernels where they exist); :func:`numeric_function_of` turns the
result into a vectorised numpy function (quadrature for the means without a closed form).

>>> from nnqft.rules.action import distance_recursion
>>> from nnqft.rules.network import Network
>>> chi = distance_recursion(Network("feedforward", "relu")).chi_1
>>> specialise(chi, "relu")
sigma_w2/2
"""

from __future__ import annotations

import itertools

import numpy as np
import sympy as sp
from sympy.utilities.lambdify import implemented_function

from ...errors import NnqftError
from ...rules import symbols as S
from ...rules.action.objects import BivariateGaussianMean, GaussianMean, phi
from ...rules.activations import get_activation, numeric_function
from ..gaussian import bivariate_gaussian_mean, gaussian_kernel, gaussian_mean, mean_square

__all__ = ["specialise", "numeric_function_of"]


def _pattern(body: sp.Expr, variables) -> str | None:
    """Which kernel a Gaussian-mean body is: 'phi' (phi phi), 'dphi' (phi' phi') or None."""
    if len(variables) == 1:
        (v,) = variables
        pairs = {"phi": phi(v) ** 2, "dphi": sp.Derivative(phi(v), v) ** 2}
    else:
        a, c = variables
        pairs = {
            "phi": phi(a) * phi(c),
            "dphi": sp.Derivative(phi(a), a) * sp.Derivative(phi(c), c),
        }
    for name, form in pairs.items():
        if sp.simplify(body - form) == 0:
            return name
    return None


def specialise(expr: sp.Expr, activation, closed_form: bool = True) -> sp.Expr:
    """Put a concrete activation in place of phi.

    Gaussian means of phi phi and phi' phi' become the activation's closed-form kernels
    where they exist (and ``closed_form``); the others keep their integral with the
    concrete phi (evaluated by quadrature in :func:`numeric_function_of`).

    >>> from nnqft.rules.action import saddle_point
    >>> from nnqft.rules.network import Network
    >>> specialise(saddle_point(Network("feedforward", "relu")).maps["length"],
    ...            get_activation("relu"))
    q*sigma_w2/2 + sigma_b2
    """
    act = get_activation(activation)
    lam = sp.Lambda(S.z, act.expr)

    def concrete(body):
        return body.replace(phi, lam).doit()

    def gm(f, v):
        kind = _pattern(f.expr, f.variables)
        if closed_form and kind is not None:
            kern = act.kernel if kind == "phi" else act.derivative_kernel
            if kern is not None:
                return sp.simplify(kern.subs({S.q11: v, S.q22: v, S.q12: v}))
        return GaussianMean(sp.Lambda(f.variables, concrete(f.expr)), v)

    def gm2(f, v1, v2, c):
        kind = _pattern(f.expr, f.variables)
        if closed_form and kind is not None:
            kern = act.kernel if kind == "phi" else act.derivative_kernel
            if kern is not None:
                return kern.subs({S.q11: v1, S.q22: v2, S.q12: c}, simultaneous=True)
        return BivariateGaussianMean(sp.Lambda(f.variables, concrete(f.expr)), v1, v2, c)

    out = expr.replace(lambda e: isinstance(e, GaussianMean), lambda e: gm(*e.args))
    out = out.replace(lambda e: isinstance(e, BivariateGaussianMean), lambda e: gm2(*e.args))
    return out.replace(phi, lam).doit() if out.has(phi) else out


def numeric_function_of(
    expr: sp.Expr, args: tuple, activation, nodes: int | None = None, use_kernels: bool = True
):
    """A vectorised numpy function of ``args`` for ``expr`` with a concrete activation.

    Closed-form kernels are used where they exist (and ``nodes`` is None); the remaining
    Gaussian means are evaluated by the quadratures of :mod:`nnqft.rules.activations`.
    ``use_kernels=False`` ignores the activation's kernels altogether and integrates the
    derived integrand itself by Gauss-Hermite quadrature (an independent route).

    >>> from nnqft.rules.action import saddle_point
    >>> from nnqft.rules.network import Network
    >>> L = numeric_function_of(saddle_point(Network("feedforward", "relu")).maps["length"],
    ...                         (S.sigma_w2, S.sigma_b2, S.q), "relu")
    >>> float(L(2.0, 0.1, 1.5))
    1.6
    """
    act = get_activation(activation)
    spec = specialise(expr, act, closed_form=nodes is None and use_kernels)
    counter = itertools.count()

    def numeric_gm(e):
        f, v = e.args
        kind = _pattern_concrete(f, act) if use_kernels else None
        if kind is not None:
            fn = lambda var, k=kind: mean_square(act, var, k, nodes)  # noqa: E731
        else:
            g = numeric_function(f.expr, f.variables)
            fn = lambda var, g=g: _gm_numeric(g, var, nodes)  # noqa: E731
        return implemented_function(f"gm{next(counter)}", fn)(v)

    def numeric_gm2(e):
        f, v1, v2, c = e.args
        kind = _pattern_concrete(f, act) if use_kernels else None
        if kind is None:
            a, cc = f.variables
            parts_a = sp.Mul(*[p for p in sp.Mul.make_args(f.expr) if not p.has(cc)])
            parts_c = sp.Mul(*[p for p in sp.Mul.make_args(f.expr) if p.has(cc)])
            if parts_c.has(a):
                raise NnqftError(f"cannot evaluate the non-separable mean {e}")
            ga, gc = numeric_function(parts_a, (a,)), numeric_function(parts_c, (cc,))
            fn = lambda x1, x2, x12: bivariate_gaussian_mean(  # noqa: E731
                ga, gc, x1, x2, x12, nodes or 201
            )
        else:
            fn = lambda x1, x2, x12, k=kind: gaussian_kernel(  # noqa: E731
                act, x1, x2, x12, derivative=k, nodes=nodes
            )
        return implemented_function(f"gmb{next(counter)}", fn)(v1, v2, c)

    spec = spec.replace(lambda e: isinstance(e, GaussianMean), numeric_gm)
    spec = spec.replace(lambda e: isinstance(e, BivariateGaussianMean), numeric_gm2)
    f = sp.lambdify(args, spec, modules=["scipy", "numpy"])

    def call(*xs):
        return np.asarray(f(*xs), dtype=float) + 0.0 * sum(np.asarray(a, dtype=float) for a in xs)

    return call


def _gm_numeric(g, var, nodes):
    return gaussian_mean(g, var, nodes or 201)


def _pattern_concrete(f: sp.Lambda, act) -> int | None:
    """0 when the body is phi(u1) phi(u2) (or phi(u)^2) for this activation, 1 for phi' phi'."""
    vs = f.variables
    for k in (0, 1):
        g = act.derivative(k) if k else act.expr
        form = g.subs(S.z, vs[0]) ** 2 if len(vs) == 1 else g.subs(S.z, vs[0]) * g.subs(S.z, vs[1])
        if f.expr == form or sp.simplify(f.expr - form) == 0:
            return k
    return None
