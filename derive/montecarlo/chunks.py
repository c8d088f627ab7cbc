"""Chunks of independent random networks, and where they run.

A Monte Carlo run is cut into chunks whose sizes depend only on the run (never on the
number of workers), each seeded by its own child of ``numpy.random.SeedSequence(seed)``.
A chunk runner evaluates ``worker(*task)`` for every chunk and returns the results **in
chunk order**, whatever order they finished in; merging them in that order gives the same
bits on one process, a local Dask cluster or a remote one.

Schedulers (:func:`run_chunks`):

- ``'serial'``: this process, one chunk after the other (the default for ``jobs=1``);
- ``'local'``: a ``dask.distributed.LocalCluster`` of ``jobs`` worker processes, one
  thread each, on 127.0.0.1, started and closed for the run (the default for ``jobs > 1``);
- ``'tcp://HOST:PORT'``: the scheduler of an existing Dask cluster (whose workers have
  nnqft installed); ``jobs`` is then unused.

Dask is optional: ``pip install 'nnqft[distributed]'``.

>>> chunk_sizes(10, 4)
[4, 4, 2]
>>> run_chunks(pow, [(2, 3), (3, 2)])
[8, 9]
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Callable, Sequence

import numpy as np

from ...errors import InvalidParameter, InvalidType, NnqftError

__all__ = [
    "DASK_HINT",
    "MissingDependency",
    "SchedulerUnreachable",
    "chunk_seeds",
    "chunk_sizes",
    "isotropic_inputs",
    "positive_int",
    "resolve_scheduler",
    "run_chunks",
]

#: what to install for the Dask schedulers
DASK_HINT = "pip install 'nnqft[distributed]'"

#: seconds to wait for an existing Dask scheduler before giving up
CONNECT_TIMEOUT = 5

_ADDRESS = re.compile(r"tcp://(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.\-]+):(?P<port>[0-9]{1,5})")


class MissingDependency(NnqftError, ImportError):
    """An optional dependency (Dask, JAX) is needed and not installed."""


class SchedulerUnreachable(NnqftError, ConnectionError):
    """No Dask scheduler answered at the given address."""


def positive_int(name: str, value) -> int:
    """``value`` as an int when it is an integer >= 1; a one-line error otherwise.

    Parameters
    ----------
    name : str
        The parameter's name, for the message.
    value : object
        The value to check.

    Returns
    -------
    int

    Raises
    ------
    InvalidParameter
        For anything but an integer >= 1 (booleans included).

    Examples
    --------
    >>> positive_int("samples", 3)
    3
    >>> positive_int("samples", 0)
    Traceback (most recent call last):
    ...
    nnqft.errors.InvalidParameter: samples must be an integer >= 1, got 0
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InvalidType(f"{name} must be an integer >= 1, got {value!r}")
    if value < 1:
        raise InvalidParameter(f"{name} must be an integer >= 1, got {value}")
    return int(value)


def chunk_sizes(total: int, chunk: int) -> list[int]:
    """``total`` split into chunks of ``chunk`` (the last one smaller).

    Parameters
    ----------
    total : int
        Samples in all.
    chunk : int
        Samples per chunk.

    Returns
    -------
    list of int

    Examples
    --------
    >>> chunk_sizes(7, 7), chunk_sizes(7, 3)
    ([7], [3, 3, 1])
    """
    full, rest = divmod(total, chunk)
    return [chunk] * full + ([rest] if rest else [])


def chunk_seeds(seed: int, count: int) -> list[np.random.SeedSequence]:
    """The independent seeds of ``count`` chunks of a run seeded by ``seed``.

    Parameters
    ----------
    seed : int
        The run's seed.
    count : int
        The number of chunks.

    Returns
    -------
    list of numpy.random.SeedSequence
        Spawned children: chunk k draws the same numbers wherever it runs.

    Examples
    --------
    >>> [s.spawn_key for s in chunk_seeds(1, 2)]
    [(0,), (1,)]
    """
    return np.random.SeedSequence(seed).spawn(count)


def isotropic_inputs(rng: np.random.Generator, batch: int, width: int, q0: float, c0=None):
    """Inputs of shape (batch, width, k), isotropic directions, |x|^2/N = q0, x1.x2/N = q0 c0.

    One input (k = 1) when ``c0`` is None, two (k = 2) otherwise.

    Parameters
    ----------
    rng : numpy.random.Generator
        The random source.
    batch : int
        Number of input sets.
    width : int
        N, the input dimension.
    q0 : float
        The size |x|^2/N of every input.
    c0 : float, optional
        The correlation of the two inputs (one input when None).

    Returns
    -------
    numpy.ndarray
        Shape (batch, width, 1 or 2).

    Examples
    --------
    >>> x = isotropic_inputs(np.random.default_rng(0), 3, 5, 2.0, 0.5)
    >>> x.shape, bool(np.allclose((x[..., 0] * x[..., 1]).sum(1) / 5, 1.0))
    ((3, 5, 2), True)
    """
    g = rng.standard_normal((batch, width, 1 if c0 is None else 2))
    e1 = g[..., :1] / np.linalg.norm(g[..., :1], axis=1, keepdims=True)
    scale = math.sqrt(width * q0)
    if c0 is None:
        return scale * e1
    if width < 2:
        raise InvalidParameter("two inputs with a chosen correlation need width >= 2")
    v = g[..., 1:] - e1 * np.sum(e1 * g[..., 1:], axis=1, keepdims=True)
    e2 = v / np.linalg.norm(v, axis=1, keepdims=True)
    return scale * np.concatenate([e1, c0 * e1 + math.sqrt(1.0 - c0 * c0) * e2], axis=2)


