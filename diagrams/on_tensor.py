"""O(N) tensor factors of phi^4 diagrams, by contracting the vertex tensors (PHYSICS.md §6).

Each quartic vertex carries (d_ab d_cd + d_ac d_bd + d_ad d_bc)/3 and each propagator
d_ab.  Choosing one of the three pairings at every vertex turns the diagram into a set of
index strands: closed strands give N each, open strands join two external legs.  The
O(N) factor is the average over the 3^V choices of N^(closed strands), split by which
legs the open strands join (the channel).

The average is not taken over 3^V leaves but by a transfer method: vertices are
processed in breadth-first order and the state is the matching of the strand ends that
are still open plus the leg pairs already joined; states reached by different choices
merge, so the work grows with the number of open ends (the cut width), not with 3^V.

>>> from nnqft.diagrams import make_diagram
>>> tadpole = make_diagram([(1, "v"), ("v", 2), ("v", "v")], legs={1: 1, 2: 2})
>>> on_factor(tadpole)
{((1, 2),): {0: Fraction(2, 3), 1: Fraction(1, 3)}}
"""

from __future__ import annotations

from collections import Counter, deque
from fractions import Fraction

import networkx as nx

from ..errors import InvalidParameter

__all__ = ["on_factor", "on_factor_expr", "channel_coefficients", "contract"]

_PAIRINGS = ((0, 1, 2, 3), (0, 2, 1, 3), (0, 3, 1, 2))


def contract(n_nodes: int, leg_label: list, edges: list[tuple[int, int]]):
    """Core contraction on an encoded diagram.

    ``leg_label[x]`` is the leg label of node ``x`` (``None`` for a quartic vertex);
    ``edges`` lists every propagator once (parallel edges repeated, self-loops as
    ``(x, x)``).  Returns ``({channel: Counter{power of N: count}}, 3**V)`` where a
    channel is a sorted tuple of sorted leg-label pairs.

    >>> contract(3, [1, 2, None], [(0, 2), (1, 2), (2, 2)])
    ({((1, 2),): Counter({0: 2, 1: 1})}, 3)
    """
    ends_at: list[list[int]] = [[] for _ in range(n_nodes)]
    nbrs: list[list[int]] = [[] for _ in range(n_nodes)]
    for e, (u, v) in enumerate(edges):
        ends_at[u].append(2 * e)
        ends_at[v].append(2 * e + 1)
        nbrs[u].append(v)
        nbrs[v].append(u)
    vertices = [x for x in range(n_nodes) if leg_label[x] is None]
    for x in vertices:
        if len(ends_at[x]) != 4:
            raise InvalidParameter(
                f"O(N) factors need quartic vertices; node {x} has degree {len(ends_at[x])}"
            )
    # terminals: a leg end is represented by the negative token -(position+1)
    token = {}
    for x in range(n_nodes):
        if leg_label[x] is not None:
            if len(ends_at[x]) != 1:
                raise InvalidParameter(
                    f"an external leg must have degree 1; leg {x} has {len(ends_at[x])}"
                )
            token[x] = -(len(token) + 1)
    label_of = {token[x]: leg_label[x] for x in token}
    # breadth-first vertex order from the legs (or the first vertex for vacuum diagrams)
    order: list[int] = []
    seen = set()
    starts = [x for x in range(n_nodes) if leg_label[x] is not None] + vertices
    for s in starts:
        if s in seen:
            continue
        seen.add(s)
        queue = deque([s])
        while queue:
            x = queue.popleft()
            if leg_label[x] is None:
                order.append(x)
            for y in nbrs[x]:
                if y not in seen:
                    seen.add(y)
                    queue.append(y)
    # initial state: leg lines; leg-leg lines close a channel pair at once
    partner: dict[int, int] = {}
    joined: list[tuple[int, int]] = []
    for e, (u, v) in enumerate(edges):
        lu, lv = leg_label[u] is not None, leg_label[v] is not None
        if lu and lv:
            joined.append(tuple(sorted((token[u], token[v]))))
        elif lu:
            partner[2 * e + 1] = token[u]
        elif lv:
            partner[2 * e] = token[v]
    states = {(tuple(sorted(partner.items())), tuple(sorted(joined))): Counter({0: 1})}
    for x in order:
        hs = ends_at[x]
        new_states: dict = {}
        for (items, pairs), poly in states.items():
            for p in _PAIRINGS:
                part = dict(items)
                for h in hs:
                    if h not in part:
                        other = h ^ 1
                        part[h] = other
                        part[other] = h
                loops = 0
                extra = []
                for i in (0, 2):
                    a, b = hs[p[i]], hs[p[i + 1]]
                    pa, pb = part.pop(a), part.pop(b)
                    if pa == b:
                        loops += 1
                        continue
                    if pa >= 0:
                        part[pa] = pb
                    if pb >= 0:
                        part[pb] = pa
                    if pa < 0 and pb < 0:
                        extra.append((min(pa, pb), max(pa, pb)))
                key = (
                    tuple(sorted(part.items())),
                    tuple(sorted(pairs + tuple(extra))) if extra else pairs,
                )
                target = new_states.get(key)
                if target is None:
                    target = new_states[key] = Counter()
                for power, count in poly.items():
                    target[power + loops] += count
        states = new_states
    result: dict = {}
    for (_items, pairs), poly in states.items():
        channel = tuple(sorted(tuple(sorted((label_of[a], label_of[b]))) for a, b in pairs))
        result.setdefault(channel, Counter()).update(poly)
    return result, 3 ** len(vertices)


