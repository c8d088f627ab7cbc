"""The diagrams of the linear network: pairings of W's with their index loops.

Conventions: docs/conventions.md §4.

For phi(z) = z the field z(T) is a sum of words ``W(t_k) ... W(t_1) v`` (v = the input x or
a bias vector b), so a moment of ``Q(T) = |z(T)|^2/N`` is a sum of Gaussian averages of
products of W's.  Averaging pairs the W's (Wick): each pair is one double-trace vertex
``(sigma_w2/2N)(zt.zt)(z.z)`` of the MSRDJ theory, the response lines are the letters'
neighbours along a word, and the Kronecker deltas close neuron-index loops, each worth N.
This is the 't Hooft double-line picture of real Gaussian matrices: a pair of a W with a
W^T (a "rung" between the two factors of a dot product) is untwisted, a pair of two W's in
the same factor is twisted (non-orientable), which is why odd powers of 1/N appear.

Two families of diagrams are built here, both as ``networkx.MultiGraph`` in the
conventions of :mod:`nnqft.diagrams`:

* :func:`network_diagrams` -- every diagram of ``E Q(T)`` at a given depth and order
  (number of vertices), with fixed time labels on the W insertions, deduplicated by
  :func:`~nnqft.diagrams.canonical_id` up to the symmetry that exchanges the two (identical)
  factors of ``z(T).z(T)``; each carries its multiplicity and its power of N.
* :func:`trace_diagrams` -- the *reduced* (ladder-free) chord diagrams of the moments
  ``M(k, m) = (1/N) E tr[(W^T)^k W^m]`` up to a given power of 1/N.  A maximal ladder of
  parallel pairs (two pairs bounding a face of two index corners) is one reduced chord
  with a multiplicity; every pairing of every word is one reduced diagram with one choice
  of multiplicities.  A reduced diagram at order 1/N^d has at most 2d + 1 chords
  (:func:`max_chords`), so there are finitely many, and their chord types (pairs within
  the first factor, across, within the second) are what
  the closed forms of :mod:`nnqft.derive.loops.amplitudes` sum over.

>>> [d.types for d in trace_diagrams(0)]      # the empty word and the planar rung
[(0, 0, 0), (0, 1, 0)]
>>> sorted((d.types, d.deficit) for d in trace_diagrams(1) if d.deficit == 1)[:3]
[((0, 0, 1), 1), ((0, 1, 1), 1), ((0, 1, 1), 1)]
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction

import networkx as nx

from ..errors import InvalidParameter, InvalidType
from . import canonical_id
from .unionfind import join, n_classes

__all__ = [
    "ChordDiagram",
    "trace_diagrams",
    "NetworkDiagram",
    "network_diagrams",
    "MAX_TRACE_DEFICIT",
    "max_chords",
    "face_count",
    "add_lines_and_pairs",
]

#: the highest power of 1/N whose reduced diagrams :func:`trace_diagrams` will enumerate
#: (order 3: words of up to 14 letters, 2 x :func:`max_chords`; order 4 would be 18)
MAX_TRACE_DEFICIT = 3


def max_chords(deficit: int) -> int:
    """The most chords a reduced diagram of order 1/N^deficit can have: 2 deficit + 1
    (and 1 at deficit 0, the rung).

    Why: give each letter a row slot and a column slot.  Gap p (the index r_p) joins the
    row slot of one neighbouring letter to the column slot of the other, except at the two
    marked gaps (0: column-column, k: row-row); a chord joins row slot to row slot and
    column to column.  An index loop (face) is a cycle alternating gap and chord edges, and
    only unmarked gaps flip row <-> column, so a face without a marked gap has an even
    number of corners.  Reduced diagrams have no two-corner faces outside the marked ones
    (ladders), so every unmarked face has >= 4 of the 2c corners, the marked faces >= 1
    each: 2c >= 4(F - 2) + 2, and with F = c + 1 - d this is c <= 2d + 1.

    >>> [max_chords(d) for d in range(4)]
    [1, 3, 5, 7]
    """
    return 2 * deficit + 1


def add_lines_and_pairs(g: nx.MultiGraph, chains, chords) -> nx.MultiGraph:
    """Add to ``g`` the directed response lines along each chain of nodes (source first) and
    an undirected ``disorder`` edge per W pair; returns ``g``.

    >>> g = add_lines_and_pairs(nx.MultiGraph(), [["E", 0, 1, "J"]], [(0, 1)])
    >>> sorted(k for _, _, k in g.edges(data="kind"))
    ['disorder', 'response', 'response', 'response']
    """
    for chain in chains:
        for u, v in zip(chain, chain[1:]):
            g.add_edge(u, v, kind="response", directed=True, head=v)
    for p, q in chords:
        g.add_edge(p, q, kind="disorder")
    return g


def face_count(n: int, k: int, partner) -> int:
    """Number of index loops (faces) of a pairing of the cyclic word ``(W^T)^k W^(n-k)``.

    Letter p has row index r_p and column index r_(p+1); it is ``W[r_(p+1), r_p]`` for
    ``p < k`` (a W^T) and ``W[r_p, r_(p+1)]`` otherwise; a pair identifies first indices
    and second indices (E W_ab W_cd = (sigma_w2/N) d_ac d_bd).

    >>> face_count(2, 1, [1, 0])        # tr(W^T W) = sum W_ab^2: two loops
    2
    >>> face_count(2, 2, [1, 0])        # tr(W^T W^T) = tr(W W): one loop (twisted)
    1
    """
    if n == 0:
        return 1
    parent = list(range(n))
    for p in range(n):
        q = partner[p]
        if q < p:
            continue
        pa = ((p + 1) % n, p) if p < k else (p, (p + 1) % n)
        qa = ((q + 1) % n, q) if q < k else (q, (q + 1) % n)
        join(parent, pa[0], qa[0])
        join(parent, pa[1], qa[1])
    return n_classes(parent)


@dataclass(frozen=True)
class ChordDiagram:
    """A reduced pairing of the cyclic word ``(W^T)^k W^m`` (positions 0..k+m-1).

    Positions ``0..k-1`` are the first factor's W's (from the source to the readout),
    ``k..k+m-1`` the second factor's (from the readout back to the source).  ``chords``
    are the pairs ``(p, q)``, ``p < q``.  Its value is ``sigma_w2^chords N^-deficit`` per
    choice of ladder multiplicities.
    """

    k: int
    m: int
    chords: tuple[tuple[int, int], ...]
    faces: int

    @property
    def deficit(self) -> int:
        """The power of 1/N: chords + 1 - faces (2 - Euler characteristic of the surface)."""
        return len(self.chords) + 1 - self.faces

    @property
    def types(self) -> tuple[int, int, int]:
        """(pairs within the first factor, pairs across, pairs within the second factor)."""
        a = sum(1 for p, q in self.chords if q < self.k)
        c = sum(1 for p, q in self.chords if p >= self.k)
        return a, len(self.chords) - a - c, c

    def graph(self) -> nx.MultiGraph:
        """The diagram: W insertions joined by directed response lines from the source
        ``'E'`` to the readout ``'J'`` and by undirected ``'disorder'`` edges (the pairs)."""
        n = self.k + self.m
        g = nx.MultiGraph()
        g.add_node("E", kind="leg", leg="source")
        g.add_node("J", kind="leg", leg="readout")
        for p in range(n):
            g.add_node(p, kind="vertex", vertex="W")
        chain_a = ["E", *range(self.k), "J"]
        chain_b = ["E", *range(n - 1, self.k - 1, -1), "J"]
        return add_lines_and_pairs(g, (chain_a, chain_b), self.chords)

    @property
    def id(self) -> str:
        """The canonical id of :meth:`graph`."""
        return canonical_id(self.graph())


def _reduced_pairings(n: int, k: int) -> Iterator[list[int]]:
    """Pairings of the cyclic word of length n with no two parallel (ladder) pairs.

    Two pairs are parallel when they bound a face of two corners that holds neither the
    source gap (0) nor the readout gap (k): untwisted (p-1, q+1), (p, q) across the
    factors, twisted (p-1, q-1), (p, q) within one factor.
    """
    partner = [-1] * n
    marked = {0, k % n} if n else set()

    def rec(p: int):
        while p < n and partner[p] != -1:
            p += 1
        if p == n:
            yield list(partner)
            return
        for q in range(p + 1, n):
            if partner[q] != -1:
                continue
            if p >= 1 and p not in marked:
                prev = partner[p - 1]
                twisted = (p < k) == (q < k)
                if not twisted and prev == q + 1 and (q + 1) % n not in marked:
                    continue
                if twisted and prev == q - 1 and q not in marked:
                    continue
            partner[p], partner[q] = q, p
            yield from rec(p + 1)
            partner[p], partner[q] = -1, -1

    yield from rec(0)


def _mirror(d: ChordDiagram) -> ChordDiagram:
    """The transposed word: tr[(W^T)^k W^m] = tr[(W^T)^m W^k], position p -> n-1-p."""
    n = d.k + d.m
    chords = tuple(sorted(tuple(sorted((n - 1 - p, n - 1 - q))) for p, q in d.chords))
    return ChordDiagram(d.m, d.k, chords, d.faces)


@functools.lru_cache(maxsize=8)
def trace_diagrams(max_deficit: int, progress: bool = False) -> tuple[ChordDiagram, ...]:
    """Every reduced chord diagram of the moments M(k, m) up to order 1/N^max_deficit.

    Enumerates pairings of words of up to 2 :func:`max_chords` letters with ladders pruned
    as they are built (halved by the transpose symmetry k <-> m) and keeps those with deficit <= d.

    >>> len(trace_diagrams(1))
    10
    """
    from ..rules.network import check_order

    check_order(
        max_deficit, MAX_TRACE_DEFICIT, what="the diagram engine of the recurrent linear network"
    )
    from tqdm import tqdm

    sizes = [(2 * e, k) for e in range(max_chords(max_deficit) + 1) for k in range(e + 1)]
    found: list[ChordDiagram] = []
    bar = tqdm(sizes, desc="reduced diagrams", disable=None if progress else True, leave=False)
    for n, k in bar:
        for partner in _reduced_pairings(n, k):
            faces = face_count(n, k, partner)
            chords = tuple((p, q) for p, q in enumerate(partner) if q > p)
            if len(chords) + 1 - faces > max_deficit:
                continue
            d = ChordDiagram(k, n - k, chords, faces)
            found.append(d)
            if 2 * k != n:
                found.append(_mirror(d))
    found.sort(key=lambda d: (d.deficit, len(d.chords), d.k, d.chords))
    return tuple(found)


# --- the full diagrams of E Q(T) at small depth ----------------------------------------


@dataclass(frozen=True)
class NetworkDiagram:
    """One diagram of ``E Q(T)``: its graph, id, multiplicity and value.

    ``value`` is the contribution of all ``multiplicity`` pairings with this id:
    ``multiplicity * sigma_w2^order * N^n_power * (q0 or sigma_b2)``.
    """

    id: str
    graph: nx.MultiGraph
    order: int
    n_power: int
    source: str
    multiplicity: int

    @property
    def symmetry_factor(self) -> Fraction:
        """Multiplicity relative to the 2 orderings of the two factors of z(T).z(T)."""
        return Fraction(self.multiplicity, 2)

    def to_dict(self) -> dict:
        """The JSON entry of ``nnqft diagrams --model linear-...`` (the CLI contract)."""
        return {
            "id": self.id,
            "edges": [[str(u), str(v)] for u, v in self.graph.edges()],
            "symmetry_factor": str(self.symmetry_factor),
            "n_power": self.n_power,
            "source": self.source,
            "multiplicity": self.multiplicity,
        }


def network_diagrams(net, order: int) -> list[NetworkDiagram]:
    """The diagrams of ``E Q(T)`` with ``order`` vertices (W pairs) for the linear network
    ``net`` (a :class:`~nnqft.rules.network.Network` with an integer depth T), feedforward or
    recurrent, each with its power of N; their sum is the sigma_w2^order part of E Q.

    A feedforward W pairs only with the W of its own layer (K(t,s) = delta_ts), a
    recurrent W with any (K = 1).  Nodes carry the fixed time of the W insertion; the two
    factors of z(T).z(T) are not labelled, so mirror images share one id.

    >>> from nnqft.rules.network import Network
    >>> ds = network_diagrams(Network("feedforward", depth=2), 1)
    >>> [(d.order, d.n_power, d.multiplicity) for d in ds]
    [(1, 0, 1)]
    """
    from ..rules.network import Network, check_order

    if not isinstance(net, Network):
        raise InvalidType(f"network_diagrams takes a Network, got {net!r}")
    if not isinstance(net.depth, int):
        raise InvalidParameter(f"the diagrams need an integer depth T, got {net.depth}")
    order = check_order(order)
    arch, bias, depth = net.arch, net.bias, net.depth
    # words: (source, injection time); the word's letters act at times t0+1 .. depth
    words = [("x", 0)] + [("b", t) for t in range(1, depth + 1)]
    found: dict[str, list] = {}
    for sa, ta in words:
        for sb, tb in words:
            if sa != sb:
                continue
            if sa == "b" and ta != tb and (arch == "feedforward" or bias == "fresh"):
                continue
            k, m = depth - ta, depth - tb
            if k + m != 2 * order:
                continue
            times = list(range(ta + 1, depth + 1)) + list(range(depth, tb, -1))
            n = k + m
            for partner in _all_pairings(n):
                if arch == "feedforward" and any(times[p] != times[q] for p, q in partner):
                    continue
                mate = [0] * n
                for p, q in partner:
                    mate[p], mate[q] = q, p
                faces = face_count(n, k, mate)
                g = _network_graph(sa, times, k, partner)
                key = canonical_id(g)
                entry = found.setdefault(key, [g, faces - order - 1, sa, 0])
                entry[3] += 1
    out = [
        NetworkDiagram(key, g, order, power, "q0" if src == "x" else "sigma_b2", mult)
        for key, (g, power, src, mult) in found.items()
    ]
    out.sort(key=lambda d: (-d.n_power, d.source, d.id))
    return out


def _all_pairings(n: int):
    def rec(items):
        if not items:
            yield []
            return
        first, rest = items[0], items[1:]
        for i, other in enumerate(rest):
            for tail in rec(rest[:i] + rest[i + 1 :]):
                yield [(first, other), *tail]

    yield from rec(list(range(n)))


def _network_graph(source: str, times: list[int], k: int, partner) -> nx.MultiGraph:
    n = len(times)
    g = nx.MultiGraph()
    g.add_node("J", kind="leg", leg="readout")
    ends = ("Ea", "Eb")
    for e in ends:
        g.add_node(e, kind="source", source=source)
    if source == "b":
        g.add_edge("Ea", "Eb", kind="correlator")
    for p in range(n):
        g.add_node(p, kind="vertex", vertex="W", time=times[p])
    for chain in (["Ea", *range(k), "J"], ["Eb", *range(n - 1, k - 1, -1), "J"]):
        for u, v in zip(chain, chain[1:]):
            g.add_edge(u, v, kind="response", directed=True, head=v)
    for p, q in partner:
        g.add_edge(p, q, kind="disorder")
    return g
