"""Feynman diagrams of the O(N) phi^4 model with their numbers (docs/conventions.md §6).

:func:`generate_diagrams` returns every diagram of a given order (number of vertices) for
the n-point function with labelled legs (``n_legs = 0``: vacuum), with filters
*connected*, *1PI* and *no self-loops* (definitions in :mod:`nnqft.diagrams`).  Each
:class:`Diagram` carries its exact canonical id, symmetry factor 1/|Aut|, O(N) tensor
factor (by channel), loop number and 1PI flag.  With the vertex factor -g of
:func:`nnqft.rules.feynman.on_phi4_rules` a diagram is worth
(-g)^order * symmetry_factor * n_factor.

>>> ds = generate_diagrams(2, 2, connected=True)
>>> [(str(d.symmetry_factor), d.n_factor_str) for d in ds]
[('1/4', '(N + 2)**2/9'), ('1/4', '(N + 2)**2/9'), ('1/6', '(N + 2)/3')]
>>> [d.id for d in generate_diagrams(2, 1)]
['L1.L2.V(o)|0-2,1-2', 'L1.L2|0-1 + V(oo)|']
"""

from __future__ import annotations

import itertools
import warnings
from collections import Counter
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from typing import TYPE_CHECKING

from ..errors import InvalidParameter, InvalidType, OrderTooHigh
from .canonical import canonical_form
from .classes import class_and_bridge, classify
from .generate import PHI4_VERTICES, RawDiagram, gc_paused, generate_connected
from .on_tensor import channel_coefficients, contract, on_factor, on_factor_expr
from .polystr import factor_string
from .unionfind import join, n_classes

if TYPE_CHECKING:  # networkx is imported where a graph is built (a fast CLI start)
    import networkx as nx

__all__ = [
    "Diagram",
    "generate_diagrams",
    "iter_diagrams",
    "is_one_particle_irreducible",
    "loop_number",
    "is_cactus",
    "MAX_ORDER",
    "LARGE_RUN_EDGES",
]

#: the highest order generate_diagrams accepts (order 9 two-point is ~10^5 diagrams)
MAX_ORDER = 10
#: runs with at least this many propagators warn first with the expected count
LARGE_RUN_EDGES = 16


def _fmt(poly: dict) -> str:
    """The factored sympy string of a polynomial (cached: many diagrams share one), made
    without sympy where :mod:`nnqft.diagrams.polystr` can prove the factorisation."""
    return factor_string(poly)


