"""Which diagrams exist: generation, canonical forms, symmetry factors, drawing.

Diagram conventions (shared by every module here and by :mod:`nnqft.diagrams.network`)
---------------------------------------------------------------------------------------
A diagram is a ``networkx.MultiGraph`` (undirected; parallel edges and self-loops allowed).

Nodes
    ``kind='vertex'`` an interaction vertex, with ``vertex=<Vertex.kind>`` (e.g. ``'phi4'``,
    ``'double_trace'``) where the model has more than one vertex type;
    ``kind='leg'`` an external leg (a source point), with ``leg=<label>`` (1, 2, ...;
    legs are labelled, so no symmetry ever moves a leg) and ``field=<name>`` when the
    theory has more than one field.
    Optional ``time=<label>``: a *fixed* time (e.g. ``'T'`` on an external leg).  Every
    node attribute except ``pos`` is part of the node's colour in the canonical form, so
    do not put summed (dummy) time labels on nodes if relabelling them should not matter.

Edges (propagators)
    ``kind=<Propagator.kind>`` (``'phi'``, ``'response'``, ``'correlator'``);
    directed propagators carry ``directed=True`` and ``head=<node>``: the node the arrow
    points to (for the response line z-zt the z end; the tail is the zt end).  Every edge
    attribute except ``head`` and ``pos`` is part of the edge's colour; orientation is
    taken from ``head``.  Use :func:`relabel` (not ``nx.relabel_nodes``) to rename nodes
    of diagrams with directed edges, so ``head`` follows.

Definitions used by the filters
    *connected*: the graph (legs included) has one connected component.
    *1PI* (one-particle irreducible): connected, and removing any one internal propagator
    (an edge between two vertices; external-leg lines are amputated and never cut) leaves
    the vertices connected.  Self-loops and parallel edges are never bridges.
    *no self-loops*: no propagator starts and ends on the same vertex (no tadpole loops).
    *order*: the number of interaction vertices.  *loops*: E - V + C of the amputated graph
    (internal edges - vertices + components), the number of independent momentum loops.

Identity and counting
    :func:`canonical_id` is an exact canonical form (never a hash): equal ids iff
    isomorphic diagrams (node colours, edge colours and orientations respected).
    :func:`symmetry_factor` is 1/|Aut| of the half-edge graph with legs labelled.

>>> tadpole = make_diagram([(1, "v"), ("v", 2), ("v", "v")], legs={1: 1, 2: 2})
>>> dict(tadpole.nodes(data="kind"))
{1: 'leg', 'v': 'vertex', 2: 'leg'}
>>> symmetry_factor(tadpole)
Fraction(1, 2)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .canonical import (
    automorphism_count,
    canonical_form,
    canonical_id,
    node_automorphism_count,
    symmetry_factor,
)

__all__ = [
    "make_diagram",
    "relabel",
    "canonical_id",
    "canonical_form",
    "automorphism_count",
    "node_automorphism_count",
    "symmetry_factor",
]

if TYPE_CHECKING:  # imported where a graph is built: the diagram generators never need it
    import networkx as nx


def make_diagram(edges, legs=None, kind: str = "phi", vertex: str | None = None) -> nx.MultiGraph:
    """Build a diagram from an edge list.

    ``edges``: pairs ``(u, v)`` or triples ``(u, v, attrs)`` (attrs override the default
    ``kind``); ``legs``: ``{node: label}`` for the external-leg nodes; every other node
    is a vertex (with ``vertex=<vertex>`` if given).

    >>> g = make_diagram([("a", "b", {"kind": "response", "directed": True, "head": "b"})])
    >>> list(g.edges(data=True))
    [('a', 'b', {'kind': 'response', 'directed': True, 'head': 'b'})]
    """
    import networkx as nx

    legs = dict(legs or {})
    graph = nx.MultiGraph()
    for item in edges:
        u, v = item[0], item[1]
        attrs = {"kind": kind}
        if len(item) > 2:
            attrs.update(item[2])
        for x in (u, v):
            if x not in graph:
                if x in legs:
                    graph.add_node(x, kind="leg", leg=legs[x])
                else:
                    graph.add_node(x, kind="vertex", **({"vertex": vertex} if vertex else {}))
        graph.add_edge(u, v, **attrs)
    for x, label in legs.items():
        if x not in graph:
            graph.add_node(x, kind="leg", leg=label)
    return graph


def relabel(graph: nx.MultiGraph, mapping) -> nx.MultiGraph:
    """A copy of ``graph`` with nodes renamed by ``mapping`` (dict or callable); edge
    ``head`` attributes follow.

    >>> g = make_diagram([("a", "b", {"kind": "response", "directed": True, "head": "b"})])
    >>> list(relabel(g, {"a": 0, "b": 1}).edges(data="head"))
    [(0, 1, 1)]
    """
    import networkx as nx

    f = mapping if callable(mapping) else mapping.__getitem__
    out = nx.MultiGraph()
    for x, data in graph.nodes(data=True):
        out.add_node(f(x), **data)
    for u, v, data in graph.edges(data=True):
        data = dict(data)
        if "head" in data:
            data["head"] = f(data["head"])
        out.add_edge(f(u), f(v), **data)
    return out
