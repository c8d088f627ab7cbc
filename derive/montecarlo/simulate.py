"""Monte Carlo of real random networks: the ground truth every derivation is checked against.

The networks follow docs/conventions.md §1: ``z(1) = W x + b`` (phi is not applied to the input),
``z(t) = W phi(z(t-1)) + b`` with ``W_ij ~ N(0, sigma_w2/N)``, ``b_i ~ N(0, sigma_b2)``;
feedforward nets draw new W, b in every layer, recurrent nets keep one W and either one b
(``bias='shared'``) or a new b each step (``bias='fresh'``).  The input has
``|x|^2/N = q0`` exactly; its direction is drawn afresh (isotropically) for every network,
which matters only for recurrent nets and only at O(1/N).  Two inputs have
``x1.x2/N = q0 c0`` exactly.

Per layer the observables of ``Q(t) = |z(t)|^2/N`` are estimated over an ensemble of
independent networks: ``E Q``, ``Var Q``, ``E ln Q`` and, for two inputs, the mean of the
per-network correlation ``c(t) = z1.z2/(|z1||z2|)`` and of ``Q12(t) = z1.z2/N``; each with
its standard error.

Two samplers:

- ``'full'``: real N x N weight matrices, vectorised over a chunk of networks (batched
  matmul).  Any architecture, one or two inputs.
- ``'fast'`` (feedforward only, exact): given layer t-1 the rows of W are iid Gaussian and
  independent of everything before, so the pre-activations of layer t are iid (bivariate,
  for two inputs) Gaussian with covariance ``sigma_b2 + sigma_w2 mean_j phi(z_j) phi(z'_j)``
  over the previous layer.  O(N T) per network instead of O(N^2 T).

Networks are processed in chunks seeded independently by ``numpy.random.SeedSequence``;
chunk sizes do not depend on ``jobs``, and chunk results are merged in chunk order, so the
numbers for a given seed are identical for any number of worker processes, on one process
or a Dask cluster (derive/montecarlo/chunks.py).

>>> from nnqft.rules.network import Network
>>> net = Network("feedforward", "linear", sigma_w2=2.0, sigma_b2=0.0, width=8, depth=3)
>>> result = simulate(net, 20000, seed=3)
>>> result.sampler, len(result.layers)
('fast', 3)
>>> row = result.layers[-1]                     # E Q(3) = sigma_w2^3 q0 = 8 exactly
>>> abs(row.mean - 8.0) < 4 * row.mean_stderr
True
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

from ...errors import InvalidParameter, InvalidType, unknown_name
from ...rules.network import Network
from .chunks import chunk_seeds, chunk_sizes, isotropic_inputs, positive_int, run_chunks

__all__ = [
    "BACKENDS",
    "SAMPLERS",
    "LayerStatistics",
    "SimulationResult",
    "simulate",
    "fast_feedforward_preactivations",
    "numeric_network",
    "run_chunks",
]

#: sampler names accepted by :func:`simulate`
SAMPLERS = ("auto", "full", "fast")

#: array libraries of the full-matrix sampler (jax: optional, ``pip install 'nnqft[jax]'``)
BACKENDS = ("numpy", "jax")

#: about this many float64 numbers per chunk (weights for 'full', pre-activations for 'fast')
_CHUNK_FLOATS = 2_000_000


# --- validation ---------------------------------------------------------------------------


def numeric_network(net: Network, *, depth: bool = True) -> Network:
    """Check that ``net`` can be sampled: numeric sigma_w2, sigma_b2, q0, integer width, depth.

    ``depth=False`` skips the depth (for measurements that choose their own number of layers).

    Parameters
    ----------
    net : Network
        The network to sample.
    depth : bool, optional
        Whether its depth must be an integer too.

    Returns
    -------
    Network
        ``net`` itself.

    Raises
    ------
    InvalidParameter
        For a symbolic variance, width or depth.

    Examples
    --------
    >>> numeric_network(Network("feedforward", "tanh", 1.5, 0.05, width=4, depth=2)).width
    4
    >>> numeric_network(Network("feedforward", "tanh", 1.5, 0.05))
    Traceback (most recent call last):
    ...
    nnqft.errors.InvalidParameter: Monte Carlo needs a numeric width, got N
    """
    if not isinstance(net, Network):
        raise InvalidType(f"expected a Network, got {type(net).__name__}")
    for name in ("sigma_w2", "sigma_b2", "q0"):
        if not isinstance(getattr(net, name), numbers.Real):
            raise InvalidParameter(f"Monte Carlo needs a numeric {name}, got {getattr(net, name)}")
    for name in ("width", "depth") if depth else ("width",):
        if not isinstance(getattr(net, name), numbers.Integral):
            raise InvalidParameter(f"Monte Carlo needs a numeric {name}, got {getattr(net, name)}")
    return net


# --- moments, merged exactly across chunks ------------------------------------------------


@dataclass
class _Moments:
    """Count, mean and central sums M_k = sum (x - mean)^k, k = 2..4, per column.

    Chunks are merged with the pairwise formulas of Chan et al. / Pebay (2008), which are
    stable and independent of how the ensemble was split (up to rounding, which is fixed
    because chunks always merge in the same order).
    """

    n: int
    mean: np.ndarray
    m2: np.ndarray
    m3: np.ndarray
    m4: np.ndarray

    @classmethod
    def of(cls, x: np.ndarray) -> _Moments:
        """Moments of the rows of ``x`` (shape (n, columns))."""
        mean = x.mean(axis=0)
        d = x - mean
        d2 = d * d
        return cls(len(x), mean, d2.sum(0), (d2 * d).sum(0), (d2 * d2).sum(0))

    def merge(self, other: _Moments) -> _Moments:
        na, nb = self.n, other.n
        n = na + nb
        delta = other.mean - self.mean
        mean = self.mean + delta * (nb / n)
        m2 = self.m2 + other.m2 + delta**2 * (na * nb / n)
        m3 = (
            self.m3
            + other.m3
            + delta**3 * (na * nb * (na - nb) / n**2)
            + 3 * delta * (na * other.m2 - nb * self.m2) / n
        )
        m4 = (
            self.m4
            + other.m4
            + delta**4 * (na * nb * (na * na - na * nb + nb * nb) / n**3)
            + 6 * delta**2 * (na * na * other.m2 + nb * nb * self.m2) / n**2
            + 4 * delta * (na * other.m3 - nb * self.m3) / n
        )
        return _Moments(n, mean, m2, m3, m4)

    def mean_stderr(self) -> np.ndarray:
        if self.n < 2:
            return np.full_like(self.mean, np.nan)
        return np.sqrt(self.m2 / (self.n - 1) / self.n)

    def variance(self) -> np.ndarray:
        if self.n < 2:
            return np.full_like(self.mean, np.nan)
        return self.m2 / (self.n - 1)

    def variance_stderr(self) -> np.ndarray:
        """Standard error of the unbiased sample variance: Var s^2 = mu4/n - s^4 (n-3)/(n(n-1))."""
        n = self.n
        if n < 4:
            return np.full_like(self.mean, np.nan)
        s2 = self.m2 / (n - 1)
        mu4 = self.m4 / n
        return np.sqrt(np.maximum(mu4 - s2 * s2 * (n - 3) / (n - 1), 0.0) / n)


def _merge_all(parts: Iterable[_Moments]) -> _Moments:
    parts = list(parts)
    total = parts[0]
    for part in parts[1:]:
        total = total.merge(part)
    return total


# --- the samplers -------------------------------------------------------------------------


def _phi(net: Network) -> Callable[[np.ndarray], np.ndarray]:
    return net.activation.numeric()


def _full_preactivations(net: Network, batch: int, rng: np.random.Generator, c0):
    """Yield z(t), t = 1..T, shape (batch, N, k), from real weight matrices."""
    n, depth = net.width, net.depth
    sw, sb = math.sqrt(net.sigma_w2 / n), math.sqrt(net.sigma_b2)
    phi = _phi(net)
    h = isotropic_inputs(rng, batch, n, float(net.q0), c0)
    recurrent = net.arch == "recurrent"
    if recurrent:
        w = sw * rng.standard_normal((batch, n, n))
        b = sb * rng.standard_normal((batch, n, 1))
    for t in range(1, depth + 1):
        if not recurrent:
            w = sw * rng.standard_normal((batch, n, n))
        if not recurrent or (net.bias == "fresh" and t > 1):
            b = sb * rng.standard_normal((batch, n, 1))
        z = w @ h + b
        yield z
        h = phi(z)


def _fast_preactivations(net: Network, batch: int, rng: np.random.Generator, c0):
    """Yield z(t), shape (batch, N, k), by the exact layer-by-layer Gaussian (feedforward)."""
    n, depth = net.width, net.depth
    sw2, sb2, q0 = float(net.sigma_w2), float(net.sigma_b2), float(net.q0)
    phi = _phi(net)
    k11 = np.full((batch, 1), sw2 * q0 + sb2)
    k22 = k11
    k12 = None if c0 is None else np.full((batch, 1), sw2 * q0 * c0 + sb2)
    for _ in range(depth):
        s1 = np.sqrt(k11)
        g1 = rng.standard_normal((batch, n))
        z1 = s1 * g1
        if k12 is None:
            z = z1[..., None]
            h1 = phi(z1)
            k11 = sb2 + sw2 * np.mean(h1 * h1, axis=1, keepdims=True)
        else:
            g2 = rng.standard_normal((batch, n))
            with np.errstate(invalid="ignore", divide="ignore"):
                a = np.where(s1 > 0, k12 / s1, 0.0)
            z2 = a * g1 + np.sqrt(np.maximum(k22 - a * a, 0.0)) * g2
            z = np.stack([z1, z2], axis=2)
            h1, h2 = phi(z1), phi(z2)
            k11 = sb2 + sw2 * np.mean(h1 * h1, axis=1, keepdims=True)
            k22 = sb2 + sw2 * np.mean(h2 * h2, axis=1, keepdims=True)
            k12 = sb2 + sw2 * np.mean(h1 * h2, axis=1, keepdims=True)
        yield z


def fast_feedforward_preactivations(
    net: Network, samples: int, rng: np.random.Generator
) -> np.ndarray:
    """Raw pre-activations z_i(t) of ``samples`` feedforward nets, shape (T, samples, N).

    Exact in distribution (the fast sampler: each layer given the previous is iid
    N(0, sigma_b2 + sigma_w2 mean_j phi(z_j(t-1))^2), layer 1 N(0, sigma_b2 + sigma_w2 q0)),
    for finite-width checks of E[z^2] and Cov(z_i^2, z_j^2).

    Parameters
    ----------
    net : Network
        A numeric feedforward network.
    samples : int
        Independent networks.
    rng : numpy.random.Generator
        The random source.

    Returns
    -------
    numpy.ndarray
        Shape (T, samples, N).

    Examples
    --------
    >>> net = Network("feedforward", "relu", sigma_w2=2.0, sigma_b2=0.0, width=4, depth=3)
    >>> fast_feedforward_preactivations(net, 5, np.random.default_rng(0)).shape
    (3, 5, 4)
    """
    net = numeric_network(net)
    if net.arch != "feedforward":
        raise InvalidParameter("the fast sampler is exact only for feedforward nets")
    samples = positive_int("samples", samples)
    out = np.empty((net.depth, samples, net.width))
    for t, z in enumerate(_fast_preactivations(net, samples, rng, None)):
        out[t] = z[..., 0]
    return out


def _observables(zs: Iterable[np.ndarray], two: bool) -> dict[str, np.ndarray]:
    """Per network and layer: Q, ln Q and, for two inputs, c and Q12 (each (batch, T))."""
    qs, cs, q12s = [], [], []
    for z in zs:
        n = z.shape[1]
        q11 = np.einsum("bi,bi->b", z[..., 0], z[..., 0]) / n
        qs.append(q11)
        if two:
            q22 = np.einsum("bi,bi->b", z[..., 1], z[..., 1]) / n
            q12 = np.einsum("bi,bi->b", z[..., 0], z[..., 1]) / n
            q12s.append(q12)
            with np.errstate(invalid="ignore", divide="ignore"):
                cs.append(q12 / np.sqrt(q11 * q22))
    q = np.stack(qs, axis=1)
    with np.errstate(divide="ignore"):
        out = {"Q": q, "lnQ": np.log(q)}
    if two:
        out["c"] = np.stack(cs, axis=1)
        out["Q12"] = np.stack(q12s, axis=1)
    return out


def _simulate_chunk(
    net: Network, sampler: str, c0, size: int, seed, backend: str = "numpy", pad: int = 0
) -> dict[str, _Moments]:
    """One independently seeded chunk of ``size`` networks -> moments of each observable.

    JAX draws ``max(size, pad)`` networks and keeps the first ``size``, so that every chunk
    of a run has one shape and one compilation."""
    if backend == "jax":
        from .jax_backend import full_observables

        obs = full_observables(net, max(size, pad), seed, c0)
        obs = {name: values[:size] for name, values in obs.items()}
    else:
        rng = np.random.default_rng(seed)
        gen = _fast_preactivations if sampler == "fast" else _full_preactivations
        obs = _observables(gen(net, size, rng, c0), c0 is not None)
    return {name: _Moments.of(values) for name, values in obs.items()}


# --- results ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LayerStatistics:
    """Monte Carlo statistics of layer ``layer`` (Q = |z|^2/N of the first input).

    ``correlation`` (mean over networks of z1.z2/(|z1||z2|)) and ``q12`` (mean of
    z1.z2/N) are ``None`` for a single input.  Every value carries its standard error.
    """

    layer: int
    mean: float
    mean_stderr: float
    variance: float
    variance_stderr: float
    log_mean: float
    log_mean_stderr: float
    correlation: float | None = None
    correlation_stderr: float | None = None
    q12: float | None = None
    q12_stderr: float | None = None

    def as_dict(self) -> dict:
        """The row as a plain dict (without the two-input keys for a single input)."""
        row = {k: getattr(self, k) for k in self.__dataclass_fields__}
        if self.correlation is None:
            for key in ("correlation", "correlation_stderr", "q12", "q12_stderr"):
                row.pop(key)
        return row


@dataclass(frozen=True)
class SimulationResult:
    """What :func:`simulate` measured: one :class:`LayerStatistics` per layer."""

    network: Network
    samples: int
    sampler: str
    seed: int
    c0: float | None
    layers: tuple[LayerStatistics, ...] = field(repr=False)

    def column(self, name: str) -> np.ndarray:
        """One statistic over layers as an array, e.g. ``result.column("mean")``."""
        if name not in LayerStatistics.__dataclass_fields__:
            raise unknown_name("layer statistic", name, LayerStatistics.__dataclass_fields__)
        return np.array([np.nan if (v := getattr(r, name)) is None else v for r in self.layers])

    def rows(self) -> list[dict]:
        """The layers as a list of dicts (the ``layers`` of ``nnqft simulate --json``)."""
        return [row.as_dict() for row in self.layers]


def _resolve_sampler(net: Network, sampler: str, backend: str = "numpy") -> str:
    if sampler not in SAMPLERS:
        raise unknown_name("sampler", sampler, SAMPLERS)
    if backend not in BACKENDS:
        raise unknown_name("backend", backend, BACKENDS)
    if backend == "jax":
        if sampler == "fast":
            raise InvalidParameter("backend 'jax' runs the full-matrix sampler; use sampler 'full'")
        return "full"
    if sampler == "auto":
        return "fast" if net.arch == "feedforward" else "full"
    if sampler == "fast" and net.arch != "feedforward":
        raise InvalidParameter(
            "the fast sampler is exact only for feedforward nets; use sampler 'full' "
            "for recurrent nets"
        )
    return sampler


def _chunk_length(net: Network, sampler: str, inputs: int, samples: int) -> int:
    per_net = net.width * inputs if sampler == "fast" else net.width * net.width
    return max(1, min(samples, _CHUNK_FLOATS // per_net))


def simulate(
    net: Network,
    samples: int,
    *,
    seed: int = 1,
    jobs: int = 1,
    sampler: str = "auto",
    inputs: int = 1,
    c0: float | None = None,
    q0: float | None = None,
    scheduler: str | None = None,
    backend: str = "numpy",
) -> SimulationResult:
    """Sample ``samples`` independent random networks and measure Q(t) layer by layer.

    ``sampler`` is ``'full'`` (real weight matrices), ``'fast'`` (exact layer-by-layer
    Gaussian, feedforward only) or ``'auto'`` (fast for feedforward, full for recurrent).
    ``inputs=2`` propagates two inputs of correlation ``c0`` through the same network and
    adds c(t) and Q12(t).  ``q0`` overrides ``net.q0``.

    Chunks run where ``scheduler`` says (:func:`~nnqft.derive.montecarlo.chunks.run_chunks`:
    ``'serial'``, ``'local'`` Dask cluster of ``jobs`` processes, ``'tcp://HOST:PORT'``;
    default serial for ``jobs=1``, local otherwise).  The numbers depend on ``seed``,
    ``sampler`` and ``backend`` only, not on ``jobs`` or ``scheduler``.  ``backend='jax'``
    runs the full-matrix sampler in JAX (float64, on a GPU where present): the same
    distribution as numpy but other random streams.

    Parameters
    ----------
    net : Network
        A numeric network (:func:`numeric_network`).
    samples : int
        Independent networks.
    seed : int, optional
        The run's seed.
    jobs : int, optional
        Processes of a local Dask cluster.
    sampler : {"auto", "full", "fast"}, optional
        How networks are drawn.
    inputs : {1, 2}, optional
        One input, or two of correlation ``c0``.
    c0 : float, optional
        The correlation of the two inputs.
    q0 : float, optional
        The input size, instead of ``net.q0``.
    scheduler : str, optional
        Where the chunks run.
    backend : {"numpy", "jax"}, optional
        The full-matrix sampler's array library.

    Returns
    -------
    SimulationResult
        Per layer: the mean and variance of Q(t) with standard errors (and c(t), Q12(t)).

    Raises
    ------
    InvalidParameter
        For a symbolic network, a sampler that cannot serve it, or sizes beyond the limits.

    Examples
    --------
    >>> net = Network("recurrent", "tanh", 4.0, 0.3, width=32, depth=4, bias="fresh")
    >>> r = simulate(net, 64, inputs=2, c0=0.9)
    >>> r.sampler, r.layers[0].correlation is not None
    ('full', True)
    """
    net = numeric_network(net)
    samples = positive_int("samples", samples)
    jobs = positive_int("jobs", jobs)
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise InvalidParameter(f"seed must be a non-negative integer, got {seed!r}")
    if inputs not in (1, 2):
        raise InvalidParameter(f"inputs must be 1 or 2, got {inputs!r}")
    if inputs == 2:
        if c0 is None or not isinstance(c0, numbers.Real) or not -1.0 <= c0 <= 1.0:
            raise InvalidParameter(f"two inputs need a correlation c0 in [-1, 1], got {c0!r}")
        c0 = float(c0)
    elif c0 is not None:
        raise InvalidParameter("c0 is the correlation of two inputs; pass inputs=2 with it")
    if q0 is not None:
        net = net.replace(q0=q0)
    if inputs == 2 and net.width < 2:
        raise InvalidParameter("two inputs with a chosen correlation need width >= 2")
    sampler = _resolve_sampler(net, sampler, backend)
    if backend == "jax":
        from .jax_backend import require_jax

        require_jax()  # one line saying what to install, before any chunk runs

    sizes = chunk_sizes(samples, _chunk_length(net, sampler, inputs, samples))
    seeds = chunk_seeds(seed, len(sizes))
    tasks = [(net, sampler, c0, size, s, backend, sizes[0]) for size, s in zip(sizes, seeds)]
    parts = run_chunks(
        _simulate_chunk, tasks, jobs=jobs, scheduler=scheduler, desc=f"simulate ({sampler})"
    )
    stats = {name: _merge_all(p[name] for p in parts) for name in parts[0]}

    q, lnq = stats["Q"], stats["lnQ"]
    columns = {
        "mean": q.mean,
        "mean_stderr": q.mean_stderr(),
        "variance": q.variance(),
        "variance_stderr": q.variance_stderr(),
        "log_mean": lnq.mean,
        "log_mean_stderr": lnq.mean_stderr(),
    }
    if inputs == 2:
        columns |= {
            "correlation": stats["c"].mean,
            "correlation_stderr": stats["c"].mean_stderr(),
            "q12": stats["Q12"].mean,
            "q12_stderr": stats["Q12"].mean_stderr(),
        }
    layers = tuple(
        LayerStatistics(layer=t + 1, **{k: float(v[t]) for k, v in columns.items()})
        for t in range(net.depth)
    )
    return SimulationResult(net, samples, sampler, int(seed), c0, layers)