@dataclass(frozen=True, eq=False)
class Diagram:
    """One phi^4 diagram.

    ``labels[i]`` is the leg label of node ``i`` or ``None`` for a vertex, ``edges`` the
    propagators between node positions (canonical order for connected diagrams),
    ``n_factor_channels`` the O(N) factor per channel as ``{power of N: Fraction}`` (2-pt:
    [d_12]; 4-pt: [A, B, C] of A d12 d34 + B d13 d24 + C d14 d23; vacuum: [full]).
    Equality and hashing go by the exact canonical ``id``.  ``graph`` is the
    ``networkx.MultiGraph`` (nodes ``'L1'``... for legs, ``'v1'``... for vertices).
    """

    id: str
    labels: tuple
    edges: tuple[tuple[int, int], ...]
    order: int
    n_legs: int
    symmetry_factor: Fraction
    n_factor_channels: tuple[dict, ...]
    loops: int
    connected: bool
    one_pi: bool
    channels: dict = field(repr=False, default_factory=dict)
    # (n_factor_str, channel strings) where the generator has them at hand (internal)
    _text: tuple = field(repr=False, default=())
    # the named class where the generator has it at hand (internal; see diagram_class)
    _class: str = field(repr=False, default="")

    def __eq__(self, other):
        return isinstance(other, Diagram) and self.id == other.id

    def __hash__(self):
        return hash(self.id)

    @cached_property
    def node_names(self) -> tuple[str, ...]:
        names, k = [], 0
        for label in self.labels:
            if label is None:
                k += 1
                names.append(f"v{k}")
            else:
                names.append(f"L{label}")
        return tuple(names)

    @cached_property
    def graph(self) -> nx.MultiGraph:
        import networkx as nx

        names = self.node_names
        graph = nx.MultiGraph()
        for name, label in zip(names, self.labels):
            if label is None:
                graph.add_node(name, kind="vertex")
            else:
                graph.add_node(name, kind="leg", leg=label)
        for a, b in self.edges:
            graph.add_edge(names[a], names[b], kind="phi")
        return graph

    @property
    def edge_names(self) -> list[list[str]]:
        """The propagators as pairs of node names (``[['L1', 'v1'], ['v1', 'v1'], ...]``)."""
        names = self.node_names
        return [[names[a], names[b]] for a, b in self.edges]

    @cached_property
    def n_factor(self) -> dict:
        """The O(N) factor: the sum over channels, ``{power of N: Fraction}``."""
        total: Counter = Counter()
        for poly in self.n_factor_channels:
            total.update(poly)
        return {p: c for p, c in sorted(total.items()) if c}

    @property
    def n_factor_str(self) -> str:
        """The O(N) factor as a factored sympy string, e.g. ``'(N + 2)**2/9'``."""
        if self._text:
            return self._text[0]
        return _fmt(self.n_factor)

    @property
    def diagram_class(self) -> str:
        """The named class (``'petal'``, ``'cactus'``, ``'mushroom'``, ...):
        :func:`nnqft.diagrams.classes.diagram_class`."""
        return self._class or classify(self.labels, self.edges, self.connected)

    @property
    def self_loops(self) -> int:
        return sum(1 for a, b in self.edges if a == b)

    def value(self):
        """The diagram's zero-dimensional value (-g)^order * symmetry_factor * n_factor
        (sympy, in g and N; the coefficient of the 2-pt d_ab, of the vacuum log Z, or of
        the 4-pt sum over channels)."""
        import sympy as sp

        from ..rules.feynman import g

        s = self.symmetry_factor
        return (
            (-g) ** self.order
            * sp.Rational(s.numerator, s.denominator)
            * on_factor_expr(self.n_factor)
        )

    def to_dict(self) -> dict:
        """The JSON entry of ``nnqft diagrams`` (the CLI contract)."""
        out = {
            "id": self.id,
            "edges": self.edge_names,
            "symmetry_factor": str(self.symmetry_factor),
            "n_factor": self.n_factor_str,
        }
        if self.n_legs == 4:
            out["n_factor_channels"] = (
                list(self._text[1]) if self._text else [_fmt(p) for p in self.n_factor_channels]
            )
        out.update(
            {
                "order": self.order,
                "loops": self.loops,
                "one_pi": self.one_pi,
                "connected": self.connected,
                # added after the keys above (the contract keeps them): the named class
                "diagram_class": self.diagram_class,
            }
        )
        return out


# --------------------------------------------------------------------------------------
# structural properties


def _vertex_components(labels, edges, skip=None) -> int:
    """Connected components of the vertices (legs left out; edge number ``skip`` too)."""
    parent = list(range(len(labels)))
    for k, (a, b) in enumerate(edges):
        if k != skip and labels[a] is None and labels[b] is None:
            join(parent, a, b)
    return n_classes(parent, [i for i, lab in enumerate(labels) if lab is None])


def loop_number(labels, edges) -> int:
    """Independent loops: internal propagators - vertices + vertex components.

    >>> loop_number((1, 2, None), ((0, 2), (1, 2), (2, 2)))
    1
    """
    internal = sum(1 for a, b in edges if labels[a] is None and labels[b] is None)
    n_vertices = sum(1 for lab in labels if lab is None)
    return internal - n_vertices + (_vertex_components(labels, edges) if n_vertices else 0)


