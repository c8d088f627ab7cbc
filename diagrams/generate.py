"""Generation of Feynman diagrams by growing graphs with canonical deduplication.

The vertices are data: a tuple of :class:`VertexSpec` (kind, valence), read off a
:class:`~nnqft.rules.feynman.FeynmanRules` by :func:`nnqft.diagrams.from_rules.growth_vertices`
(one field, one undirected propagator); the default :data:`PHI4_VERTICES` is what the
O(N) phi^4 rules give (held here as data, so that the phi^4 path imports no sympy; the
tests check it against ``get_rules("on-phi4")``).

Connected diagrams are built directly, never through Wick contractions: start from leg 1
(or from one vertex of each kind for vacuum diagrams) and repeatedly take the first node that still
has open half-edges and join all of them at once: to self-loops, to open half-edges of
nodes already present, to legs not yet attached, and to new vertices.  The set of
completions of a partial diagram does not depend on which node is closed next, so it is
enough to keep one representative per isomorphism class of partial diagram (nodes
coloured by kind, leg label and number of open half-edges): every partial diagram is
deduplicated by its exact canonical form (:mod:`nnqft.diagrams.canonical`).  When no
half-edge is open the survivors are exactly the connected diagrams, each once, and
their canonical search gives |Aut|.  :func:`generate_connected_by_edges` reaches the
same set one propagator at a time (a cross-check).

Disconnected diagrams are products of connected ones: the legs are split into blocks,
each block a connected diagram (or a bare line), times a multiset of connected vacuum
diagrams; identical vacuum components divide the symmetry factor by k!.

>>> [len(generate_connected(2, order)) for order in (1, 2, 3)]
[1, 3, 10]
>>> cubic = (VertexSpec("phi3", 3),)
>>> [len(generate_connected(2, order, vertices=cubic)) for order in (1, 2, 3, 4)]
[0, 2, 0, 10]
"""

from __future__ import annotations

import contextlib
import functools
import gc
import itertools
from collections import Counter
from dataclasses import dataclass
from fractions import Fraction
from math import factorial

from ..errors import InvalidParameter
from .canonical import label_core

__all__ = [
    "RawDiagram",
    "VertexSpec",
    "PHI4_VERTICES",
    "generate_connected",
    "generate_connected_by_edges",
]


@dataclass(frozen=True)
class RawDiagram:
    """A generated diagram in canonical labelling (internal, light).

    ``labels[i]`` is the leg label of node ``i`` or ``None`` for a vertex; ``edges``
    lists propagators between canonical positions (parallel edges repeated, self-loops
    as ``(i, i)``); ``aut`` is |Aut| of the half-edge graph with legs fixed; ``vertices``
    names the kind of each node (None for a leg) where the run had more than one vertex
    kind (empty otherwise: every vertex is of the one kind).
    """

    labels: tuple
    edges: tuple[tuple[int, int], ...]
    aut: int
    vertices: tuple = ()

    @property
    def symmetry_factor(self) -> Fraction:
        return Fraction(1, self.aut)


@dataclass(frozen=True)
class VertexSpec:
    """A kind of vertex the growth places: its ``kind`` (the rules' vertex kind) and
    ``valence`` (its number of legs, >= 1).

    >>> VertexSpec("phi3", 3)
    VertexSpec(kind='phi3', valence=3)
    """

    kind: str
    valence: int


#: the vertices of ``get_rules("on-phi4")`` (one quartic vertex), the default of the growth
PHI4_VERTICES = (VertexSpec("phi4", 4),)


