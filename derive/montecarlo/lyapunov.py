"""The largest Lyapunov exponent of a random network, measured from two nearby replicas.

Two copies of the same network (same W, b) start a distance ``epsilon |z|`` apart in a
random direction after ``burn_in`` layers, when Q has settled near its fixed point.  After
every layer the separation ``delta(t) = z'(t) - z(t)`` is measured and scaled back to
``epsilon |z(t)|`` along its own direction (Benettin's method; relative to |z| so that
growing or shrinking q never loses the separation to rounding).  The exponent of one
network is the mean over ``steps`` layers of ``ln(|delta(t)| / (epsilon |z(t-1)|))``; the
estimate is the mean over independent networks, its standard error their spread over
sqrt(samples).  Mean-field
theory predicts ``(1/2) ln chi_1`` (docs/conventions.md §3) for both architectures.

The separation is propagated as ``W (phi(z + delta) - phi(z))``: the same number as the
difference of the two replicas, without cancellation.  For feedforward nets the ``'fast'``
sampler draws the pair ``(W h, W dh)`` for the two vectors h = phi(z), dh = phi(z') - phi(z)
directly from their exact bivariate Gaussian law (fresh W in every layer), O(N) per layer;
``'full'`` multiplies real matrices.  Recurrent nets always use ``'full'``.

>>> from nnqft.rules.network import Network
>>> net = Network("feedforward", "linear", sigma_w2=2.0, sigma_b2=0.0, width=1000)
>>> m = measure_lyapunov(net, 4, steps=50, burn_in=2)
>>> round(0.5 * math.log(2.0), 3), round(m.exponent, 3)     # linear: chi_1 = sigma_w2
(0.347, 0.345)
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

from ...errors import InvalidParameter, unknown_name
from ...rules.network import Network
from .chunks import chunk_seeds, chunk_sizes, isotropic_inputs, positive_int, run_chunks
from .simulate import SAMPLERS, numeric_network

__all__ = ["LyapunovMeasurement", "measure_lyapunov"]

#: about this many float64 numbers of weights per chunk of networks ('full')
_CHUNK_FLOATS = 4_000_000


@dataclass(frozen=True)
class LyapunovMeasurement:
    """A measured largest Lyapunov exponent (per layer, natural log) with its standard error."""

    network: Network
    exponent: float
    stderr: float
    samples: int
    steps: int
    burn_in: int
    sampler: str


def _orthogonal_part(v: np.ndarray, h: np.ndarray) -> np.ndarray:
    """v minus its projection on h, per network (arrays (batch, N))."""
    hh = np.einsum("bi,bi->b", h, h)[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        coef = np.where(hh > 0, np.einsum("bi,bi->b", h, v)[:, None] / hh, 0.0)
    return v - coef * h


def _lyapunov_chunk(
    net: Network, sampler: str, size: int, steps: int, burn_in: int, epsilon: float, seed
) -> np.ndarray:
    """Per-network exponents of ``size`` independent networks (one seeded chunk)."""
    rng = np.random.default_rng(seed)
    n = net.width
    sw2, sb2 = float(net.sigma_w2), float(net.sigma_b2)
    sw, sb = math.sqrt(sw2 / n), math.sqrt(sb2)
    phi = net.activation.numeric()
    recurrent = net.arch == "recurrent"
    fast = sampler == "fast"

    x = isotropic_inputs(rng, size, n, float(net.q0), None)[..., 0]  # (size, N)
    if recurrent:
        w = sw * rng.standard_normal((size, n, n))
        b = sb * rng.standard_normal((size, n))

    def layer(t: int, h: np.ndarray, dh: np.ndarray | None):
        """z(t) = W h + b and, with dh, the separation W dh (same W, b)."""
        nonlocal b
        if not recurrent or (net.bias == "fresh" and t > 1):
            b = sb * rng.standard_normal((size, n))
        if fast:
            a = np.sqrt(sw2 / n * np.einsum("bi,bi->b", h, h))[:, None]
            g1 = rng.standard_normal((size, n))
            if dh is None:
                return a * g1 + b, None
            # W dh = (h.dh/|h|^2) W h + W dh_perp, and W dh_perp is independent of W h
            with np.errstate(invalid="ignore", divide="ignore"):
                along = np.where(a > 0, sw2 / n * np.einsum("bi,bi->b", h, dh)[:, None] / a, 0.0)
            perp = _orthogonal_part(dh, h)
            across = np.sqrt(sw2 / n * np.einsum("bi,bi->b", perp, perp))[:, None]
            return a * g1 + b, along * g1 + across * rng.standard_normal((size, n))
        wt = w if recurrent else sw * rng.standard_normal((size, n, n))
        if dh is None:
            return np.einsum("bij,bj->bi", wt, h) + b, None
        # one matrix-vector product per vector: numpy's batched (N x N) @ (N x 2) matmul is
        # 5-20x slower than two einsum matrix-vector products on OpenBLAS
        return np.einsum("bij,bj->bi", wt, h) + b, np.einsum("bij,bj->bi", wt, dh)

    z, _ = layer(1, x, None)
    for t in range(2, burn_in + 1):
        z, _ = layer(t, phi(z), None)

    def separation(z: np.ndarray) -> np.ndarray:
        """epsilon |z| per network (epsilon sqrt(N) where z = 0): the renormalised distance."""
        norm = np.linalg.norm(z, axis=1)
        return epsilon * np.where(norm > 0, norm, math.sqrt(n))

    d0 = separation(z)
    delta = rng.standard_normal((size, n))
    delta *= (d0 / np.linalg.norm(delta, axis=1))[:, None]
    logs = np.zeros(size)
    for t in range(burn_in + 1, burn_in + steps + 1):
        h = phi(z)
        z, delta = layer(t, h, phi(z + delta) - h)
        d = np.linalg.norm(delta, axis=1)
        with np.errstate(divide="ignore"):
            logs += np.log(d / d0)
        d0 = separation(z)
        delta *= (d0 / np.where(d > 0, d, 1.0))[:, None]
    return logs / steps


def measure_lyapunov(
    net: Network,
    samples: int = 8,
    *,
    steps: int = 200,
    burn_in: int = 50,
    seed: int = 1,
    jobs: int = 1,
    sampler: str = "auto",
    epsilon: float = 1e-7,
    scheduler: str | None = None,
) -> LyapunovMeasurement:
    """Measure the largest Lyapunov exponent of ``samples`` random networks like ``net``.

    Each network runs ``burn_in`` layers from the input (``net.q0``), then ``steps`` layers
    with a second replica kept ``epsilon |z|`` away (renormalised every layer);
    ``net.depth`` is not used.  ``sampler``: ``'full'`` real matrices, ``'fast'`` the exact
    projection (feedforward only), ``'auto'`` fast when feedforward.  Use N >= 1000 to
    compare with (1/2) ln chi_1: the finite-width bias is O(1/N) for feedforward nets and
    larger for recurrent ones near the edge of chaos.  ``jobs`` and ``scheduler`` say
    where the chunks run, as for :func:`~nnqft.derive.montecarlo.simulate.simulate`; the
    numbers do not depend on them.

    Parameters
    ----------
    net : Network
        A numeric network (its depth is not used).
    samples : int, optional
        Independent networks.
    steps, burn_in : int, optional
        Layers measured, and layers run first.
    seed : int, optional
        The run's seed.
    jobs : int, optional
        Processes of a local Dask cluster.
    sampler : {"auto", "full", "fast"}, optional
        How networks are drawn.
    epsilon : float, optional
        The replicas' relative distance.
    scheduler : str, optional
        Where the chunks run.

    Returns
    -------
    LyapunovMeasurement
        The exponent with its standard error over the samples.

    Raises
    ------
    InvalidParameter
        For a symbolic network or bad sizes.

    Examples
    --------
    >>> net = Network("recurrent", "tanh", 4.0, 0.3, width=200, bias="shared")
    >>> m = measure_lyapunov(net, 2, steps=20, burn_in=10)
    >>> m.sampler, m.exponent > 0                      # chaotic
    ('full', True)
    """
    net = numeric_network(net, depth=False)
    samples = positive_int("samples", samples)
    steps = positive_int("steps", steps)
    burn_in = positive_int("burn_in", burn_in)
    if not isinstance(epsilon, numbers.Real) or not 0 < epsilon <= 1e-2:
        raise InvalidParameter(f"epsilon must be in (0, 0.01], got {epsilon!r}")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise InvalidParameter(f"seed must be a non-negative integer, got {seed!r}")
    if sampler not in SAMPLERS:
        raise unknown_name("sampler", sampler, SAMPLERS)
    if sampler == "auto":
        sampler = "fast" if net.arch == "feedforward" else "full"
    if sampler == "fast" and net.arch != "feedforward":
        raise InvalidParameter("the fast sampler is exact only for feedforward nets")

    per_chunk = 4096 if sampler == "fast" else max(1, _CHUNK_FLOATS // net.width**2)
    sizes = chunk_sizes(samples, max(1, min(samples, per_chunk)))
    seeds = chunk_seeds(seed, len(sizes))
    tasks = [(net, sampler, s, steps, burn_in, float(epsilon), q) for s, q in zip(sizes, seeds)]
    parts = run_chunks(_lyapunov_chunk, tasks, jobs=jobs, scheduler=scheduler, desc="lyapunov")
    values = np.concatenate(parts)
    stderr = float(values.std(ddof=1) / math.sqrt(samples)) if samples > 1 else math.nan
    return LyapunovMeasurement(net, float(values.mean()), stderr, samples, steps, burn_in, sampler)
