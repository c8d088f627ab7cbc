"""O(N) tensor factors of phi^4 diagrams, by contracting the vertex tensors.

Conventions: docs/conventions.md §6.

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

import functools
from collections import Counter, deque
from fractions import Fraction
from typing import TYPE_CHECKING

from ..errors import InvalidParameter
from .unionfind import find_root, join, n_classes

if TYPE_CHECKING:
    import networkx as nx

__all__ = [
    "on_factor",
    "on_factor_expr",
    "channel_coefficients",
    "contract",
    "contract_plain",
]

_PAIRINGS = ((0, 1, 2, 3), (0, 2, 1, 3), (0, 3, 1, 2))


def contract(n_nodes: int, leg_label: list, edges: list[tuple[int, int]]):
    """Core contraction on an encoded diagram.

    ``leg_label[x]`` is the leg label of node ``x`` (``None`` for a quartic vertex);
    ``edges`` lists every propagator once (parallel edges repeated, self-loops as
    ``(x, x)``).  Returns ``({channel: Counter{power of N: count}}, 3**V)`` where a
    channel is a sorted tuple of sorted leg-label pairs; the O(N) factor is count/3**V.

    Exact reductions come first: a vertex with a self-loop is a line with weight
    (N w_loop + w_other + w_other) (N per closed strand); two vertices joined by exactly
    two lines are one effective vertex whose three pairing weights are polynomials in N;
    joined by three lines they are a line with a weight, by four a closed factor.  What is
    left goes through the transfer contraction (:func:`contract_plain`).

    Parameters
    ----------
    n_nodes : int
        Number of nodes (legs and vertices).
    leg_label : list
        The leg label of each node, ``None`` for a vertex.
    edges : list of tuple of int
        The propagators.

    Returns
    -------
    tuple of (dict, int)
        ``{channel: Counter{power of N: count}}`` and 3**V.

    Examples
    --------
    >>> contract(3, [1, 2, None], [(0, 2), (1, 2), (2, 2)])
    ({((1, 2),): Counter({0: 2, 1: 1})}, 3)
    """
    n_vertices = sum(1 for lab in leg_label if lab is None)
    n_ends = 2 * len(edges)
    other = [h ^ 1 for h in range(n_ends)]  # half-edge 2e / 2e + 1: the ends of line e
    node_of = [0] * n_ends
    slots: list[list[int]] = [[] for _ in range(n_nodes)]
    for e, (u, v) in enumerate(edges):
        node_of[2 * e] = u
        node_of[2 * e + 1] = v
        slots[u].append(2 * e)
        slots[v].append(2 * e + 1)
    for x in range(n_nodes):
        want = 1 if leg_label[x] is not None else 4
        if len(slots[x]) != want:
            raise InvalidParameter(
                f"O(N) factors need quartic vertices and legs of degree 1; node {x} has "
                f"degree {len(slots[x])}"
            )
    one = ((0, 1),)  # polynomials as sorted ((power, coefficient), ...) tuples
    weights = {x: (one, one, one) for x in range(n_nodes) if leg_label[x] is None}
    alive = set(weights)
    mult = {0: 1}
    changed = True
    while changed:
        changed = False
        for x in sorted(alive):
            if x not in alive:
                continue
            s = slots[x]
            w = weights[x]
            loop = None
            for i in range(3):
                j = s.index(other[s[i]]) if other[s[i]] in s else -1
                if j > i:
                    loop = (i, j)
                    break
            if loop is not None:
                i, j = loop
                k, l = (t for t in range(4) if t not in loop)
                closed = other[s[k]] == s[l]  # two self-loops: a closed figure eight
                if not closed:
                    pk, pl = other[s[k]], other[s[l]]
                    other[pk], other[pl] = pl, pk
                mult = _pmul(mult, dict(_loop_factor(_PAIR_INDEX[(i, j)], w, closed)))
                alive.discard(x)
                changed = True
                continue
            ends = [node_of[other[h]] for h in s]
            y = next((y for y in ends if y != x and y in alive and ends.count(y) >= 2), None)
            if y is None:
                continue
            xi = [t for t in range(4) if node_of[other[s[t]]] == y]
            xk = [t for t in range(4) if t not in xi]
            sy = slots[y]
            yi = [sy.index(other[s[t]]) for t in xi]
            yk = [t for t in range(4) if t not in yi]
            wz = _combine(tuple(xi), tuple(yi), w, weights[y])
            alive.discard(y)
            changed = True
            if len(xi) == 2:  # a bubble: one effective vertex
                new_slots = [s[xk[0]], s[xk[1]], sy[yk[0]], sy[yk[1]]]
                for h in new_slots:
                    node_of[h] = x
                slots[x] = new_slots
                weights[x] = wz
                continue
            alive.discard(x)
            mult = _pmul(mult, dict(wz[0]))
            if len(xi) == 3:  # a sunset (melon) insertion: a line with a weight
                pa, pb = other[s[xk[0]]], other[sy[yk[0]]]
                other[pa], other[pb] = pb, pa
    # re-encode what is left and run the transfer contraction on it
    keep = [x for x in range(n_nodes) if leg_label[x] is not None or x in alive]
    index = {x: i for i, x in enumerate(keep)}
    new_edges: list[tuple[int, int]] = []
    end_id: dict[int, int] = {}
    for x in keep:
        for h in slots[x]:
            if h in end_id:
                continue
            g = other[h]
            e = len(new_edges)
            new_edges.append((index[x], index[node_of[g]]))
            end_id[h], end_id[g] = 2 * e, 2 * e + 1
    new_slots = {index[x]: [end_id[h] for h in slots[x]] for x in keep if x in alive}
    new_weights = {index[x]: weights[x] for x in keep if x in alive}
    raw = _remainder(
        tuple(leg_label[x] for x in keep),
        tuple(new_edges),
        tuple(sorted((x, tuple(h)) for x, h in new_slots.items())),
        tuple(sorted(new_weights.items())),
    )
    result = {}
    for channel, poly in raw.items():
        total: Counter = Counter()
        for p, c in poly:
            for q, d in mult.items():
                total[p + q] += c * d
        result[channel] = total
    return result, 3**n_vertices


_PAIR_INDEX = {
    (0, 1): 0, (2, 3): 0, (0, 2): 1, (1, 3): 1, (0, 3): 2, (1, 2): 2,
    (1, 0): 0, (3, 2): 0, (2, 0): 1, (3, 1): 1, (3, 0): 2, (2, 1): 2,
}  # fmt: skip


@functools.lru_cache(maxsize=1 << 16)
def _remainder(legs, edges, slots, weights):
    """The transfer contraction of a reduced remainder, cached by its exact encoding (the
    reductions leave few distinct remainders: 149 for the 4632 two-point diagrams at
    order 7).  Returns ``{channel: ((power, count), ...)}``; callers must not mutate."""
    raw, _ = contract_plain(
        len(legs),
        list(legs),
        list(edges),
        {x: list(h) for x, h in slots},
        {x: tuple(dict(p) for p in w) for x, w in weights},
    )
    return {ch: tuple(sorted(poly.items())) for ch, poly in raw.items()}


def _frozen(poly: dict) -> tuple:
    return tuple(sorted((p, c) for p, c in poly.items() if c))


@functools.lru_cache(maxsize=1 << 14)
def _loop_factor(p_loop: int, w: tuple, closed: bool) -> tuple:
    """Weight of a vertex with a self-loop on the pairing ``p_loop``: N w_loop + the other
    two (its other two ends are joined); ``closed``: a figure eight, N^2 w_loop + N rest."""
    loop = dict(w[p_loop])
    rest = _padd(*(dict(w[p]) for p in range(3) if p != p_loop))
    if closed:
        return _frozen(_padd(_pshift(loop, 2), _pshift(rest, 1)))
    return _frozen(_padd(_pshift(loop, 1), rest))


@functools.lru_cache(maxsize=1 << 14)
def _combine(xi: tuple, yi: tuple, wx: tuple, wy: tuple) -> tuple:
    """Pairing weights of two vertices joined by the lines x[xi[m]] - y[yi[m]]."""
    wz: list[dict] = [{}, {}, {}]
    for (px, py), (r, loops) in _two_vertex_table(xi, yi).items():
        if wx[px] and wy[py]:
            wz[r] = _padd(wz[r], _pshift(_pmul(dict(wx[px]), dict(wy[py])), loops))
    return tuple(_frozen(p) for p in wz)


def _padd(*polys):
    out: dict = {}
    for poly in polys:
        for p, c in poly.items():
            out[p] = out.get(p, 0) + c
    return {p: c for p, c in out.items() if c}


def _pshift(poly, k):
    return {p + k: c for p, c in poly.items()}


def _pmul(a, b):
    out: dict = {}
    for p, c in a.items():
        for q, d in b.items():
            out[p + q] = out.get(p + q, 0) + c * d
    return out


@functools.cache
def _two_vertex_table(xi, yi):
    """Two vertices x, y joined by k = len(xi) lines x[xi[m]] - y[yi[m]]: for each pair of
    pairings (px, py), the pairing r of the outer slots (x's others, then y's others;
    r = 0 when k >= 3, where the outer slots, if any, are simply joined) that the strands
    realise, and the number of closed strands.  Slot t of x is strand end t, of y 4 + t."""
    outer = [t for t in range(4) if t not in xi] + [4 + t for t in range(4) if t not in yi]
    table = {}
    for px, pairing_x in enumerate(_PAIRINGS):
        for py, pairing_y in enumerate(_PAIRINGS):
            parent = list(range(8))
            for a, b in zip(xi, yi):
                join(parent, a, 4 + b)
            for side, pairing in ((0, pairing_x), (4, pairing_y)):
                join(parent, side + pairing[0], side + pairing[1])
                join(parent, side + pairing[2], side + pairing[3])
            loops = n_classes(parent) - len(outer) // 2
            r = 0
            if len(outer) == 4:
                root = find_root(parent, outer[0])
                mate = next(q for q in range(1, 4) if find_root(parent, outer[q]) == root)
                r = _PAIR_INDEX[(0, mate)]
            table[(px, py)] = (r, loops)
    return table


def contract_plain(
    n_nodes: int, leg_label: list, edges: list[tuple[int, int]], _slots=None, _weights=None
):
    """The transfer contraction without reductions (see :func:`contract`).

    ``_slots``/``_weights`` (internal) give each vertex's ends in slot order and integer
    polynomial weights of its three pairings; by default every pairing has weight 1.

    Parameters
    ----------
    n_nodes, leg_label, edges
        As for :func:`contract`.

    Returns
    -------
    tuple of (dict, int)
        As :func:`contract`.

    Examples
    --------
    >>> contract_plain(3, [1, 2, None], [(0, 2), (1, 2), (2, 2)])
    ({((1, 2),): Counter({0: 2, 1: 1})}, 3)
    """
    ends_at: list[list[int]] = [[] for _ in range(n_nodes)]
    nbrs: list[list[int]] = [[] for _ in range(n_nodes)]
    for e, (u, v) in enumerate(edges):
        ends_at[u].append(2 * e)
        ends_at[v].append(2 * e + 1)
        nbrs[u].append(v)
        nbrs[v].append(u)
    if _slots is not None:
        ends_at = [_slots.get(x, ends_at[x]) for x in range(n_nodes)]
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
    unit = ({0: 1}, {0: 1}, {0: 1})
    for x in order:
        hs = ends_at[x]
        weights = _weights.get(x, unit) if _weights else unit
        new_states: dict = {}
        for (items, pairs), poly in states.items():
            for p, weight in zip(_PAIRINGS, weights):
                if not weight:
                    continue
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
                if len(weight) == 1 and 0 in weight:
                    c0 = weight[0]
                    for power, count in poly.items():
                        target[power + loops] += count * c0
                else:
                    for power, count in poly.items():
                        for wp, wc in weight.items():
                            target[power + loops + wp] += count * wc
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

    Parameters
    ----------
    graph : networkx.MultiGraph
        A phi^4 diagram.

    Returns
    -------
    dict
        ``{channel: {power of N: Fraction}}``.

    Raises
    ------
    InvalidParameter
        For a node that is neither a leg of degree 1 nor a vertex of degree 4.

    Examples
    --------
    >>> from nnqft.diagrams import make_diagram
    >>> tadpole = make_diagram([(1, "v"), ("v", "v"), ("v", 2)], legs={1: 1, 2: 2})
    >>> on_factor(tadpole)
    {((1, 2),): {0: Fraction(2, 3), 1: Fraction(1, 3)}}
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

    Parameters
    ----------
    poly : dict
        ``{power of N: Fraction}``.

    Returns
    -------
    sympy.Expr

    Examples
    --------
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

    Parameters
    ----------
    factor : dict
        An :func:`on_factor` result.
    n_legs : int
        0, 2 or 4.

    Returns
    -------
    list of dict
        One polynomial ``{power of N: Fraction}`` per channel.

    Examples
    --------
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