class _Plan:
    """The integer encoding of one run: internal node codes and their base colours.

    Legs are coded 1..n (their position in ``labels`` + 1), a vertex of kind j is coded
    -j (so ``code <= 0`` is a vertex; the one phi^4 kind is 0).  ``colour[code]`` is the
    base colour: legs (ranked by the repr of their label) before vertices (ranked by the
    repr of their kind, the order of canonical_id's ``vertex=`` attribute), in steps of
    ``stride``; ``+ open_stride`` x open half-edges ``+`` self-loops on top.
    """

    def __init__(self, labels, vertices):
        if not vertices:
            raise InvalidParameter("the growth needs at least one vertex kind")
        for v in vertices:
            if not isinstance(v, VertexSpec):
                raise InvalidParameter(f"vertices must be VertexSpec, got {v!r}")
            if isinstance(v.valence, bool) or not isinstance(v.valence, int) or v.valence < 1:
                raise InvalidParameter(f"vertex {v.kind!r}: valence must be >= 1, got {v.valence}")
        if len({v.kind for v in vertices}) != len(vertices):
            raise InvalidParameter(f"vertex kinds must be distinct, got {vertices}")
        self.labels = list(labels)
        self.vertices = tuple(vertices)
        top = max(v.valence for v in vertices)
        self.open_stride = max(8, top // 2 + 1)
        stride = max(64, self.open_stride * (top + 1))
        n = len(self.labels)
        colour = {}
        for i, k in enumerate(sorted(range(n), key=lambda k: repr(self.labels[k]))):
            colour[k + 1] = stride * i
        for r, j in enumerate(sorted(range(len(vertices)), key=lambda j: repr(vertices[j].kind))):
            colour[-j] = stride * (n + 1 + r)
        self.colour = colour
        self.valence = {-j: v.valence for j, v in enumerate(vertices)}
        self.multi = len(vertices) > 1
        # (code, valence) of each vertex kind; single-kind runs use _partitions directly
        self._kinds = [(-j, v.valence) for j, v in enumerate(vertices)]
        self._sets: dict = {}

    def new_vertex_sets(self, rem: int, cap: int) -> list:
        """The multisets of new vertices taking ``rem`` open half-edges of the closing
        node (at most ``cap`` vertices): tuples of (code, lines to it, its open rest)."""
        key = (rem, cap)
        out = self._sets.get(key)
        if out is None:
            if not self.multi:
                code, val = self._kinds[0]
                out = [
                    tuple((code, m, val - m) for m in part) for part in _partitions(rem, val, cap)
                ]
            else:
                types = [(c, m, val - m) for c, val in self._kinds for m in range(val, 0, -1)]
                out = list(_multisets(types, 0, rem, cap))
            self._sets[key] = out
        return out


def _multisets(types, start, rem, cap):
    """Multisets of ``types[start:]`` (each (code, m, rest)) whose m sum to ``rem``, with
    at most ``cap`` members, as non-decreasing runs of type positions."""
    if rem == 0:
        yield ()
        return
    if cap == 0:
        return
    for i in range(start, len(types)):
        m = types[i][1]
        if m <= rem:
            for rest in _multisets(types, i, rem - m, cap - 1):
                yield (types[i],) + rest


@contextlib.contextmanager
def gc_paused():
    """The cyclic garbage collector paused inside the block (restored after).

    Growth and diagram building allocate millions of small acyclic containers, which
    reference counting frees; the collector's repeated passes over the live states
    would cost a fifth of a run.

    >>> with gc_paused():
    ...     gc.isenabled()
    False
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _gc_paused(func):
    """``func`` run inside :func:`gc_paused`."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with gc_paused():
            return func(*args, **kwargs)

    return wrapper


def _key(kinds, open_, edges, colour, open_stride=8):
    """Canonical key of a partial diagram: base colours (kind, open, self-loops), bundles.

    Base colours are integers ordered like canonical_id's node colours (legs first, by
    the repr of their label, then vertices; then open half-edges, then self-loops), and
    multiplicities enter by rank, so the final labelling is the one canonical_id uses.
    """
    n = len(kinds)
    adj: list[list[tuple[int, int]]] = [[] for _ in range(n)]
    base = [colour[k] + open_stride * o for k, o in zip(kinds, open_)]
    pairs = []
    for (u, v), m in edges.items():
        if u == v:
            base[u] += m
        else:
            pairs.append((u, v, m))
    mults = sorted({m for _, _, m in pairs})
    rank_m = {m: i for i, m in enumerate(mults)}
    for u, v, m in pairs:
        r = rank_m[m]
        adj[u].append((v, r))
        adj[v].append((u, r))
    rank = {k: i for i, k in enumerate(sorted(set(base)))}
    cert, node_aut, positions = label_core([rank[b] for b in base], adj)
    keys = [0] * n
    for b, p in zip(base, positions):
        keys[p] = b
    return (tuple(keys), cert, tuple(mults)), node_aut, positions


def _invariant(kinds, open_, edges, colour, open_stride=8) -> tuple:
    """A cheap isomorphism invariant of a partial diagram (equal for isomorphic ones).

    The sorted node colours of one refinement round: base colour (kind, open half-edges,
    self-loops) plus a label-free mix of the (neighbour base colour, multiplicity) pairs.
    Different invariants mean different classes; equal ones are settled by :func:`_key`.
    """
    base = [colour[k] + open_stride * o for k, o in zip(kinds, open_)]
    for (u, v), m in edges.items():
        if u == v:
            base[u] += m
    mix = list(base)
    for (u, v), m in edges.items():
        if u != v:
            mix[u] += (base[v] * 16 + m) ** 3
            mix[v] += (base[u] * 16 + m) ** 3
    mix.sort()
    return tuple(mix)


def _twin_pairs(others, kinds, open_, edges) -> list[tuple[int, int]]:
    """Pairs ``(a, b)`` of positions in ``others`` of consecutive members of a class of
    twins: nodes of the same kind and open half-edges with the same self-loops and the
    same bundles to every other node.  Any permutation of such a class is an automorphism
    of the partial diagram fixing every other node, so joining the closing node to a class
    with non-increasing multiplicities reaches every child up to isomorphism.
    """
    if len(others) < 2:
        return []
    nbrs: dict = {w: {} for w in others}
    for (x, y), m in edges.items():
        if x in nbrs:
            nbrs[x][y] = m
        if y in nbrs and y != x:
            nbrs[y][x] = m
    classes: list[list[int]] = []
    for i, w in enumerate(others):
        for cls in classes:
            r = others[cls[0]]
            if kinds[r] != kinds[w] or open_[r] != open_[w]:
                continue
            a, b = nbrs[r], nbrs[w]
            if a.get(w) != b.get(r) or a.get(r) != b.get(w):
                continue
            if {x: m for x, m in a.items() if x != w and x != r} != {
                x: m for x, m in b.items() if x != w and x != r
            }:
                continue
            cls.append(i)
            break
        else:
            classes.append([i])
    return [(c[k], c[k + 1]) for c in classes for k in range(len(c) - 1)]


def _finish(kinds, edges, node_aut, positions, plan) -> RawDiagram:
    extra = 1
    for (u, v), m in edges.items():
        extra *= factorial(m) * (2**m if u == v else 1)
    n = len(kinds)
    labels = [None] * n
    names = plan.labels
    for i in range(n):
        k = kinds[i]
        if k > 0:
            labels[positions[i]] = names[k - 1]
    vertices = ()
    if plan.multi:
        kinds_at = [None] * n
        for i in range(n):
            if kinds[i] <= 0:
                kinds_at[positions[i]] = plan.vertices[-kinds[i]].kind
        vertices = tuple(kinds_at)
    out = []
    for (u, v), m in edges.items():
        a, b = sorted((positions[u], positions[v]))
        out.extend([(a, b)] * m)
    return RawDiagram(tuple(labels), tuple(sorted(out)), node_aut * extra, vertices)


def _labels(n_legs, leg_labels) -> list:
    labels = list(leg_labels) if leg_labels is not None else list(range(1, n_legs + 1))
    if any(lab is None or lab == 0 for lab in labels) or len(set(labels)) != len(labels):
        raise InvalidParameter(f"leg labels must be distinct and not 0 or None, got {labels}")
    return labels


def _parity_fails(plan, n_legs, order) -> bool:
    """True where no diagram can exist: an odd half-edge count (one vertex kind), or
    order 0 with other than two legs (the bare line)."""
    if order == 0:
        return n_legs != 2
    if not plan.multi:
        return (plan.vertices[0].valence * order + n_legs) % 2 == 1
    return False


@_gc_paused
def generate_connected_by_edges(
    n_legs: int,
    order: int,
    *,
    self_loops: bool = True,
    leg_labels=None,
    progress=None,
    vertices=PHI4_VERTICES,
) -> list[RawDiagram]:
    """The same diagrams as :func:`generate_connected`, grown one propagator at a time
    (a second construction path, kept to cross-check the first; about 2x slower).

    >>> len(generate_connected_by_edges(2, 3))
    10
    >>> len(generate_connected_by_edges(2, 4, vertices=(VertexSpec("phi3", 3),)))
    10
    """
    labels = _labels(n_legs, leg_labels)
    n_legs = len(labels)
    plan = _Plan(labels, vertices)
    if _parity_fails(plan, n_legs, order):
        return []
    colour, stride, valence = plan.colour, plan.open_stride, plan.valence
    codes = range(1, n_legs + 1)
    top = max(valence.values())
    n_edges = (top * order + n_legs) // 2  # the most propagators a diagram can have
    # a state: (kinds, open half-edges, edges {(u, v): multiplicity}, vertices used);
    # kinds[i] = leg code (> 0) or vertex code (<= 0), see _Plan
    if n_legs:
        starts = [((1,), (1,), {}, 0)]
    else:
        starts = [((c,), (val,), {}, 1) for c, val in valence.items()]
    states = {("start", i): st for i, st in enumerate(starts)}
    final: dict = {}
    step = 0
    while states:
        new_states: dict = {}
        for kinds, open_, edges, used in states.values():
            u = next(i for i, k in enumerate(open_) if k)
            present = set(kinds)
            children = []
            for w in range(len(kinds)):
                k = open_[w]
                if not k or (w == u and (k < 2 or not self_loops)):
                    continue
                o = list(open_)
                o[u] -= 1
                o[w] -= 1
                e = dict(edges)
                pair = (u, w) if u <= w else (w, u)
                e[pair] = e.get(pair, 0) + 1
                children.append((kinds, tuple(o), e, used))
            if used < order:
                for c, val in valence.items():
                    o = list(open_)
                    o[u] -= 1
                    o.append(val - 1)
                    e = dict(edges)
                    e[(u, len(kinds))] = 1
                    children.append((kinds + (c,), tuple(o), e, used + 1))
            for code in codes:
                if code in present:
                    continue
                o = list(open_)
                o[u] -= 1
                o.append(0)
                e = dict(edges)
                e[(u, len(kinds))] = 1
                children.append((kinds + (code,), tuple(o), e, used))
            for child in children:
                ck, co, ce, cu = child
                done = not any(co)
                if done and (cu < order or len(ck) - cu < n_legs):
                    continue  # closed too early: could never become connected and complete
                key, node_aut, positions = _key(ck, co, ce, colour, stride)
                if done:
                    if key not in final:
                        final[key] = _finish(ck, ce, node_aut, positions, plan)
                elif key not in new_states:
                    new_states[key] = child
        states = new_states
        step += 1
        if progress is not None:
            progress(min(step, n_edges), n_edges, len(states) + len(final))
    out = list(final.values())
    out.sort(key=lambda d: (d.labels, d.edges))
    return out


def _partitions(r: int, largest: int, max_parts: int):
    """Partitions of r into at most max_parts parts, each at most largest (descending)."""
    if r == 0:
        yield ()
        return
    if max_parts == 0:
        return
    for k in range(min(r, largest), 0, -1):
        for rest in _partitions(r - k, k, max_parts - 1):
            yield (k,) + rest


@_gc_paused
def generate_connected(
    n_legs: int,
    order: int,
    *,
    self_loops: bool = True,
    leg_labels=None,
    progress=None,
    vertices=PHI4_VERTICES,
) -> list[RawDiagram]:
    """All connected diagrams with ``n_legs`` labelled legs and ``order`` vertices of the
    kinds ``vertices`` (default :data:`PHI4_VERTICES`: phi^4; any mix of the kinds makes
    up the order where there are several).

    Each step closes the first node that still has open half-edges: all of them at once
    go to self-loops, to open half-edges of nodes already present, to legs not yet
    attached, and to new vertices (as a multiset of (kind, lines) for the remaining
    count: new vertices of one kind and line count are interchangeable; so are twin
    nodes, joined with non-increasing multiplicities).  Partial diagrams are deduplicated
    across the whole run: by a cheap invariant, and by their exact canonical form only
    where two of them share the invariant.

    ``leg_labels`` (default 1..n_legs) are the labels of the legs; ``self_loops=False``
    never closes a propagator on one vertex; ``progress(step, total_steps, n_states)``
    is called after every growth step.  The result is sorted by canonical form.

    >>> [d.symmetry_factor for d in generate_connected(2, 1)]
    [Fraction(1, 2)]
    >>> len(generate_connected(0, 2)), len(generate_connected(4, 1))
    (2, 1)
    >>> [d.symmetry_factor for d in generate_connected(1, 1, vertices=(VertexSpec("phi3", 3),))]
    [Fraction(1, 2)]
    """
    labels = _labels(n_legs, leg_labels)
    n_legs = len(labels)
    plan = _Plan(labels, vertices)
    if _parity_fails(plan, n_legs, order):
        return []
    colour, stride, valence = plan.colour, plan.open_stride, plan.valence
    new_vertex_sets = plan.new_vertex_sets
    codes = list(range(1, n_legs + 1))
    # a state: (kinds, open half-edges, edges {(u, v): multiplicity}, vertices used);
    # kinds[i] = leg code (> 0) or vertex code (<= 0), see _Plan
    if n_legs:
        states = [((1,), (1,), {}, 0)]
    else:
        states = [((c,), (val,), {}, 1) for c, val in valence.items()]
    # partial diagrams by a cheap invariant; the exact key is computed only when a second
    # partial diagram has the same invariant: buckets[inv] = [first state or None, keys...]
    buckets: dict = {}
    final: dict = {}
    total_steps = n_legs + order
    step = 0
    while states:
        new_states = []
        for kinds, open_, edges, used in states:
            u = next(i for i, k in enumerate(open_) if k)
            k = open_[u]
            others = [w for w in range(len(kinds)) if w != u and open_[w]]
            # twins among them are interchangeable: join them non-increasingly only
            twin_pairs = _twin_pairs(others, kinds, open_, edges)
            present = set(kinds)
            fresh_legs = [c for c in codes if c not in present]
            max_loops = k // 2 if (self_loops and kinds[u] <= 0) else 0
            for n_loops in range(max_loops + 1):
                rem0 = k - 2 * n_loops
                ranges = [range(min(open_[w], rem0) + 1) for w in others]
                for ms in itertools.product(*ranges):
                    rem1 = rem0 - sum(ms)
                    if rem1 < 0:
                        continue
                    if twin_pairs and any(ms[a] < ms[b] for a, b in twin_pairs):
                        continue  # a permutation of twins maps it to one that is kept
                    for n_new_legs in range(min(rem1, len(fresh_legs)) + 1):
                        for legset in itertools.combinations(fresh_legs, n_new_legs):
                            rem2 = rem1 - n_new_legs
                            for part in new_vertex_sets(rem2, order - used):
                                o = list(open_)
                                e = dict(edges)
                                ck = kinds
                                o[u] = 0
                                if n_loops:
                                    e[(u, u)] = n_loops
                                for w, m in zip(others, ms):
                                    if m:
                                        o[w] -= m
                                        pair = (u, w) if u < w else (w, u)
                                        e[pair] = e.get(pair, 0) + m
                                for lab in legset:
                                    e[(u, len(ck))] = 1
                                    ck = ck + (lab,)
                                    o.append(0)
                                for c, m, rest in part:
                                    e[(u, len(ck))] = m
                                    ck = ck + (c,)
                                    o.append(rest)
                                cu = used + len(part)
                                co = tuple(o)
                                done = not any(co)
                                if done and (cu < order or len(ck) - cu < n_legs):
                                    continue  # closed before every vertex and leg is in
                                if done:
                                    key, node_aut, positions = _key(ck, co, e, colour, stride)
                                    if key not in final:
                                        final[key] = _finish(ck, e, node_aut, positions, plan)
                                    continue
                                state = (ck, co, e, cu)
                                inv = _invariant(ck, co, e, colour, stride)
                                bucket = buckets.get(inv)
                                if bucket is None:  # a new invariant: a new class, no search
                                    buckets[inv] = [state]
                                    new_states.append(state)
                                    continue
                                if bucket[0] is not None:  # first collision: key the first
                                    first = bucket[0]
                                    bucket[0] = None
                                    bucket.append(
                                        _key(first[0], first[1], first[2], colour, stride)[0]
                                    )
                                key = _key(ck, co, e, colour, stride)[0]
                                if key in bucket:
                                    continue
                                bucket.append(key)
                                new_states.append(state)
        states = new_states
        step += 1
        if progress is not None:
            progress(min(step, total_steps), total_steps, len(states) + len(final))
    if progress is not None and step < total_steps:
        progress(total_steps, total_steps, len(final))
    out = sorted(final.values(), key=lambda d: (d.labels, d.edges))
    return out


def count_by_self_loops(diagrams) -> Counter:
    """How many diagrams have k self-loops (a quick summary used by benchmarks)."""
    return Counter(sum(1 for a, b in d.edges if a == b) for d in diagrams)
