"""One generator over Feynman rules: the Wick contractions of any theory, as typed graphs.

Conventions: docs/conventions.md §4, §6; the graph conventions of :mod:`nnqft.diagrams`.

Given a :class:`~nnqft.rules.feynman.FeynmanRules`, the fields of the external legs and an
order (the number of vertices), :func:`wick_diagrams` contracts every half-edge (the
external legs and the legs of each vertex) with another along a propagator the rules
declare (a directed one from its tail field to its head field, an undirected one either
way), builds each contraction as a ``networkx.MultiGraph``, and groups the contractions by
exact canonical id.  Nothing of a model is built in: the vertices, their degrees and
fields, and the propagators come from the rules, so the phi^4 theory, a phi^3 + phi^6
toy or a two-field theory go through the same code.

Counting.  With the rules' convention (a vertex's coupling carries the |H| permutations of
its identical legs, :mod:`nnqft.rules.expansion`), the sum over contractions of
``prod_k (1/n_k!) prod_v coupling_v/|H_v|`` gives each diagram the weight
``prod_v coupling_v x S`` with ``S = contractions / (prod_k n_k! prod_v |H_v|)``: the
symmetry factor 1/|Aut| (:func:`~nnqft.diagrams.canonical.symmetry_factor` computes that by
a different route, automorphisms of the graph; the tests hold the two equal).

The neuron-index (O(N)) factor is contracted from the vertices' ``index_pairings``
(:func:`index_factor`): every choice of one pairing per vertex joins half-edges into index
strands; a closed strand is a factor ``n_per_index_loop`` (N), an open one joins two
external legs (a channel).

This is the general, exhaustive generator (all (2m-1)!! matchings of m half-edge pairs:
orders 1-3 of small theories).  The production generators are the faster instances:
:mod:`nnqft.diagrams.generate` grows phi^4 diagrams without enumerating contractions, and
:mod:`nnqft.diagrams.network` enumerates the linear network's reduced chord diagrams.

>>> from nnqft.rules.feynman import get_rules
>>> ds = wick_diagrams(get_rules("on-phi4"), ("phi", "phi"), 1)
>>> [(d.symmetry_factor, index_factor(d, get_rules("on-phi4"))) for d in ds]
[(Fraction(1, 2), {((1, 2),): {0: Fraction(2, 3), 1: Fraction(1, 3)}})]
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass
from fractions import Fraction
from math import factorial

from ..errors import InvalidParameter
from .canonical import canonical_id
from .unionfind import find_root, join

__all__ = ["WickDiagram", "wick_diagrams", "index_factor", "MAX_HALF_EDGES"]

#: the most half-edges :func:`wick_diagrams` contracts exhaustively (15!! = 2 x 10^6)
MAX_HALF_EDGES = 16


@dataclass(frozen=True)
class WickDiagram:
    """One diagram: its canonical ``id``, a representative ``graph``, the vertex kinds of
    its ``order`` vertices, the number of Wick ``contractions`` that give it and its
    ``symmetry_factor`` S (see the module docstring)."""

    id: str
    graph: object
    order: int
    vertices: tuple[str, ...]
    contractions: int
    symmetry_factor: Fraction

    def to_dict(self) -> dict:
        """JSON-ready fields (the graph as its edge list)."""
        return {
            "id": self.id,
            "order": self.order,
            "vertices": list(self.vertices),
            "contractions": self.contractions,
            "symmetry_factor": str(self.symmetry_factor),
            "edges": [[str(u), str(v)] for u, v in self.graph.edges()],
        }


def _permutations_of_identical_legs(legs: tuple[str, ...]) -> int:
    """|H| of a vertex without time labels: permutations among legs of one field."""
    out = 1
    for count in Counter(legs).values():
        out *= factorial(count)
    return out


def _connector(rules):
    """{(field a, field b): (propagator, a is the tail)} for every contractible pair."""
    table = {}
    for p in rules.propagators:
        a, b = p.fields
        table[(a, b)] = (p, True)
        if not p.directed:
            table[(b, a)] = (p, False)
        elif (b, a) not in table:
            table[(b, a)] = (p, False)
    return table


def matchings(items: list[int], allowed):
    """Every perfect matching of ``items`` whose pairs ``allowed(a, b)`` accepts, as lists
    of pairs (the first item always paired first: a labelled Wick contraction each).

    >>> list(matchings([0, 1, 2, 3], lambda a, b: (a + b) % 2 == 1))
    [[(0, 1), (2, 3)], [(0, 3), (1, 2)]]
    """
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for i, other in enumerate(rest):
        if allowed(first, other):
            for tail in matchings(rest[:i] + rest[i + 1 :], allowed):
                yield [(first, other), *tail]


def _graph(half_edges, matching, connector, leg_fields, vertex_kinds: int):
    import networkx as nx

    g = nx.MultiGraph()
    multi_field = len(set(leg_fields)) > 1
    for node, kind, field in {(h[0], h[1], h[2]) for h in half_edges}:
        if kind == "leg":
            attrs = {"kind": "leg", "leg": node}
            if multi_field:
                attrs["field"] = field
            g.add_node(node, **attrs)
    for node, kind in {(h[0], h[3]) for h in half_edges if h[1] == "vertex"}:
        if vertex_kinds > 1:  # the diagram conventions name the vertex only where it varies
            g.add_node(node, kind="vertex", vertex=kind)
        else:
            g.add_node(node, kind="vertex")
    for i, j in matching:
        (u, _, fu, _), (v, _, fv, _) = half_edges[i], half_edges[j]
        prop, u_is_tail = connector[(fu, fv)]
        if prop.directed:
            g.add_edge(u, v, kind=prop.kind, directed=True, head=v if u_is_tail else u)
        else:
            g.add_edge(u, v, kind=prop.kind)
    return g


def wick_diagrams(
    rules, legs, order: int, *, connected: bool = True, vertex_sets=None
) -> list[WickDiagram]:
    """Every diagram of ``<prod legs>`` with ``order`` vertices of the theory ``rules``.

    Parameters
    ----------
    rules : FeynmanRules
        The theory (fields, propagators, vertices).
    legs : sequence of str
        The field of each external leg; the legs are labelled 1, 2, ...
    order : int
        The number of vertices (every multiset of the rules' vertex kinds of that size).
    connected : bool
        Keep only connected diagrams (legs included).
    vertex_sets : callable, optional
        A predicate on the tuple of vertex kinds (sorted as the rules list them): only
        those multisets are contracted (e.g. the ones of one power of N).

    Returns
    -------
    list of WickDiagram
        Sorted by vertex kinds and id.

    Raises
    ------
    InvalidParameter
        A leg field the rules do not have, a vertex with times (contract those with
        :mod:`nnqft.diagrams.network`), or more than :data:`MAX_HALF_EDGES` half-edges.

    Examples
    --------
    >>> from nnqft.rules.feynman import get_rules
    >>> [len(wick_diagrams(get_rules("on-phi4"), ("phi", "phi"), k)) for k in (1, 2)]
    [1, 3]
    """
    from ..rules.network import check_order

    order = check_order(order)
    names = {f.name for f in rules.fields}
    for field in legs:
        if field not in names:
            raise InvalidParameter(f"unknown leg field {field!r}; the rules have {sorted(names)}")
    if any(v.time is not None for v in rules.vertices):
        raise InvalidParameter(
            "wick_diagrams contracts theories without time labels; the linear network's "
            "diagrams come from nnqft.diagrams.network"
        )
    connector = _connector(rules)
    found: dict = {}
    for kinds in itertools.combinations_with_replacement(range(len(rules.vertices)), order):
        vertices = [rules.vertices[k] for k in kinds]
        if vertex_sets is not None and not vertex_sets(tuple(v.kind for v in vertices)):
            continue
        half_edges = [(i + 1, "leg", f, None) for i, f in enumerate(legs)]
        for n, v in enumerate(vertices):
            half_edges += [(f"v{n}", "vertex", f, v.kind) for f in v.legs]
        if len(half_edges) % 2:
            continue
        if len(half_edges) > MAX_HALF_EDGES:
            raise InvalidParameter(
                f"{len(half_edges)} half-edges: beyond the exhaustive generator "
                f"(at most {MAX_HALF_EDGES})"
            )
        denominator = 1
        for count in Counter(kinds).values():
            denominator *= factorial(count)
        for v in vertices:
            denominator *= _permutations_of_identical_legs(v.legs)
        fields = [h[2] for h in half_edges]

        def allowed(i, j, fields=fields):
            return (fields[i], fields[j]) in connector

        import networkx as nx

        for matching in matchings(list(range(len(half_edges))), allowed):
            g = _graph(half_edges, matching, connector, legs, len(rules.vertices))
            if connected and not nx.is_connected(g):
                continue
            key = (tuple(v.kind for v in vertices), canonical_id(g))
            entry = found.setdefault(key, [g, 0, denominator])
            entry[1] += 1
    out = [
        WickDiagram(ident, g, order, kinds, count, Fraction(count, denominator))
        for (kinds, ident), (g, count, denominator) in found.items()
    ]
    out.sort(key=lambda d: (d.vertices, d.id))
    return out


def index_factor(diagram: WickDiagram, rules) -> dict:
    """The neuron-index factor of a diagram from the vertices' index pairings:
    ``{channel: {power of N: Fraction}}``, a channel the tuple of leg pairs joined by open
    strands (``()`` without legs).  Propagators carry delta_ab.

    >>> from nnqft.rules.feynman import get_rules
    >>> r = get_rules("on-phi4")
    >>> index_factor(wick_diagrams(r, (), 1)[0], r)      # the figure-eight vacuum diagram
    {(): {1: Fraction(2, 3), 2: Fraction(1, 3)}}
    """
    g = diagram.graph
    vertex_of = {v.kind: v for v in rules.vertices}
    only = rules.vertices[0] if len(rules.vertices) == 1 else None
    # half-edges: one per (edge, end); a vertex's legs are its incident half-edges, matched
    # to the vertex's leg list by field in a fixed order
    ends: dict = {}
    strands = []
    for e, (u, v) in enumerate(g.edges()):
        for end, node in ((0, u), (1, v)):
            ends.setdefault(node, []).append((e, end))
        strands.append(((e, 0), (e, 1)))
    slots = {}
    for node, data in g.nodes(data=True):
        if data.get("kind") != "vertex":
            continue
        vertex = vertex_of[data["vertex"]] if "vertex" in data else only
        if len(set(vertex.legs)) != 1:
            raise InvalidParameter(
                f"index_factor needs vertices of one field; {vertex.kind} has {vertex.legs}"
            )
        if len(ends[node]) != vertex.degree:
            raise InvalidParameter(f"vertex {node} has {len(ends[node])} legs, not {vertex.degree}")
        slots[node] = (vertex, ends[node])
    total: dict = {}
    choices = [
        [(node, w, pairs) for w, pairs in v.index_pairings] for node, (v, _) in slots.items()
    ]
    for choice in itertools.product(*choices):
        weight = Fraction(1)
        parent = list(range(2 * len(strands)))  # half-edge (e, end) is 2e + end
        for e in range(len(strands)):
            join(parent, 2 * e, 2 * e + 1)
        for node, w, pairs in choice:
            weight *= Fraction(int(w.p), int(w.q))
            half = slots[node][1]
            for i, j in pairs:
                join(parent, 2 * half[i][0] + half[i][1], 2 * half[j][0] + half[j][1])

        def find(h, parent=parent):
            return find_root(parent, 2 * h[0] + h[1])

        legs_at = {}
        for node, data in g.nodes(data=True):
            if data.get("kind") == "leg":
                for h in ends[node]:
                    legs_at.setdefault(find(h), []).append(data["leg"])
        roots = {find(h) for hs in ends.values() for h in hs}
        closed = sum(1 for r in roots if r not in legs_at)
        channel = tuple(sorted(tuple(sorted(ls)) for ls in legs_at.values()))
        poly = total.setdefault(channel, {})
        poly[closed] = poly.get(closed, Fraction(0)) + weight
    return {ch: {p: c for p, c in sorted(poly.items()) if c} for ch, poly in sorted(total.items())}
