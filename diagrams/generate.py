"""Generation of phi^4 Feynman diagrams by growing graphs with canonical deduplication.

Connected diagrams are built directly, never through Wick contractions: start from leg 1
(or from one vertex for vacuum diagrams) and repeatedly join one open half-edge, the
first one in insertion order, to (a) another open half-edge already in the graph
(a propagator, a self-loop if both are on one vertex), (b) a new vertex, or (c) a leg
not yet attached.  The set of completions of a partial diagram does not depend on which
open half-edge is joined next, so it is enough to keep one representative per
isomorphism class of partial diagram (nodes coloured by kind, leg label and number of
open half-edges): after every step the partial diagrams are deduplicated by their exact
canonical form (:mod:`nnqft.diagrams.canonical`).  At the last step the survivors are
exactly the connected diagrams, each once, and their canonical search gives |Aut|.

Disconnected diagrams are products of connected ones: the legs are split into blocks,
each block a connected diagram (or a bare line), times a multiset of connected vacuum
diagrams; identical vacuum components divide the symmetry factor by k!.

>>> [len(generate_connected(2, order)) for order in (1, 2, 3)]
[1, 3, 10]
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from fractions import Fraction
from math import factorial

from ..errors import InvalidParameter
from .canonical import label_core

__all__ = ["RawDiagram", "generate_connected"]


@dataclass(frozen=True)
class RawDiagram:
    """A generated diagram in canonical labelling (internal, light).

    ``labels[i]`` is the leg label of node ``i`` or ``None`` for a vertex; ``edges``
    lists propagators between canonical positions (parallel edges repeated, self-loops
    as ``(i, i)``); ``aut`` is |Aut| of the half-edge graph with legs fixed.
    """

    labels: tuple
    edges: tuple[tuple[int, int], ...]
    aut: int

    @property
    def symmetry_factor(self) -> Fraction:
        return Fraction(1, self.aut)


def _key(kinds, open_, edges, leg_code, vertex_code):
    """Canonical key of a partial diagram: base colours (kind, open, self-loops), bundles.

    Base colours are integers ordered like canonical_id's node colours (legs first, by
    the repr of their label, then vertices; then open half-edges, then self-loops), and
    multiplicities enter by rank, so the final labelling is the one canonical_id uses.
    """
    n = len(kinds)
    adj: list[list[tuple[int, int]]] = [[] for _ in range(n)]
    base = [vertex_code if not k else leg_code[k] for k in kinds]
    for i in range(n):
        base[i] += 8 * open_[i]
    mults = set()
    for (u, v), m in edges.items():
        if u == v:
            base[u] += m
        else:
            mults.add(m)
    if len(mults) == 1:
        rank_m = {m: 0 for m in mults}
    else:
        rank_m = {m: i for i, m in enumerate(sorted(mults))}
    for (u, v), m in edges.items():
        if u != v:
            r = rank_m[m]
            adj[u].append((v, r))
            adj[v].append((u, r))
    distinct = sorted(set(base))
    rank = {k: i for i, k in enumerate(distinct)}
    cert, node_aut, positions = label_core([rank[b] for b in base], adj)
    keys = [0] * n
    for i in range(n):
        keys[positions[i]] = base[i]
    return (tuple(keys), cert, tuple(sorted(mults))), node_aut, positions


def _finish(kinds, edges, node_aut, positions) -> RawDiagram:
    extra = 1
    for (u, v), m in edges.items():
        extra *= factorial(m) * (2**m if u == v else 1)
    n = len(kinds)
    labels = [None] * n
    for i in range(n):
        labels[positions[i]] = kinds[i] or None
    out = []
    for (u, v), m in edges.items():
        a, b = sorted((positions[u], positions[v]))
        out.extend([(a, b)] * m)
    return RawDiagram(tuple(labels), tuple(sorted(out)), node_aut * extra)


def generate_connected(
    n_legs: int, order: int, *, self_loops: bool = True, leg_labels=None, progress=None
) -> list[RawDiagram]:
    """All connected phi^4 diagrams with ``n_legs`` labelled legs and ``order`` vertices.

    ``leg_labels`` (default 1..n_legs) are the labels of the legs; ``self_loops=False``
    never closes a propagator on one vertex; ``progress(step, total_steps, n_states)``
    is called after every growth step.  The result is sorted by canonical form.

    >>> [d.symmetry_factor for d in generate_connected(2, 1)]
    [Fraction(1, 2)]
    >>> len(generate_connected(0, 2)), len(generate_connected(4, 1))
    (2, 1)
    """
    labels = list(leg_labels) if leg_labels is not None else list(range(1, n_legs + 1))
    if any(lab is None or lab == 0 for lab in labels) or len(set(labels)) != len(labels):
        raise InvalidParameter(f"leg labels must be distinct and not 0 or None, got {labels}")
    n_legs = len(labels)
    if (4 * order + n_legs) % 2 or (order == 0 and n_legs != 2) or (order == 0 and n_legs == 0):
        return []
    n_edges = (4 * order + n_legs) // 2
    # integer node colours: legs (ranked by the repr of their label) before vertices;
    # + 8 x open half-edges + self-loops (at most 2 per vertex)
    leg_code = {lab: 64 * i for i, lab in enumerate(sorted(labels, key=repr))}
    vertex_code = 64 * (len(labels) + 1)
    # a state: (kinds, open half-edges, edges {(u, v): multiplicity}, vertices used)
    # kinds[i] = leg label (>0) or 0 for a vertex
    if n_legs:
        start = ((labels[0],), (1,), {}, 0)
    else:
        start = ((0,), (4,), {}, 1)
    states = {None: start}
    for step in range(n_edges):
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
                o = list(open_)
                o[u] -= 1
                o.append(3)
                e = dict(edges)
                e[(u, len(kinds))] = 1
                children.append((kinds + (0,), tuple(o), e, used + 1))
            for label in labels:
                if label in present:
                    continue
                o = list(open_)
                o[u] -= 1
                o.append(0)
                e = dict(edges)
                e[(u, len(kinds))] = 1
                children.append((kinds + (label,), tuple(o), e, used))
            for child in children:
                ck, co, ce, cu = child
                if not any(co) and (cu < order or len(ck) - cu < n_legs):
                    continue  # closed too early: could never become connected and complete
                key, node_aut, positions = _key(ck, co, ce, leg_code, vertex_code)
                if key not in new_states:
                    new_states[key] = child if step + 1 < n_edges else (child, node_aut, positions)
        states = new_states
        if progress is not None:
            progress(step + 1, n_edges, len(states))
    out = []
    for (kinds, open_, edges, used), node_aut, positions in states.values():
        if used == order and not any(open_) and len(kinds) - used == n_legs:
            out.append(_finish(kinds, edges, node_aut, positions))
    out.sort(key=lambda d: (d.labels, d.edges))
    return out


def count_by_self_loops(diagrams) -> Counter:
    """How many diagrams have k self-loops (a quick summary used by benchmarks)."""
    return Counter(sum(1 for a, b in d.edges if a == b) for d in diagrams)
