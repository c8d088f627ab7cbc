"""Gaussian expectations of activations: one API, :func:`expect`, over the activation's
closed forms (its entry in :mod:`nnqft.rules.activations`) and the quadrature rules of
:mod:`nnqft.derive.gaussian.quadrature` (docs/conventions.md §3, §7).

The closed form and quadrature agree (ReLU: E[phi(u)^2] = q/2, u ~ N(0, q)):

>>> from nnqft.rules import symbols as S
>>> expect("relu", "phi^2", S.q)
q/2
>>> round(float(expect("relu", "phi^2", 2.0, closed="none")), 12)
1.0
>>> from nnqft.derive.gaussian import gaussian_moment
>>> gaussian_moment(S.z**4)
3*q**2
"""

from .expect import (
    MEAN_FIELD,
    RULES,
    closed_form,
    expect,
    gaussian_kernel,
    kernel_derivatives,
    mean_square,
    method_name,
    panel_method,
)
from .quadrature import (
    DEFAULT_NODES,
    NODE_BANDS,
    PANEL_ABOVE,
    PANEL_NODES,
    PlaneRule,
    bivariate_gaussian_mean,
    gaussian_mean,
    gaussian_tail,
    hermite_groups,
    hermite_rule,
    legendre_rule,
    mehler_coefficients,
    node_counts,
    panel_rule,
    polar_gaussian_mean,
)


def __getattr__(name: str):
    # the symbolic integrator imports sympy: loaded when first asked for (PEP 562)
    if name == "gaussian_moment":
        from .symbolic import gaussian_moment

        return gaussian_moment
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "MEAN_FIELD",
    "RULES",
    "closed_form",
    "expect",
    "gaussian_kernel",
    "kernel_derivatives",
    "mean_square",
    "method_name",
    "panel_method",
    "DEFAULT_NODES",
    "NODE_BANDS",
    "PANEL_ABOVE",
    "PANEL_NODES",
    "PlaneRule",
    "bivariate_gaussian_mean",
    "gaussian_mean",
    "gaussian_tail",
    "hermite_groups",
    "hermite_rule",
    "legendre_rule",
    "mehler_coefficients",
    "node_counts",
    "panel_rule",
    "polar_gaussian_mean",
    "gaussian_moment",
]
