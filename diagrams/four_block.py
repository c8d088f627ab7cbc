"""Reduced chord diagrams of the variance of Q(T) for the recurrent linear network.

Conventions: docs/conventions.md §4-5.

With Gaussian sources (the input replaced by a vector uniform on its sphere, see
:mod:`nnqft.derive.loops.variance`) ``z(T)`` is Gaussian given ``W``, with covariance
``C = sum_{a,b} W^a <v_a v_b^T> (W^T)^b``, and

    Var Q = (2/N^2) E tr C^2 + (1/N^2) Var tr C - (4-x correction).

The first term is a sum of moments of the **one-trace** four-block word
``tr[(W^T)^a0 W^a1 (W^T)^a2 W^a3]`` (sources between blocks 3|0 and 1|2, readouts between
0|1 and 2|3), the second of the connected moments of the **two-trace** word
``tr[(W^T)^a0 W^a1] tr[(W^T)^a2 W^a3]`` (one source and one readout per trace).  The
diagrams are the Wick pairings of their letters, reduced as in
:func:`nnqft.diagrams.network.trace_diagrams`: every maximal ladder of parallel pairs (two
pairs bounding an index loop of two corners, neither a block boundary) is one chord with
a multiplicity, so a diagram stands for every pairing obtained by replacing each chord by
a ladder of L >= 1 parallel pairs (:meth:`BlockDiagram.expand`).

Letters carry row and column indices: position p with index r_p before it (in its cycle),
a ``W^T`` letter is ``W[r_(p+1), r_p]``, a ``W`` letter ``W[r_p, r_(p+1)]``; a pair
identifies first with first and second with second index.  The power of N of a diagram:
``(1/N) E tr`` of the one-trace word carries ``N^-(c + 1 - F)``, the connected
``E tr tr`` of the two-trace word ``N^-(c - F)`` (c chords, F faces): its ``deficit``.
Reduced diagrams are finite in number: the four block boundaries bound the faces that
may have fewer than four corners, so ``c <= 2 d + 4`` (one trace) and ``c <= 2 d + 6``
(two traces) at deficit d (:func:`max_block_chords`).

>>> [(d.blocks, d.chords) for d in block_diagrams("one-trace", 0)][:2]
[((0, 0, 0, 0), ()), ((0, 0, 1, 1), ((0, 1),))]
>>> len(block_diagrams("one-trace", 0)), len(block_diagrams("two-trace", 0))
(16, 160)
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import networkx as nx

from ..errors import InvalidParameter
from . import canonical_id
from .network import add_lines_and_pairs
from .unionfind import join, n_classes

__all__ = [
    "WORDS",
    "KINDS",
    "BLOCK_PAIRS",
    "BlockDiagram",
    "block_diagrams",
    "max_block_chords",
    "word_layout",
    "pairing_faces",
    "MAX_BLOCK_DEFICIT",
]

#: the two word shapes: one cyclic word of four blocks, two cyclic words of two blocks
WORDS = ("one-trace", "two-trace")
#: the letter of each block: W^T, W, W^T, W
KINDS = ("T", "W", "T", "W")
#: the chord types: the unordered pairs of blocks a chord joins, in this order
BLOCK_PAIRS = tuple((i, j) for i in range(4) for j in range(i, 4))
#: the highest deficit :func:`block_diagrams` enumerates
MAX_BLOCK_DEFICIT = 1


def max_block_chords(word: str, deficit: int) -> int:
    """The most chords a reduced diagram of ``word`` at ``deficit`` can have.

    Faces without a block boundary have an even number of corners (only gaps inside a
    block turn a row index into a column index) and at least four (two would be a
    ladder); at most four faces hold a boundary, so 2c >= 4 F - 12, with F = c + 1 - d
    (one trace) or F = c - d (two traces).

    >>> max_block_chords("one-trace", 1), max_block_chords("two-trace", 0)
    (6, 6)
    """
    _check_word(word)
    return 2 * deficit + (4 if word == "one-trace" else 6)


def _check_word(word):
    if word not in WORDS:
        raise InvalidParameter(f"unknown word {word!r}; known: {', '.join(WORDS)}")


@dataclass(frozen=True)
class Layout:
    """Positions of a word: kind and block of each letter, its cycle neighbours, the index
    variable of the gap before it, and which gaps are block boundaries (marked)."""

    kinds: tuple
    block: tuple
    nxt: tuple
    prv: tuple
    marked: frozenset
    empty_cycles: int
    cycle: tuple


@functools.lru_cache(maxsize=4096)
def word_layout(word: str, blocks: tuple) -> Layout:
    """The :class:`Layout` of ``word`` with block lengths ``blocks``.

    >>> lay = word_layout("two-trace", (1, 1, 1, 0))
    >>> lay.nxt, sorted(lay.marked)
    ((1, 0, 2), [0, 1, 2])
    """
    _check_word(word)
    cycles = [[0, 1, 2, 3]] if word == "one-trace" else [[0, 1], [2, 3]]
    starts = [sum(blocks[:i]) for i in range(4)]
    kinds, block = [], []
    for i, a in enumerate(blocks):
        kinds += [KINDS[i]] * a
        block += [i] * a
    n = len(kinds)
    nxt, prv = [0] * n, [0] * n
    marked = set()
    empty = 0
    cycle = [0 if word == "one-trace" or b < 2 else 1 for b in block]
    for cyc in cycles:
        pos = [p for i in cyc for p in range(starts[i], starts[i] + blocks[i])]
        if not pos:
            empty += 1
            continue
        for j, p in enumerate(pos):
            nxt[p] = pos[(j + 1) % len(pos)]
            prv[p] = pos[j - 1]
        for j in range(len(cyc)):  # the boundary before block cyc[j]: its first letter
            later = [starts[c] for c in cyc[j:] + cyc[:j] if blocks[c]]
            marked.add(later[0])
    return Layout(
        tuple(kinds), tuple(block), tuple(nxt), tuple(prv), frozenset(marked), empty, tuple(cycle)
    )


def _slots(lay: Layout, p: int) -> tuple[int, int]:
    """(first, second) index variable of letter p (variable r_q is numbered q)."""
    return (lay.nxt[p], p) if lay.kinds[p] == "T" else (p, lay.nxt[p])


def pairing_faces(lay: Layout, partner) -> tuple[int, dict]:
    """The number of index loops of a pairing and the corners (gaps) of each.

    >>> lay = word_layout("one-trace", (1, 1, 0, 0))     # tr(W^T W)
    >>> pairing_faces(lay, [1, 0])[0]
    2
    """
    n = len(partner)
    parent = list(range(n))
    for p in range(n):
        q = partner[p]
        if q > p:
            fp, fq = _slots(lay, p), _slots(lay, q)
            join(parent, fp[0], fq[0])
            join(parent, fp[1], fq[1])
    from .unionfind import find_root

    corners: dict = {}
    for g in range(n):
        corners.setdefault(find_root(parent, g), []).append(g)
    return n_classes(parent) + lay.empty_cycles, corners


def _parallel(lay: Layout, P: int, Q: int, Q1: int) -> bool:
    """Chords (P, Q) and (next(P), Q1), the gap between P and next(P) unmarked: do they
    bound a face of two unmarked corners (a ladder)?"""
    if lay.kinds[P] == lay.kinds[Q]:
        return Q1 == lay.nxt[Q] and Q1 not in lay.marked
    return Q1 == lay.prv[Q] and Q not in lay.marked


def _creates_ladder(lay: Layout, partner, p: int, q: int) -> bool:
    for e, f in ((p, q), (q, p)):
        nb = lay.nxt[e]  # chords (e, f) and (nb, partner[nb])
        if nb not in lay.marked and nb != e and partner[nb] != -1 and nb != f:
            if _parallel(lay, e, f, partner[nb]):
                return True
        pb = lay.prv[e]  # chords (pb, partner[pb]) and (e, f)
        if e not in lay.marked and pb != e and partner[pb] != -1 and pb != f:
            if _parallel(lay, pb, partner[pb], f):
                return True
    return False


def _partial_deficit(lay: Layout, partner, base: int) -> int:
    """A lower bound on the deficit of every completion of a partial pairing: the deficit
    of the pairing with its unpaired letters deleted (deleting a pair never raises it)."""
    n = len(partner)
    parent = list(range(n))
    chords = 0
    for p in range(n):
        q = partner[p]
        if q == -1:
            join(parent, p, lay.nxt[p])
        elif q > p:
            chords += 1
            fp, fq = _slots(lay, p), _slots(lay, q)
            join(parent, fp[0], fq[0])
            join(parent, fp[1], fq[1])
    bound = chords + base - n_classes(parent) - lay.empty_cycles
    if base == 0 and not any(lay.cycle[p] != lay.cycle[q] for p, q in enumerate(partner) if q > p):
        bound += 2  # two traces not joined yet: a connected completion has 2 more
    return bound


def _reduced_pairings(lay: Layout, max_deficit: int, base: int):
    n = len(lay.kinds)
    partner = [-1] * n

    def rec(p: int):
        while p < n and partner[p] != -1:
            p += 1
        if p == n:
            yield list(partner)
            return
        for q in range(p + 1, n):
            if partner[q] != -1:
                continue
            partner[p], partner[q] = q, p
            if not _creates_ladder(lay, partner, p, q) and (
                _partial_deficit(lay, partner, base) <= max_deficit
            ):
                yield from rec(p + 1)
            partner[p], partner[q] = -1, -1

    yield from rec(0)


@dataclass(frozen=True)
class BlockDiagram:
    """A reduced pairing of a word (:data:`WORDS`) with block lengths ``blocks``.

    ``chords`` are pairs ``(p, q)``, ``p < q``, of positions in the concatenated blocks;
    ``faces`` its index loops.  It stands for every pairing with each chord replaced by
    a ladder of L >= 1 parallel pairs, each worth ``sigma_w2^(pairs) N^-deficit``.
    """

    word: str
    blocks: tuple
    chords: tuple
    faces: int

    @property
    def deficit(self) -> int:
        """The power of 1/N of its moment (see the module docstring)."""
        return len(self.chords) + (1 if self.word == "one-trace" else 0) - self.faces

    @property
    def types(self) -> tuple:
        """Chords per block pair, in the order of :data:`BLOCK_PAIRS`."""
        lay = word_layout(self.word, self.blocks)
        count = dict.fromkeys(BLOCK_PAIRS, 0)
        for p, q in self.chords:
            i, j = sorted((lay.block[p], lay.block[q]))
            count[(i, j)] += 1
        return tuple(count[t] for t in BLOCK_PAIRS)

    def expand(self, lengths) -> tuple[tuple, tuple]:
        """The pairing with chord i replaced by a ladder of ``lengths[i]`` pairs: returns
        (block lengths, partner list).

        >>> d = BlockDiagram("one-trace", (1, 1, 0, 0), ((0, 1),), 2)
        >>> d.expand([3])
        ((3, 3, 0, 0), [5, 4, 3, 2, 1, 0])
        """
        lay = word_layout(self.word, self.blocks)
        copies = [1] * len(lay.kinds)
        for (p, q), m in zip(self.chords, lengths):
            copies[p] = copies[q] = m
        first, pos = [], 0
        for c in copies:
            first.append(pos)
            pos += c
        blocks = [0, 0, 0, 0]
        for p, c in enumerate(copies):
            blocks[lay.block[p]] += c
        partner = [-1] * pos
        for (p, q), m in zip(self.chords, lengths):
            same = lay.kinds[p] == lay.kinds[q]
            for i in range(m):
                a, b = first[p] + i, first[q] + (i if same else m - 1 - i)
                partner[a], partner[b] = b, a
        return tuple(blocks), partner

    def graph(self) -> nx.MultiGraph:
        """The diagram: W insertions on directed response lines from the sources ``S0``,
        ``S1`` to the readouts ``R0``, ``R1`` (one line per block), pairs as
        ``disorder`` edges."""
        g = nx.MultiGraph()
        for name in ("S0", "S1"):
            g.add_node(name, kind="leg", leg="source")
        for name in ("R0", "R1"):
            g.add_node(name, kind="leg", leg="readout")
        lay = word_layout(self.word, self.blocks)
        for p in range(len(lay.kinds)):
            g.add_node(p, kind="vertex", vertex="W")
        ends = (
            [("S0", "R0"), ("S1", "R0"), ("S1", "R1"), ("S0", "R1")]
            if self.word == "one-trace"
            else [("S0", "R0"), ("S0", "R0"), ("S1", "R1"), ("S1", "R1")]
        )
        start, chains = 0, []
        for i, a in enumerate(self.blocks):
            letters = list(range(start, start + a))
            start += a
            if KINDS[i] == "W":  # a W block is read from the source backwards
                letters.reverse()
            chains.append([ends[i][0], *letters, ends[i][1]])
        return add_lines_and_pairs(g, chains, self.chords)

    @property
    def id(self) -> str:
        """The canonical id of :meth:`graph`."""
        return canonical_id(self.graph())


def _compositions(n: int, parts: int):
    if parts == 1:
        yield (n,)
        return
    for first in range(n + 1):
        for rest in _compositions(n - first, parts - 1):
            yield (first, *rest)


@functools.lru_cache(maxsize=8)
def block_diagrams(word: str, max_deficit: int) -> tuple[BlockDiagram, ...]:
    """Every reduced diagram of ``word`` ('one-trace' or 'two-trace', connected) with
    deficit <= ``max_deficit`` (at most :data:`MAX_BLOCK_DEFICIT`).

    >>> sorted({d.deficit for d in block_diagrams("one-trace", 1)})
    [0, 1]
    """
    from ..rules.network import check_order

    _check_word(word)
    check_order(max_deficit, MAX_BLOCK_DEFICIT, what="the four-block diagrams")
    found = []
    for c in range(max_block_chords(word, max_deficit) + 1):
        for blocks in _compositions(2 * c, 4):
            if word == "two-trace" and (blocks[0] + blocks[1] == 0 or blocks[2] + blocks[3] == 0):
                continue
            lay = word_layout(word, blocks)
            cut = blocks[0] + blocks[1]
            base = 1 if word == "one-trace" else 0
            for partner in _reduced_pairings(lay, max_deficit, base):
                chords = tuple((p, q) for p, q in enumerate(partner) if q > p)
                if word == "two-trace" and not any(p < cut <= q for p, q in chords):
                    continue
                faces, _ = pairing_faces(lay, partner)
                d = BlockDiagram(word, blocks, chords, faces)
                if d.deficit <= max_deficit:
                    found.append(d)
    found.sort(key=lambda d: (d.deficit, len(d.chords), d.blocks, d.chords))
    return tuple(found)
