"""The finite-width Lyapunov exponent and edge of chaos in closed form for scale-invariant
activations (docs/conventions.md §9).

For linear and scale-invariant phi (phi(a z) = a phi(z), a > 0: linear, ReLU, leaky ReLU)
the tangent moments g = <phi'^2> and d4 = <phi'^4> do not depend on the variance, so the
finite-width exponent of :func:`~nnqft.derive.finite_width.depth_scales.lyapunov_exponent`
needs no fixed point and closes:

    lambda_max(N) = (1/2) ln(sigma_w2 g) - (3 d4 - g^2) / (4 g^2 N) + O(1/N^2),

the same expression :func:`~nnqft.derive.finite_width.depth_scales.slope_free_exponent`
evaluates numerically, here with g and d4 integrated exactly by sympy from phi'.  The edge
of chaos sigma_w2,c(N) = s0 + s1/N then follows by solving lambda0(s0) = 0 and
s1 = -lambda1/lambda0'(s0), at every sigma_b2.

>>> edge = scale_invariant_edge("relu")
>>> edge["lyapunov_exponent"]
log(sigma_w2/2)/2 - 5/(4*N)
>>> edge["sigma_w2_critical"]
2 + 5/N
"""

from __future__ import annotations

import functools

import sympy as sp

from ...errors import InvalidParameter, NoExactForm
from ...rules import symbols as S
from ...rules.activations import get_activation
from .depth_scales import slope_free_exponent

__all__ = ["tangent_moments_exact", "scale_invariant_edge"]


def tangent_moments_exact(activation) -> tuple[sp.Expr, sp.Expr]:
    """(<phi'^2>, <phi'^4>) under the standard normal, integrated exactly from phi'.

    >>> tangent_moments_exact("leaky_relu")
    (10001/20000, 100000001/200000000)
    """
    act = get_activation(activation)
    if not (act.name == "linear" or act.is_scale_invariant):
        raise InvalidParameter(
            f"activation {act.name!r} is not scale-invariant (phi(a z) = a phi(z)): its "
            "<phi'^2> depends on the variance; closed forms exist for linear, relu, leaky_relu"
        )
    return _moments(act.name)


@functools.lru_cache(maxsize=16)
def _moments(name: str):
    act = get_activation(name)
    z = sp.Symbol("z", real=True)
    d = act.derivative(1)
    d = d.subs({s: z for s in d.free_symbols})  # phi' of the activation's own variable
    density = sp.exp(-(z**2) / 2) / sp.sqrt(2 * sp.pi)
    out = tuple(sp.simplify(sp.integrate(d**k * density, (z, -sp.oo, sp.oo))) for k in (2, 4))
    if any(m.has(sp.Integral) or not m.is_finite for m in out):
        raise NoExactForm(f"the moments of phi' = {d} do not close")
    return out


def scale_invariant_edge(activation) -> dict:
    """``lyapunov_exponent`` (in sigma_w2, N) and ``sigma_w2_critical`` (in N), each through
    1/N, with their parts ``lambda0``, ``lambda1``, ``s0``, ``s1`` and the moments ``g``,
    ``d4`` (see the module docstring).

    Parameters
    ----------
    activation : str or Activation
        Linear or scale-invariant (ReLU, leaky ReLU).

    Returns
    -------
    dict of sympy expressions

    Examples
    --------
    >>> scale_invariant_edge("linear")["sigma_w2_critical"]     # exact: (N/2) exp(-psi(N/2))
    1 + 1/N
    """
    g, d4 = tangent_moments_exact(activation)
    s = S.sigma_w2
    lam0, lam1 = slope_free_exponent(s, g, d4, log=sp.log)
    roots = [r for r in sp.solve(sp.Eq(lam0, 0), s) if r.is_positive]
    if len(roots) != 1:  # pragma: no cover - ln(s g) = 0 has the one root 1/g
        raise NoExactForm(f"no single critical sigma_w2 for {activation!r}: {roots}")
    s0 = roots[0]
    s1 = sp.simplify(-lam1 / sp.diff(lam0, s).subs(s, s0))
    return {
        "g": g,
        "d4": d4,
        "lambda0": lam0,
        "lambda1": lam1,
        "s0": s0,
        "s1": s1,
        "lyapunov_exponent": lam0 + lam1 / S.N,
        "sigma_w2_critical": s0 + s1 / S.N,
    }