def is_one_particle_irreducible(labels, edges) -> bool:
    """Connected diagrams only: no internal propagator is a bridge between vertices.

    One depth-first bridge search over the vertex multigraph with edge ids (a parallel
    copy of an edge is a second way back, so doubled lines are never bridges;
    self-loops never are).

    >>> is_one_particle_irreducible((1, 2, None, None), ((0, 2), (1, 3), (2, 2), (2, 3), (3, 3)))
    False
    >>> is_one_particle_irreducible((1, 2, None, None), ((0, 2), (1, 3), (2, 3), (2, 3), (2, 3)))
    True
    """
    n = len(labels)
    adj: list[list[tuple[int, int]]] = [[] for _ in range(n)]
    for k, (a, b) in enumerate(edges):
        if a != b and labels[a] is None and labels[b] is None:
            adj[a].append((b, k))
            adj[b].append((a, k))
    return not _has_bridge(adj)


def _has_bridge(adj: list[list[tuple[int, int]]]) -> bool:
    """Whether the multigraph ``adj[u] = [(v, edge id)]`` has a bridge (iterative
    Tarjan lowlinks; the tree edge is skipped by id, not by endpoint)."""
    n = len(adj)
    disc = [-1] * n
    low = [0] * n
    t = 0
    for root in range(n):
        if disc[root] >= 0 or not adj[root]:
            continue
        disc[root] = low[root] = t
        t += 1
        stack = [(root, -1, 0)]
        while stack:
            u, via, i = stack[-1]
            if i < len(adj[u]):
                stack[-1] = (u, via, i + 1)
                v, k = adj[u][i]
                if k == via:
                    continue
                if disc[v] < 0:
                    disc[v] = low[v] = t
                    t += 1
                    stack.append((v, k, 0))
                elif disc[v] < low[u]:
                    low[u] = disc[v]
                continue
            stack.pop()
            if stack:
                p = stack[-1][0]
                if low[u] > disc[p]:
                    return True
                if low[u] < low[p]:
                    low[p] = low[u]
    return False


def is_cactus(diagram) -> bool:
    """Graph-theoretic cactus test of the amputated diagram: every propagator lies on at
    most one cycle (self-loops and double lines count as cycles).  For phi^4 these are
    the cactus (daisy / Hartree) diagrams.

    >>> [is_cactus(d) for d in generate_diagrams(2, 2, connected=True)]
    [True, True, False]
    """
    import networkx as nx

    graph = nx.Graph()
    fresh = itertools.count()
    labels, edges = diagram.labels, diagram.edges
    seen: Counter = Counter()
    for a, b in edges:
        if labels[a] is not None or labels[b] is not None or a == b:
            continue
        key = (min(a, b), max(a, b))
        seen[key] += 1
        if seen[key] == 1:
            graph.add_edge(a, b)
        else:  # a parallel copy: subdivide it so the graph stays simple
            mid = ("mid", next(fresh))
            graph.add_edge(a, mid)
            graph.add_edge(mid, b)
    for x, lab in enumerate(labels):
        if lab is None:
            graph.add_node(x)
    for nodes in nx.biconnected_components(graph):
        sub = graph.subgraph(nodes)
        if sub.number_of_edges() not in (1, sub.number_of_nodes()):
            return False
    return True


# --------------------------------------------------------------------------------------
# generation


_FACTORS: dict = {}


def _factor_data(poly: dict, denom: int, n_legs: int) -> tuple:
    """``(channels, n_factor_channels, n_factor, (n_factor_str, channel strings))`` of a
    contraction result, cached by its integer form (a run has few distinct factors, so
    the Fractions and factored strings are made once per factor, not per diagram)."""
    key = (denom, n_legs, tuple((ch, tuple(pp.items())) for ch, pp in poly.items()))
    data = _FACTORS.get(key)
    if data is None:
        factor = {ch: {p: Fraction(c, denom) for p, c in sorted(pp) if c} for ch, pp in key[2]}
        chans = tuple(channel_coefficients(factor, n_legs))
        total: Counter = Counter()
        for q in chans:
            total.update(q)
        n_factor = {p: c for p, c in sorted(total.items()) if c}
        strings = tuple(_fmt(q) for q in chans) if n_legs == 4 else ()
        data = _FACTORS[key] = (factor, chans, n_factor, (_fmt(n_factor), strings))
    return data


