"""Union-find on integer labels: the one helper for index loops and vertex components.

Index strands of a Wick pairing (:mod:`nnqft.diagrams.network`,
:mod:`nnqft.derive.loops.linear`), O(N) strands of vertex tensors
(:mod:`nnqft.diagrams.on_tensor`) and connected vertex sets (:mod:`nnqft.diagrams.phi4`)
all ask the same question: into how many classes do these identifications split a set of
labels?  The forest is a plain list (``parent[r] == r`` at a root, paths halved on the
way), so it is copied with ``list(parent)`` when a search branches.  networkx has a
general one, :class:`networkx.utils.UnionFind` (any hashable, union by weight); on the
hot path of ``nnqft diagrams`` (the loop number of every phi^4 diagram) the list is about
4x faster than it (``python benchmarks/bench_unionfind.py`` prints both), so this one
stays, and every module imports it from here.

>>> parent = list(range(5))
>>> join(parent, 0, 1); join(parent, 3, 1)
>>> n_classes(parent)                       # {0, 1, 3}, {2}, {4}
3
>>> n_classes(parent, [0, 3, 4])            # classes met by these labels
2
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["find_root", "join", "n_classes"]


def find_root(parent: list[int], i: int) -> int:
    """The representative of the class of ``i``.

    Parameters
    ----------
    parent : list of int
        The forest: ``parent[i]`` is the parent of label ``i``, ``parent[r] == r`` at a root.
        Paths are halved in place.
    i : int
        A label, ``0 <= i < len(parent)``.

    Returns
    -------
    int
        The root of ``i``'s tree.

    Examples
    --------
    >>> parent = [0, 0, 1]
    >>> find_root(parent, 2)
    0
    """
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


def join(parent: list[int], i: int, j: int) -> None:
    """Merge the classes of ``i`` and ``j`` (in place).

    Parameters
    ----------
    parent : list of int
        The forest (see :func:`find_root`).
    i, j : int
        Two labels.

    Examples
    --------
    >>> parent = list(range(3))
    >>> join(parent, 2, 0)
    >>> find_root(parent, 2) == find_root(parent, 0)
    True
    """
    parent[find_root(parent, i)] = find_root(parent, j)


def n_classes(parent: list[int], labels: Iterable[int] | None = None) -> int:
    """The number of classes that ``labels`` (default: every label) fall into.

    Parameters
    ----------
    parent : list of int
        The forest (see :func:`find_root`).
    labels : iterable of int, optional
        The labels whose classes are counted.

    Returns
    -------
    int
        The number of distinct roots among ``labels``.

    Examples
    --------
    >>> n_classes([0, 0, 2, 2, 4])
    3
    >>> n_classes([0, 0, 2], [0, 1])
    1
    """
    if labels is None:
        labels = range(len(parent))
    return len({find_root(parent, i) for i in labels})