def on_factor(graph: nx.MultiGraph) -> dict:
    """The O(N) factor of a phi^4 diagram: ``{channel: {power of N: Fraction}}``.

    A channel is a tuple of leg-label pairs joined by open index strands (``()`` for a
    vacuum diagram).  Legs are nodes with ``kind='leg'`` and a ``leg`` label; every other
    node must be a quartic vertex.
    """
    nodes = list(graph.nodes)
    index = {x: i for i, x in enumerate(nodes)}
    legs = [
        graph.nodes[x].get("leg") if graph.nodes[x].get("kind") == "leg" else None for x in nodes
    ]
    edges = [(index[u], index[v]) for u, v in graph.edges()]
    raw, denom = contract(len(nodes), legs, edges)
    return {
        ch: {p: Fraction(c, denom) for p, c in sorted(poly.items()) if c}
        for ch, poly in sorted(raw.items())
    }


def on_factor_expr(poly: dict):
    """A polynomial ``{power: coefficient}`` as a factored sympy expression in N.

    >>> on_factor_expr({0: Fraction(4, 9), 1: Fraction(4, 9), 2: Fraction(1, 9)})
    (N + 2)**2/9
    """
    import sympy as sp

    from ..rules.symbols import N

    expr = sum((sp.Rational(c.numerator, c.denominator) * N**p for p, c in poly.items()), sp.S.Zero)
    return sp.factor(expr)


def channel_coefficients(factor: dict, n_legs: int) -> list[dict]:
    """The channel polynomials in the standard order of ``n_legs`` legs.

    2 legs: ``[delta_12]``; 4 legs: ``[A, B, C]`` for A d12 d34 + B d13 d24 + C d14 d23;
    0 legs: ``[full contraction]``.

    >>> channel_coefficients({((1, 3), (2, 4)): {1: Fraction(1)}}, 4)
    [{}, {1: Fraction(1, 1)}, {}]
    """
    if n_legs == 0:
        channels = [()]
    elif n_legs == 2:
        channels = [((1, 2),)]
    elif n_legs == 4:
        channels = [((1, 2), (3, 4)), ((1, 3), (2, 4)), ((1, 4), (2, 3))]
    else:
        channels = sorted(factor)
    return [dict(factor.get(ch, {})) for ch in channels]
