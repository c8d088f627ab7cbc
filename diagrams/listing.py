"""Listings of diagrams: the entries, counts and sums that ``nnqft diagrams`` prints.

Every diagram value object here follows one protocol, :class:`DiagramValue`: an exact
``id``, a ``symmetry_factor`` (a Fraction) and ``to_dict()``, its JSON entry.  The phi^4
diagrams (:class:`nnqft.diagrams.phi4.Diagram`) also carry their O(N) factor, summed by
:func:`phi4_summary`; :func:`write_json` writes a whole listing diagram by diagram, so
that a large order is never held in memory as one JSON text.

>>> from nnqft.diagrams.phi4 import generate_diagrams
>>> phi4_summary(generate_diagrams(2, 1, connected=True), legs=2)     # the tadpole
{'count': 1, 'sum_symmetry_factors': '1/2', 'sum_symmetry_times_n_factor': '(N + 2)/6'}
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from fractions import Fraction
from typing import IO, Protocol, runtime_checkable

__all__ = ["DiagramValue", "phi4_summary", "listing", "write_json"]


@runtime_checkable
class DiagramValue(Protocol):
    """What a diagram of any model offers a listing."""

    id: str

    @property
    def symmetry_factor(self) -> Fraction: ...

    def to_dict(self) -> dict: ...


def phi4_summary(diagrams: Iterable, legs: int, *, channels: bool = False, write=None) -> dict:
    """The sums of phi^4 diagrams in one pass.

    Parameters
    ----------
    diagrams : iterable of Diagram
        phi^4 diagrams (:func:`nnqft.diagrams.phi4.iter_diagrams`).
    legs : int
        Their number of external legs.
    channels : bool, optional
        With 4 legs, also the sums per channel [A, B, C].
    write : callable, optional
        ``write(entry)`` receives each diagram's JSON entry.

    Returns
    -------
    dict
        ``count``, ``sum_symmetry_factors``, ``sum_symmetry_times_n_factor`` (and
        ``channels``), as JSON-ready values.

    Examples
    --------
    >>> from nnqft.diagrams.phi4 import generate_diagrams
    >>> phi4_summary(generate_diagrams(2, 1, connected=True), 2)["sum_symmetry_factors"]
    '1/2'
    """
    from .polystr import factor_string

    count = 0
    total = Fraction(0)
    weighted: dict = {}
    per_channel: list[dict] = [{}, {}, {}]
    channels = channels and legs == 4
    for d in diagrams:
        count += 1
        s = d.symmetry_factor
        total += s
        for p, c in d.n_factor.items():
            weighted[p] = weighted.get(p, 0) + s * c
        if channels:
            for acc, poly in zip(per_channel, d.n_factor_channels):
                for p, c in poly.items():
                    acc[p] = acc.get(p, 0) + s * c
        if write is not None:
            write(d.to_dict())
    out = {
        "count": count,
        "sum_symmetry_factors": str(total),
        "sum_symmetry_times_n_factor": factor_string(weighted),
    }
    if channels:
        out["sum_symmetry_times_n_factor_channels"] = [factor_string(p) for p in per_channel]
    return out


def listing(diagrams: Iterable[DiagramValue], write=None) -> dict:
    """Count and sum of symmetry factors of any diagrams.

    Parameters
    ----------
    diagrams : iterable of DiagramValue
        Values with ``to_dict`` and ``symmetry_factor``.
    write : callable, optional
        ``write(entry)`` receives each diagram's JSON entry.

    Returns
    -------
    dict
        ``count`` and ``sum_symmetry_factors`` (a string fraction).

    Examples
    --------
    >>> from nnqft.diagrams.network import network_diagrams
    >>> from nnqft.rules.network import Network
    >>> listing(network_diagrams(Network("recurrent", depth=2), 1))
    {'count': 1, 'sum_symmetry_factors': '1/2'}
    """
    count, total = 0, Fraction(0)
    for d in diagrams:
        count += 1
        total += d.symmetry_factor
        if write is not None:
            write(d.to_dict())
    return {"count": count, "sum_symmetry_factors": str(total)}


def write_json(
    out: IO[str], head: dict, diagrams: Iterable, summary: Callable[..., dict] = listing
) -> None:
    """Write ``{**head, "diagrams": [...], **summary(diagrams)}`` as one line of JSON,
    diagram by diagram: the same text as ``json.dumps`` of the whole object, without
    holding it.

    Parameters
    ----------
    out : text stream
        Where the line goes.
    head : dict
        The keys before the diagrams.
    diagrams : iterable
        The diagrams, consumed once.
    summary : callable, optional
        ``summary(diagrams, write=...)`` passes each entry to ``write`` and returns the
        keys after the diagrams (default :func:`listing`).

    Examples
    --------
    >>> import functools, io
    >>> from nnqft.diagrams.phi4 import generate_diagrams
    >>> buffer = io.StringIO()
    >>> summary = functools.partial(phi4_summary, legs=2)
    >>> write_json(buffer, {"legs": 2}, generate_diagrams(2, 0), summary)
    >>> json.loads(buffer.getvalue())["count"]
    1
    """
    dumps = json.JSONEncoder().encode
    chunk: list[str] = []
    sep = [""]

    def write(entry: dict) -> None:
        chunk.append(sep[0] + dumps(entry))
        sep[0] = ", "
        if len(chunk) >= 512:
            out.write("".join(chunk))
            chunk.clear()

    out.write(dumps(head)[:-1] + ', "diagrams": [')
    sums = summary(diagrams, write=write)
    out.write("".join(chunk) + "], " + dumps(sums)[1:] + "\n")
    out.flush()
