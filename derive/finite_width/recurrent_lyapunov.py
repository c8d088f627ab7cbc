"""The Lyapunov exponent of a recurrent net at finite width, and why it has no 1/N series.

Conventions: docs/conventions.md §9 (recurrent nets).

A recurrent net applies one W at every step.  A small perturbation grows by the Jacobian
``W D(t)``, ``D(t) = diag phi'(z(t))``, and where the state settles (the linear net, or the
ordered phase where z(t) -> z*) the product is a power of one matrix:

    lambda_max = lim_t (1/t) ln |(W D*)^t d| = ln rho(W D*),

the log of the spectral radius.  At N = oo the circular law puts every eigenvalue of W D* in
the disk of radius sqrt(sigma_w2 <phi'^2>) = sqrt(chi_1), so the mean field is the
feedforward one, ``(1/2) ln chi_1``.  At finite N, rho is the largest of N eigenvalue moduli
near that edge: for Gaussian W, rho(W)/sqrt(sigma_w2) = 1 + sqrt(gamma_N/(4N)) +
O(1/sqrt(N gamma_N)) with gamma_N = ln(N/2 pi) - 2 ln ln N and Gumbel fluctuations (Rider
2003 for the complex, Rider & Sinclair 2014 for the real Ginibre ensemble).  The shift is of
order sqrt(ln N / N), not 1/N: the expansion in 1/N that gives a feedforward net's
lambda_max(N) (:func:`~nnqft.derive.finite_width.depth_scales.depth_scales`) does not exist
for a shared W.  So a recurrent net's finite-width exponent and the critical weight where it
vanishes are returned as their mean-field values with a null 1/N coefficient and this
reason; the test suite measures the non-analytic shift on real Gaussian matrices.

>>> from nnqft.rules.network import Network
>>> r = recurrent_lyapunov(Network("recurrent", "linear", 0.5, 0.1, width=64))
>>> round(r["mean_field"], 6), r["coefficient_1"], "spectral radius" in r["reason"]
(-0.346574, None, True)
"""

from __future__ import annotations

import math

from ...rules.network import Network, require_network

__all__ = ["recurrent_lyapunov", "recurrent_critical_weight", "NO_SERIES_REASON",
           "CHAOTIC_REASON"]

#: why a shared-W net's finite-width exponent is not a 1/N series
NO_SERIES_REASON = (
    "a recurrent net's W is the same at every step, so the exponent is the log spectral "
    "radius of W diag(phi'(z*)) (exactly ln rho(W) for the linear net), whose finite-N shift "
    "from the circular law's edge sqrt(chi_1) is of order sqrt(ln N / N) with Gumbel "
    "fluctuations: there is no 1/N series (docs/conventions.md §9)"
)


#: in the chaotic phase the Jacobians W D(t) of a shared W differ from step to step
CHAOTIC_REASON = (
    "chaotic phase: z(t) does not settle, so the Jacobians W diag(phi'(z(t))) share W but "
    "not D(t); the finite-width exponent of such a product is not derived (the feedforward "
    "1/N series needs a fresh W per layer; docs/conventions.md §9)"
)


def _series_null(mean_field: float | None, reason: str) -> dict:
    return {"mean_field": mean_field, "coefficient_1": None, "value_at_N": None,
            "relative_correction": None, "expansion_parameter": None, "reliable": None,
            "reason": reason}


def recurrent_lyapunov(net: Network) -> dict:
    """The typical exponent of a recurrent net as a finite-width series: its mean field
    ``(1/2) ln chi_1`` at the stationary law and a null 1/N coefficient with the reason
    (:data:`NO_SERIES_REASON`; in the chaotic phase :data:`CHAOTIC_REASON`); the linear
    net's mean field is (1/2) ln sigma_w2 at any sigma_w2, a nonlinear net without a
    mean-field fixed point is null throughout.

    >>> from nnqft.rules.network import Network
    >>> r = recurrent_lyapunov(Network("recurrent", "tanh", 1.5, 0.05, width=64))
    >>> round(r["mean_field"], 4), r["value_at_N"]
    (-0.0317, None)
    """
    from ..meanfield.fixed_point import fixed_point

    net = require_network(net, arch="recurrent", what="the recurrent Lyapunov exponent")
    if net.activation.name == "linear":  # J = W at every step, whatever the state does
        return _series_null(0.5 * math.log(float(net.sigma_w2)), NO_SERIES_REASON)
    mf = fixed_point(net)
    if not (math.isfinite(mf.chi_1) and mf.chi_1 > 0):
        return _series_null(None, f"no mean-field fixed point q* ({mf.phase})")
    if mf.phase == "chaotic":
        return _series_null(0.5 * math.log(mf.chi_1), CHAOTIC_REASON)
    return _series_null(0.5 * math.log(mf.chi_1), NO_SERIES_REASON)


def recurrent_critical_weight(net: Network) -> dict:
    """The weight variance where a recurrent net's exponent vanishes at the given sigma_b2:
    the mean-field edge of chaos (chi_1 = 1), with a null 1/N coefficient and the reason
    of :func:`recurrent_lyapunov` (the finite-N edge moves by order sqrt(ln N / N)).

    >>> from nnqft.rules.network import Network
    >>> recurrent_critical_weight(Network("recurrent", "linear", 0.5, 0.1, width=8))["mean_field"]
    1.0
    """
    from ...errors import NoExactForm
    from ..meanfield.criticality import critical_point

    net = require_network(net, arch="recurrent", what="the recurrent critical weight")
    try:
        sigma = float(critical_point(net.activation, float(net.sigma_b2)).sigma_w2)
    except NoExactForm as err:
        return _series_null(None, str(err))
    if not math.isfinite(sigma):
        return _series_null(None, "no mean-field critical weight at this sigma_b2")
    return _series_null(sigma, NO_SERIES_REASON)