# --- schedulers ---------------------------------------------------------------------------


def resolve_scheduler(scheduler: str | None, jobs: int = 1) -> str:
    """The scheduler a run uses: ``'serial'``, ``'local'`` or a checked ``tcp://HOST:PORT``.

    ``None`` means serial for one job and a local Dask cluster for more.

    Parameters
    ----------
    scheduler : str or None
        ``'serial'``, ``'local'``, ``'tcp://HOST:PORT'`` or None.
    jobs : int, optional
        Processes of a local cluster.

    Returns
    -------
    str

    Raises
    ------
    InvalidParameter
        For anything else.

    Examples
    --------
    >>> resolve_scheduler(None, 1), resolve_scheduler(None, 4), resolve_scheduler("tcp://h:8786")
    ('serial', 'local', 'tcp://h:8786')
    >>> resolve_scheduler("h:8786")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    nnqft.errors.InvalidParameter: scheduler must be 'serial', 'local' or tcp://HOST:PORT, ...
    """
    if scheduler is None:
        return "serial" if jobs == 1 else "local"
    if not isinstance(scheduler, str):
        raise InvalidType(f"scheduler must be a string, got {type(scheduler).__name__}")
    if scheduler in ("serial", "local"):
        return scheduler
    match = _ADDRESS.fullmatch(scheduler)
    if not match:
        raise InvalidParameter(
            f"scheduler must be 'serial', 'local' or tcp://HOST:PORT, got {scheduler!r}"
        )
    if not 1 <= int(match["port"]) <= 65535:
        raise InvalidParameter(f"scheduler port must be 1 to 65535, got {match['port']}")
    return scheduler


def _import_distributed():
    try:
        import distributed
    except ImportError:
        raise MissingDependency(f"the Dask schedulers need dask.distributed: {DASK_HINT}") from None
    return distributed


def _serial(worker: Callable, tasks: Sequence[tuple], bar) -> list:
    out = []
    for task in tasks:
        out.append(worker(*task))
        bar.update()
    return out


def _on_dask(client, worker: Callable, tasks: Sequence[tuple], bar) -> list:
    from distributed import as_completed

    futures = [client.submit(worker, *task, pure=False) for task in tasks]
    try:
        for _ in as_completed(futures, loop=client.loop):
            bar.update()
        return [f.result() for f in futures]  # chunk order, not completion order
    finally:
        client.cancel(futures)


def connect(address: str, timeout: float | None = None):
    """A ``distributed.Client`` of the scheduler at ``address``, or one line saying why not
    (after ``timeout`` seconds, default :data:`CONNECT_TIMEOUT`)."""
    distributed = _import_distributed()
    timeout = CONNECT_TIMEOUT if timeout is None else timeout
    try:
        return distributed.Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise SchedulerUnreachable(
            f"no Dask scheduler answered at {address} within {timeout:g} s ({type(exc).__name__})"
        ) from None


def run_chunks(
    worker: Callable,
    tasks: Sequence[tuple],
    *,
    jobs: int = 1,
    scheduler: str | None = None,
    desc: str = "simulate",
) -> list:
    """``[worker(*task) for task in tasks]``, in chunk order, on ``scheduler``, with progress.

    ``scheduler`` is ``'serial'``, ``'local'`` (a LocalCluster of ``jobs`` processes) or
    ``'tcp://HOST:PORT'``; ``None`` picks serial for ``jobs=1`` and local otherwise.  The
    progress bar (tqdm on stderr) counts chunks as they finish and is silent when stderr
    is not a terminal.  ``worker`` must be a module-level function (it is pickled).

    Parameters
    ----------
    worker : callable
        A module-level function (pickled for Dask).
    tasks : sequence of tuple
        The argument tuples, one per chunk.
    jobs : int, optional
        Processes of a local cluster.
    scheduler : str, optional
        Where the chunks run (see :func:`resolve_scheduler`).
    desc : str, optional
        The progress bar's label.

    Returns
    -------
    list
        The results, in task order.

    Examples
    --------
    >>> run_chunks(divmod, [(7, 2), (9, 4)], scheduler="serial")
    [(3, 1), (2, 1)]
    """
    from tqdm import tqdm

    jobs = positive_int("jobs", jobs)
    scheduler = resolve_scheduler(scheduler, jobs)
    if scheduler != "serial":
        _import_distributed()
    bar = tqdm(total=len(tasks), desc=desc, unit="chunk", disable=None, leave=False)
    try:
        if scheduler == "serial" or (scheduler == "local" and len(tasks) == 1):
            return _serial(worker, tasks, bar)  # one chunk: a cluster would only cost time
        if scheduler == "local":
            import logging

            from distributed import Client, LocalCluster

            with (
                LocalCluster(
                    n_workers=min(jobs, len(tasks)),
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address=":0",
                    silence_logs=logging.ERROR,
                ) as cluster,
                Client(cluster, set_as_default=False) as client,
            ):
                return _on_dask(client, worker, tasks, bar)
        with connect(scheduler) as client:
            return _on_dask(client, worker, tasks, bar)
    finally:
        bar.close()
