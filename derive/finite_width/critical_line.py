"""The edge of chaos at finite width: sigma_w2,c(sigma_b2, N) (docs/conventions.md §9).

At width N the edge of chaos moves from the mean-field line chi_1(q*) = 1 to where the
finite-width Lyapunov exponent lambda_max(N) = lambda_0 + lambda_1/N vanishes, the typical
growth rate of a small perturbation over the stationary law of the layer variance.  Through
1/N, at each sigma_b2,

    sigma_w2,c(N) = s0 + s1/N,     s1 = -lambda_1(s0) / (d lambda_0/d sigma_w2)(s0),

with s0 the mean-field critical weight variance.  :func:`finite_width_critical_line` gives
it along a list of sigma_b2, point by point the ``sigma_w2_critical`` of
:func:`~nnqft.derive.finite_width.depth_scales.depth_scales`; a point without a mean-field
edge, or whose stationary law is a point (q* = 0: tanh-like activations at sigma_b2 = 0),
is NaN with its reason.  The tests measure the exponent of real networks on both sides
and find its zero.

>>> line = finite_width_critical_line("erf", [0.2, 0.5], 64)
>>> [round(float(s), 4) for s in line.mean_field]
[1.7882, 2.2337]
>>> bool((line.sigma_w2 > line.mean_field).all())   # finite width: more weight variance
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...errors import InvalidParameter
from ...rules.activations import get_activation
from ...rules.network import Network
from .depth_scales import critical_weight

__all__ = ["FiniteWidthCriticalLine", "finite_width_critical_line"]


@dataclass(frozen=True)
class FiniteWidthCriticalLine:
    """The edge of chaos through 1/N at width ``width``, one entry per ``sigma_b2``:
    ``mean_field`` (s0), ``coefficient_1`` (s1) and ``sigma_w2`` = s0 + s1/N (NaN where
    undefined), ``reliable`` (the truncated series' flag, None where undefined) and
    ``reasons`` (None, or why the point is NaN)."""

    activation: str
    width: int
    sigma_b2: np.ndarray
    mean_field: np.ndarray
    coefficient_1: np.ndarray
    sigma_w2: np.ndarray
    reliable: tuple
    reasons: tuple

    def rows(self) -> list[dict]:
        """One dict per point, NaN as None (JSON)."""

        def num(x):
            return float(x) if np.isfinite(x) else None

        return [
            {"sigma_b2": float(b), "sigma_w2": num(w), "mean_field": num(m),
             "coefficient_1": num(c), "reliable": ok, "reason": why}
            for b, w, m, c, ok, why in zip(self.sigma_b2, self.sigma_w2, self.mean_field,
                                           self.coefficient_1, self.reliable, self.reasons)
        ]  # fmt: skip


def finite_width_critical_line(
    activation, sigma_b2_values, width: int, *, q0: float = 1.0, progress: bool | None = False
) -> FiniteWidthCriticalLine:
    """sigma_w2,c(sigma_b2, N) through 1/N for each sigma_b2 (see the module docstring).

    Parameters
    ----------
    activation : str or Activation
        A registered activation (or an expression of z).
    sigma_b2_values : sequence of float
        Non-negative bias variances.
    width : int
        The width N (at least 2).
    q0 : float, optional
        The input size; the stationary law, hence the line, does not depend on it.
    progress : bool or None, optional
        A progress bar on stderr (None: only on a terminal).

    Returns
    -------
    FiniteWidthCriticalLine

    Examples
    --------
    >>> line = finite_width_critical_line("tanh", [0.0, 0.3], 32)
    >>> line.reasons[0] is not None, round(float(line.sigma_w2[1]), 4)
    (True, 2.8622)
    """
    from tqdm import tqdm

    act = get_activation(activation)
    if isinstance(width, bool) or not isinstance(width, (int, np.integer)) or width < 2:
        raise InvalidParameter(f"the width N must be an integer >= 2, got {width!r}")
    sbs = np.asarray(sigma_b2_values, dtype=float).ravel()
    if not (np.isfinite(sbs).all() and (sbs >= 0).all()):
        raise InvalidParameter("sigma_b2 values must be finite and non-negative")
    s0 = np.full(sbs.shape, np.nan)
    s1 = np.full(sbs.shape, np.nan)
    reliable, reasons = [], []
    bar = tqdm(sbs, desc=f"finite-width edge ({act.name}, N = {width})", unit="point",
               disable=None if progress is None else not progress, leave=False)  # fmt: skip
    for i, sb in enumerate(bar):
        # sigma_w2 = 1 is a placeholder: the critical weight is found by root finding
        net = Network("feedforward", act, 1.0, float(sb), width=int(width), q0=q0)
        r = critical_weight(net)
        if r["mean_field"] is not None:
            s0[i] = r["mean_field"]
        if r["coefficient_1"] is not None:
            s1[i] = r["coefficient_1"]
        reliable.append(r["reliable"])
        reasons.append(r["reason"])
    return FiniteWidthCriticalLine(
        activation=act.name,
        width=int(width),
        sigma_b2=sbs,
        mean_field=s0,
        coefficient_1=s1,
        sigma_w2=s0 + s1 / width,
        reliable=tuple(reliable),
        reasons=tuple(reasons),
    )
