"""The four-block diagrams: expanding every reduced diagram's ladders reproduces the
brute-force Wick enumeration of the same words (pairings, counts and powers of N)."""

import functools
from collections import defaultdict
from itertools import product

import pytest
import sympy as sp

from nnqft.derive.loops.linear import trace_word_moment
from nnqft.diagrams.four_block import (
    BlockDiagram,
    block_diagrams,
    max_block_chords,
    pairing_faces,
    word_layout,
)
from nnqft.errors import InvalidParameter
from nnqft.rules.symbols import N, sigma_w2


def _matchings(items):
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for i, other in enumerate(rest):
        for tail in _matchings(rest[:i] + rest[i + 1 :]):
            yield [(first, other), *tail]


def _brute(word, blocks):
    """{partner tuple: deficit} of every (connected) pairing, faces counted afresh: each
    letter is a matrix entry with explicit row and column index names."""
    kinds = "".join(k * a for k, a in zip("TWTW", blocks))
    n = len(kinds)
    cycles = (
        [list(range(n))]
        if word == "one-trace"
        else [
            list(range(blocks[0] + blocks[1])),
            list(range(blocks[0] + blocks[1], n)),
        ]
    )
    after = {}
    for cyc in cycles:
        for j, p in enumerate(cyc):
            after[p] = cyc[(j + 1) % len(cyc)]
    entry = {p: ((p, after[p]) if kinds[p] == "W" else (after[p], p)) for p in range(n)}
    out = {}
    for m in _matchings(list(range(n))):
        if word == "two-trace" and not any(
            (p < len(cycles[0])) != (q < len(cycles[0])) for p, q in m
        ):
            continue
        classes = {g: {g} for g in range(n)}
        for p, q in m:
            for a, b in zip(entry[p], entry[q]):
                if classes[a] is not classes[b]:
                    merged = classes[a] | classes[b]
                    for g in merged:
                        classes[g] = merged
        faces = len({id(c) for c in classes.values()}) + sum(1 for c in cycles if not c)
        partner = [0] * n
        for p, q in m:
            partner[p], partner[q] = q, p
        out[tuple(partner)] = len(m) + (word == "one-trace") - faces
    return out


def _lengths(chords, total):
    """Ladder lengths >= 1 of ``chords`` chords summing to ``total``."""
    if chords == 0:
        if total == 0:
            yield ()
        return
    for first in range(1, total - chords + 2):
        for rest in _lengths(chords - 1, total - first):
            yield (first, *rest)


@functools.lru_cache(maxsize=8)
def _expansions(word, max_deficit, size):
    """{blocks: {partner tuple: [deficit of each diagram whose expansion gave it]}}."""
    out = defaultdict(lambda: defaultdict(list))
    for d in block_diagrams(word, max_deficit):
        for half in range(len(d.chords), size // 2 + 1):
            for lengths in _lengths(len(d.chords), half):
                blocks, partner = d.expand(lengths)
                out[blocks][tuple(partner)].append(d.deficit)
    return out


def _expanded(word, max_deficit, blocks, size=8):
    return _expansions(word, max_deficit, size)[tuple(blocks)]


@pytest.mark.parametrize(
    "word,max_deficit,size",
    [
        ("one-trace", 1, 8),
        ("two-trace", 0, 8),
        pytest.param("one-trace", 1, 10, marks=pytest.mark.slow),
        pytest.param("two-trace", 0, 10, marks=pytest.mark.slow),
    ],
)
def test_expansions_are_exactly_the_low_deficit_pairings(word, max_deficit, size):
    for n in range(0, size + 1, 2):
        for blocks in product(range(n + 1), repeat=4):
            if sum(blocks) != n:
                continue
            if word == "two-trace" and (blocks[0] + blocks[1] == 0 or blocks[2] + blocks[3] == 0):
                continue
            brute = {p: d for p, d in _brute(word, blocks).items() if d <= max_deficit}
            found = _expanded(word, max_deficit, blocks, size)
            assert set(found) == set(brute), blocks
            assert all(len(v) == 1 for v in found.values()), blocks  # one diagram each
            assert {p: v[0] for p, v in found.items()} == brute, blocks


@pytest.mark.parametrize("blocks", [(1, 1, 1, 1), (2, 1, 0, 1), (3, 0, 1, 2), (2, 2, 1, 1)])
def test_one_trace_moments_through_1_over_n(blocks):
    """(1/N) E tr of the word through 1/N from the diagrams = the exact Wick moment of
    :func:`trace_word_moment` (an independent enumeration) truncated after 1/N."""
    word = "".join(k * a for k, a in zip("TWTW", blocks))
    exact = sp.expand(trace_word_moment(word))
    truncated = sum(exact.coeff(N, -d) * N**-d for d in (0, 1))
    total = sp.Integer(0)
    for (d,) in _expanded("one-trace", 1, blocks).values():
        total += sigma_w2 ** (sum(blocks) // 2) * N**-d
    assert sp.expand(total - truncated) == 0


def test_reduced_diagrams_have_no_ladders_and_respect_the_bound():
    for word, deficit in (("one-trace", 1), ("two-trace", 0)):
        for d in block_diagrams(word, deficit):
            assert len(d.chords) <= max_block_chords(word, d.deficit)
            lay = word_layout(word, d.blocks)
            partner = [0] * sum(d.blocks)
            for p, q in d.chords:
                partner[p], partner[q] = q, p
            faces, corners = pairing_faces(lay, partner)
            assert faces == d.faces
            for gaps in corners.values():
                assert not (len(gaps) == 2 and not set(gaps) & lay.marked)


def test_planar_one_trace_diagrams_are_the_junction_ladders():
    """Deficit 0, one trace: a ladder (or none) at each of the four block junctions."""
    planar = block_diagrams("one-trace", 0)
    assert len(planar) == 16
    junctions = {(0, 1), (1, 2), (2, 3), (0, 3)}
    for d in planar:
        types = dict(zip([(i, j) for i in range(4) for j in range(i, 4)], d.types))
        assert {t for t, c in types.items() if c} <= junctions
        assert max(types.values(), default=0) <= 1


def test_ids_and_graphs():
    d = BlockDiagram("one-trace", (1, 1, 0, 0), ((0, 1),), 2)
    g = d.graph()
    assert g.number_of_nodes() == 6
    ids = {x.id for x in block_diagrams("one-trace", 0)}
    assert len(ids) < 16  # the symmetries of the word (swap of the factors, transpose)
    with pytest.raises(InvalidParameter):
        block_diagrams("three-trace", 0)