def _from_raw(raw: RawDiagram, order: int, n_legs: int, ident=None) -> Diagram:
    poly, denom = contract(len(raw.labels), list(raw.labels), list(raw.edges))
    factor, chans, n_factor, text = _factor_data(poly, denom, n_legs)
    if ident is None:
        ident = _raw_id(raw)
    # one block search gives the class and the 1PI flag (a bridge is a one-line block)
    name, bridge = class_and_bridge(raw.labels, raw.edges, True)
    d = Diagram(
        id=ident,
        labels=raw.labels,
        edges=raw.edges,
        order=order,
        n_legs=n_legs,
        symmetry_factor=raw.symmetry_factor,
        n_factor_channels=tuple(dict(q) for q in chans),
        loops=_connected_loops(raw.labels, raw.edges),
        connected=True,
        one_pi=not bridge,
        channels={ch: dict(q) for ch, q in factor.items()},
        _text=text,
        _class=name,
    )
    d.__dict__["n_factor"] = dict(n_factor)  # the cached_property, filled in
    return d


def _connected_loops(labels, edges) -> int:
    """:func:`loop_number` of a connected diagram: its legs are leaves, so its vertices
    form one component and the count needs no union-find."""
    n_vertices = sum(1 for lab in labels if lab is None)
    if not n_vertices:
        return 0
    internal = sum(1 for a, b in edges if labels[a] is None and labels[b] is None)
    return internal - n_vertices + 1


def _raw_id(raw: RawDiagram) -> str:
    """The canonical id of a generated connected diagram, in canonical_id's format."""
    loops = Counter(a for a, b in raw.edges if a == b)
    nodes = []
    for i, label in enumerate(raw.labels):
        token = "V" if label is None else f"L{label}"
        if loops[i]:
            token += "(" + "o" * loops[i] + ")"
        nodes.append(token)
    return ".".join(nodes) + "|" + ",".join(f"{a}-{b}" for a, b in raw.edges if a != b)


def _validate(n_legs, order) -> None:
    for name, value in (("legs", n_legs), ("order", order)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidType(f"{name} must be an integer, got {value!r}")
        if value < 0:
            raise InvalidParameter(f"{name} must be >= 0, got {value}")
    if n_legs % 2:
        raise InvalidParameter(
            f"phi^4 diagrams need an even number of external legs (0, 2, 4, ...), got {n_legs}"
        )
    if order > MAX_ORDER:
        raise OrderTooHigh(f"order {order} is above the maximum {MAX_ORDER} for phi^4 diagrams")


def _set_partitions(items):
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for part in _set_partitions(rest):
        for i in range(len(part)):
            yield part[:i] + [[first] + part[i]] + part[i + 1 :]
        yield [[first]] + part


def _compositions(total, parts, minimums):
    if parts == 0:
        if total >= 0:
            yield ()
        return
    for k in range(minimums[0], total + 1):
        for rest in _compositions(total - k, parts - 1, minimums[1:]):
            yield (k,) + rest


def _vacuum_multisets(order, vacuum):
    """Multisets of connected vacuum diagrams with total order ``order``."""
    if order == 0:
        yield []
        return

    def partitions(n, largest):
        if n == 0:
            yield []
            return
        for k in range(min(n, largest), 0, -1):
            for rest in partitions(n - k, k):
                yield [k] + rest

    for part in partitions(order, order):
        sizes = Counter(part)
        choices = [
            list(itertools.combinations_with_replacement(vacuum(size), mult))
            for size, mult in sorted(sizes.items())
        ]
        for combo in itertools.product(*choices):
            yield [d for group in combo for d in group]


def _assemble(pieces, order, n_legs) -> Diagram:
    import networkx as nx

    graph = nx.MultiGraph()
    k = 0
    for raw in pieces:
        names = []
        for label in raw.labels:
            if label is None:
                k += 1
                names.append(f"v{k}")
                graph.add_node(names[-1], kind="vertex")
            else:
                names.append(f"L{label}")
                graph.add_node(names[-1], kind="leg", leg=label)
        for a, b in raw.edges:
            graph.add_edge(names[a], names[b], kind="phi")
    ident, aut = canonical_form(graph)
    nodes = list(graph.nodes)
    index = {x: i for i, x in enumerate(nodes)}
    labels = tuple(graph.nodes[x].get("leg") for x in nodes)
    edges = tuple(sorted(tuple(sorted((index[u], index[v]))) for u, v in graph.edges()))
    factor = on_factor(graph)
    return Diagram(
        id=ident,
        labels=labels,
        edges=edges,
        order=order,
        n_legs=n_legs,
        symmetry_factor=Fraction(1, aut),
        n_factor_channels=tuple(channel_coefficients(factor, n_legs)),
        loops=sum(loop_number(p.labels, p.edges) for p in pieces),
        connected=len(pieces) == 1,
        one_pi=False if len(pieces) > 1 else is_one_particle_irreducible(labels, edges),
        channels=factor,
    )


def _bare_line(a, b) -> RawDiagram:
    return RawDiagram((a, b), ((0, 1),), 1)


def generate_diagrams(
    n_legs: int,
    order: int,
    *,
    connected: bool = False,
    one_pi: bool = False,
    self_loops: bool = True,
    progress: bool = False,
) -> list[Diagram]:
    """Every phi^4 diagram with ``n_legs`` labelled legs and ``order`` vertices.

    ``connected`` keeps connected diagrams; ``one_pi`` keeps 1PI ones (and implies
    connected); ``self_loops=False`` drops diagrams with a propagator from a vertex to
    itself.  Without ``connected`` the result includes disconnected diagrams (vacuum
    bubbles, products of lower-point functions).  ``progress`` shows a tqdm bar on stderr
    (silent when stderr is not a terminal) and, for runs of at least
    :data:`LARGE_RUN_EDGES` propagators, first warns with the expected count.

    >>> [len(generate_diagrams(2, k, connected=True)) for k in range(4)]
    [1, 1, 3, 10]
    >>> sum(d.symmetry_factor for d in generate_diagrams(0, 2, connected=True))
    Fraction(1, 12)
    """
    return list(
        iter_diagrams(
            n_legs,
            order,
            connected=connected,
            one_pi=one_pi,
            self_loops=self_loops,
            progress=progress,
        )
    )


def iter_diagrams(
    n_legs: int,
    order: int,
    *,
    connected: bool = False,
    one_pi: bool = False,
    self_loops: bool = True,
    progress: bool = False,
):
    """The diagrams of :func:`generate_diagrams`, in the same order, one at a time:
    connected diagrams are built (O(N) factor, loops, 1PI flag) only as they are taken,
    so a caller that streams them holds only the light generated graphs.

    >>> [d.id for d in iter_diagrams(2, 1, connected=True)]
    ['L1.L2.V(o)|0-2,1-2']
    """
    _validate(n_legs, order)
    if n_legs == 0 and order == 0:
        return []  # the empty diagram (the 1 of Z) is not listed
    connected = connected or one_pi
    n_edges = (4 * order + n_legs) // 2
    if progress and n_edges >= LARGE_RUN_EDGES and order >= 3:
        _warn_expected(n_legs, order, connected, self_loops)
    cache: dict = {}

    def conn(labels, k):
        key = (tuple(labels), k)
        if key not in cache:
            if k == 0 and len(labels) == 2:
                cache[key] = [_bare_line(*labels)]
            else:
                # the rules-driven growth with the vertices of get_rules("on-phi4")
                # (PHI4_VERTICES: held as data, so that this path imports no sympy)
                cache[key] = generate_connected(
                    len(labels),
                    k,
                    self_loops=self_loops,
                    leg_labels=labels,
                    progress=_bar(len(labels), k) if progress else None,
                    vertices=PHI4_VERTICES,
                )
        return cache[key]

    if connected:
        raws = conn(list(range(1, n_legs + 1)), order)
        with gc_paused():
            ordered = sorted((_raw_id(r), r) for r in raws)
        for start in range(0, len(ordered), 512):  # built in batches, the collector paused
            with gc_paused():
                batch = [
                    _from_raw(r, order, n_legs, ident) for ident, r in ordered[start : start + 512]
                ]
            for d in batch:
                if d.one_pi or not one_pi:
                    yield d
        return
    else:
        result = []
        seen = set()
        labels = list(range(1, n_legs + 1))
        for partition in _set_partitions(labels):
            if any(len(block) % 2 for block in partition):
                continue
            partition = sorted(partition)
            minimums = [0 if len(b) == 2 else 1 for b in partition]
            for orders in _compositions(order, len(partition), minimums):
                if sum(orders) > order:
                    continue
                rest = order - sum(orders)
                block_choices = [conn(b, k) for b, k in zip(partition, orders)]
                for vac in _vacuum_multisets(rest, lambda k: conn([], k)):
                    for blocks in itertools.product(*block_choices):
                        d = _assemble(list(blocks) + list(vac), order, n_legs)
                        if d.id not in seen:
                            seen.add(d.id)
                            result.append(d)
    if one_pi:
        result = [d for d in result if d.one_pi]
    result.sort(key=lambda d: d.id)
    yield from result


def _bar(n_legs, order):
    """A tqdm progress callback for one growth run."""
    from tqdm import tqdm

    state = {}

    def callback(step, total, n_states):
        bar = state.get("bar")
        if bar is None:
            bar = state["bar"] = tqdm(
                total=total,
                desc=f"{n_legs}-pt order {order}",
                unit="edge",
                disable=None,
                leave=False,
            )
        bar.update(1)
        bar.set_postfix(classes=n_states)
        if step == total:
            bar.close()

    return callback


#: exact numbers of connected diagrams with labelled legs, by (legs, self-loops allowed),
#: orders 0, 1, 2, ... (generated once; tests/diagrams check the lower ones)
_KNOWN_COUNTS = {
    (0, True): (0, 1, 2, 4, 10, 28, 97, 359, 1635),
    (2, True): (1, 1, 3, 10, 39, 174, 853, 4632, 27607),
    (4, True): (0, 1, 7, 42, 255, 1592, 10441, 72314),
    (0, False): (0, 0, 1, 1, 3, 6, 19, 50, 204),
    (2, False): (1, 0, 1, 2, 7, 27, 112, 540, 2879),
    (4, False): (0, 1, 3, 13, 60, 301, 1661, 9934),
}


def expected_count(n_legs: int, order: int, connected: bool = True, self_loops: bool = True):
    """The number of connected diagrams: exact from a table where known, else
    extrapolated geometrically from the table's last two orders (nothing is generated).

    >>> expected_count(2, 5), expected_count(2, 9)
    (174, 160000)
    """
    known = _KNOWN_COUNTS.get((n_legs, bool(self_loops)))
    if known is None:
        return None
    if order < len(known):
        return known[order]
    a, b = known[-2], known[-1]
    estimate = b * (b / a) ** (order - len(known) + 1)
    return int(float(f"{estimate:.2g}"))


def _warn_expected(n_legs, order, connected, self_loops) -> None:
    estimate = expected_count(n_legs, order, connected, self_loops)
    about = f"about {estimate} connected diagrams" if estimate else "many diagrams"
    warnings.warn(
        f"{n_legs}-point phi^4 diagrams at order {order}: expect {about}; this may take a while",
        stacklevel=3,
    )
