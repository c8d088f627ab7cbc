"""Exact canonical forms and automorphism groups of diagrams.

A diagram is a ``networkx.MultiGraph`` (conventions in :mod:`nnqft.diagrams`).  Its
canonical form is computed by individualisation-refinement: the nodes are coloured by
their attributes and self-loops, the colouring is refined by the multiset of
(neighbour colour, edge bundle) pairs until stable, and every non-singleton cell is split
by individualising each of its nodes in turn; each leaf of this search tree is an
ordering of the nodes, and the canonical form is the lexicographically smallest
certificate (the edge list in that ordering) over all leaves.  The search tree is built
from label-free data only, so isomorphic diagrams get identical forms, and the form *is*
the graph (up to relabelling), so different forms mean non-isomorphic diagrams: no hash,
no collisions.

The leaves that reach the smallest certificate are in one-to-one correspondence with the
node permutations that preserve the diagram (the search is not pruned), which gives the
automorphism group.  Automorphisms of the half-edge picture (every edge u-v
replaced by u-h1-h2-v) also permute parallel edges and flip undirected self-loops, so

    |Aut| = (# node automorphisms) * prod over bundles of m! * prod over self-loops 2^l l!

(directed self-loops do not flip).  Disconnected diagrams are handled by components:
the id is the sorted list of component ids, and identical components contribute k!.

>>> import networkx as nx
>>> from nnqft.diagrams import make_diagram
>>> tadpole = make_diagram([(1, "v"), ("v", 2), ("v", "v")], legs={1: 1, 2: 2})
>>> canonical_id(tadpole), automorphism_count(tadpole), symmetry_factor(tadpole)
('L1.L2.V(o)|0-2,1-2', 2, Fraction(1, 2))
"""

from __future__ import annotations

from collections import Counter
from fractions import Fraction
from math import factorial

from ..errors import InvalidParameter, InvalidType

__all__ = [
    "canonical_id",
    "canonical_form",
    "automorphism_count",
    "symmetry_factor",
    "node_automorphism_count",
    "canonical_labelling",
]

_IGNORED = frozenset({"pos", "head"})


def _refine(colours: list[int], adj: list[list[tuple[int, int]]]) -> list[int]:
    """Equitable-style refinement of ``colours``: a node's new colour is the rank of
    (old colour, a fixed integer mix of the multiset of (neighbour colour, bundle)).

    The mix is a deterministic function of the multiset, so the refinement is
    label-invariant (all a canonical search needs); a rare coincidence of mixes only
    makes the partition coarser, which costs search time, never correctness.
    """
    ncol = len(set(colours))
    n = len(colours)
    while True:
        if ncol == n:  # discrete: nothing left to split
            if sorted(colours) != list(range(n)):
                rank = {c: i for i, c in enumerate(sorted(colours))}
                colours = [rank[c] for c in colours]
            return colours
        sigs = []
        for c, nbrs in zip(colours, adj):
            h = 0
            for v, w in nbrs:
                x = (colours[v] * 4099 + w) * 2654435761 % 4294967291
                h += x * x
            sigs.append((c, h))
        distinct = sorted(set(sigs))
        rank = {s: i for i, s in enumerate(distinct)}
        new = [rank[s] for s in sigs]
        if len(distinct) == ncol:
            return new
        colours = new
        ncol = len(distinct)


def _twins(cell: list[int], adj: list[list[tuple[int, int]]]) -> bool:
    """Whether every two nodes of ``cell`` are twins: same bundles to every other node and
    a symmetric bundle between them, so that swapping them is an automorphism."""
    first = dict(adj[cell[0]])
    for u in cell[1:]:
        other = dict(adj[u])
        if first.get(u) != other.get(cell[0]):
            return False
        a = {x: w for x, w in first.items() if x != u}
        b = {x: w for x, w in other.items() if x != cell[0]}
        if a != b:
            return False
    return True


def _search(
    colours: list[int], adj: list[list[tuple[int, int]]], best: list, weight: int = 1
) -> None:
    """Depth-first individualisation-refinement; ``best = [cert, count, positions]``.

    ``weight`` counts the leaves a pruned branch stands for: when the cell to split
    consists of pairwise twins, every node of it is in one orbit of the automorphisms
    fixing the branch, so one child is explored and counted len(cell) times.
    """
    colours = _refine(colours, adj)
    n = len(colours)
    counts = Counter(colours)
    if len(counts) == n:
        cert = []
        for pu, nbrs in zip(colours, adj):
            for v, w in nbrs:
                pv = colours[v]
                if pu < pv:
                    cert.append((pu, pv, w))
        cert.sort()
        cert = tuple(cert)
        if best[0] is None or cert < best[0]:
            best[0], best[1], best[2] = cert, weight, colours
        elif cert == best[0]:
            best[1] += weight
        return
    target = min(c for c, k in counts.items() if k > 1)
    cell = [u for u in range(n) if colours[u] == target]
    base = [2 * c + (1 if c == target else 0) for c in colours]
    if _twins(cell, adj):
        child = list(base)
        child[cell[0]] = 2 * target
        _search(child, adj, best, weight * len(cell))
        return
    for u in cell:
        child = list(base)
        child[u] = 2 * target
        _search(child, adj, best, weight)


def canonical_labelling(
    base_keys: list, adj: list[dict[int, int]]
) -> tuple[tuple, tuple, int, list[int]]:
    """Core routine on an encoded graph.

    ``base_keys[u]`` is a sortable, label-free colour of node ``u`` and ``adj[u][v]`` an
    integer id of the bundle of edges between ``u`` and ``v`` as seen from ``u`` (the ids
    must be label-free too, e.g. ranks of sorted bundle descriptions).  Returns
    ``(keys_in_order, certificate, node_automorphisms, positions)`` where ``positions[u]``
    is ``u``'s canonical position.  Two encoded graphs are isomorphic iff their
    ``(keys_in_order, certificate)`` agree.

    >>> canonical_labelling(["a", "b", "a"], [{1: 0}, {0: 0, 2: 0}, {1: 0}])[:3]
    (('a', 'a', 'b'), ((0, 2, 0), (1, 2, 0)), 2)
    """
    distinct = sorted(set(base_keys))
    rank = {k: i for i, k in enumerate(distinct)}
    colours = [rank[k] for k in base_keys]
    # bundle ids enter the refinement through their rank only, so that two encodings
    # with the same order of bundle ids (e.g. multiplicities vs ranks of bundle tables)
    # give the same labelling; the certificate is translated back to the given ids
    ids = sorted({w for a in adj for w in a.values()})
    rank_w = {w: i for i, w in enumerate(ids)}
    cert, count, positions = label_core(
        colours, [[(v, rank_w[w]) for v, w in a.items()] for a in adj]
    )
    order = sorted(range(len(base_keys)), key=positions.__getitem__)
    cert = tuple((a, b, ids[w]) for a, b, w in cert)
    return tuple(base_keys[u] for u in order), cert, count, positions


def label_core(colours: list[int], adj: list[list[tuple[int, int]]]):
    """The search on integer colours and adjacency lists ``adj[u] = [(v, bundle rank)]``:
    ``(certificate, node automorphisms, positions)`` (internal fast path).

    >>> label_core([0, 1, 0], [[(1, 0)], [(0, 0), (2, 0)], [(1, 0)]])
    (((0, 2, 0), (1, 2, 0)), 2, [0, 2, 1])
    """
    best: list = [None, 0, None]
    _search(colours, adj, best)
    return best[0], best[1], best[2]


# --------------------------------------------------------------------------------------
# networkx diagrams -> encoded graphs


def _edge_type(u, v, data) -> tuple[str, int]:
    """(attribute signature, orientation seen from u: +1 u->v, -1 v->u, 0 undirected)."""
    attrs = tuple(
        sorted((k, repr(x)) for k, x in data.items() if k not in _IGNORED and k[:1] != "_")
    )
    sig = ",".join(f"{k}={x}" for k, x in attrs)
    if data.get("directed"):
        head = data.get("head")
        if head == v and head != u:
            return sig, 1
        if head == u and head != v:
            return sig, -1
        if head == u == v:
            return sig, 2  # a directed self-loop (does not flip)
        raise InvalidParameter(
            f"directed edge {u!r}-{v!r} needs a 'head' attribute equal to one of its ends, "
            f"got {head!r}"
        )
    return sig, 0


def _node_sig(data) -> tuple:
    return tuple(
        sorted((k, repr(x)) for k, x in data.items() if k not in _IGNORED and k[:1] != "_")
    )


def _check(graph) -> None:
    import networkx as nx  # here, not at the top: the generators never need it

    if not isinstance(graph, nx.MultiGraph) or graph.is_directed():
        raise InvalidType(
            f"a diagram must be an undirected networkx.MultiGraph, got {type(graph).__name__}"
        )


def _encode_component(graph, nodes):
    """Encode the sub-diagram on ``nodes``: base keys, bundle table, adjacency, aut factor."""
    index = {x: i for i, x in enumerate(nodes)}
    loops: list[Counter] = [Counter() for _ in nodes]
    pairs: dict[tuple[int, int], Counter] = {}
    for u, v, data in graph.edges(nodes, data=True):
        iu, iv = index[u], index[v]
        sig, orient = _edge_type(u, v, data)
        if iu == iv:
            loops[iu][(sig, orient)] += 1
            continue
        if iu > iv:
            iu, iv, orient = iv, iu, -orient
        pairs.setdefault((iu, iv), Counter())[(sig, orient)] += 1
    extra = 1  # edge permutations inside bundles, flips of undirected self-loops
    for c in loops:
        for (_, orient), m in c.items():
            extra *= factorial(m) * (2**m if orient == 0 else 1)
    for c in pairs.values():
        for m in c.values():
            extra *= factorial(m)
    base = [
        (_node_sig(graph.nodes[x]), tuple(sorted(loops[i].items()))) for i, x in enumerate(nodes)
    ]
    bundles = {}
    for (iu, iv), c in pairs.items():
        fwd = tuple(sorted(c.items()))
        rev = tuple(sorted(((s, -o), m) for (s, o), m in c.items()))
        bundles[(iu, iv)] = (fwd, rev)
    table = sorted({b for fr in bundles.values() for b in fr})
    bid = {b: i for i, b in enumerate(table)}
    adj: list[dict[int, int]] = [{} for _ in nodes]
    for (iu, iv), (fwd, rev) in bundles.items():
        adj[iu][iv] = bid[fwd]
        adj[iv][iu] = bid[rev]
    return base, table, adj, extra


def _format_node(key) -> str:
    sig, loops = key
    attrs = dict(sig)
    kind = attrs.pop("kind", None)
    if kind == "'leg'" and "leg" in attrs:
        token = "L" + attrs.pop("leg").strip("'")
    elif kind == "'vertex'":
        token = "V"
    else:
        token = "?" + str(kind)
    if attrs:
        token += "[" + ",".join(f"{k}={x}" for k, x in sorted(attrs.items())) + "]"
    if loops:
        parts = []
        for (s, orient), m in loops:
            label = "o" if orient == 0 else "d"
            if s != "kind='phi'":
                label += "{" + s + "}"
            parts.append(label * m if len(label) == 1 else f"{label}*{m}")
        token += "(" + "".join(parts) + ")"
    return token


def _format_bundle(i: int, j: int, bundle) -> str:
    out = []
    for (s, orient), m in bundle:
        sep = {0: "-", 1: ">", -1: "<"}[orient]
        text = f"{i}{sep}{j}"
        if s != "kind='phi'":
            text += "{" + s + "}"
        out.extend([text] * m)
    return ",".join(out)


def _component_form(graph, nodes) -> tuple[str, int]:
    base, table, adj, extra = _encode_component(graph, nodes)
    keys, cert, node_aut, _ = canonical_labelling(base, adj)
    text = (
        ".".join(_format_node(k) for k in keys)
        + "|"
        + ",".join(_format_bundle(i, j, table[w]) for i, j, w in cert)
    )
    return text, node_aut * extra


def _components(graph):
    import networkx as nx

    return [sorted(c, key=repr) for c in nx.connected_components(graph)]


def canonical_form(graph) -> tuple[str, int]:
    """``(canonical id, |Aut|)`` of a diagram in one pass (see :func:`canonical_id`).

    Parameters
    ----------
    graph : networkx.MultiGraph
        A diagram (see :mod:`nnqft.diagrams`).

    Returns
    -------
    tuple of (str, int)
        The canonical id and the automorphism count.
    """
    _check(graph)
    if graph.number_of_nodes() == 0:
        return "", 1
    forms = [_component_form(graph, nodes) for nodes in _components(graph)]
    ids = sorted(text for text, _ in forms)
    aut = 1
    for _, a in forms:
        aut *= a
    for k in Counter(ids).values():
        aut *= factorial(k)
    return " + ".join(ids), aut


def canonical_id(graph) -> str:
    """The exact canonical id of a diagram: equal iff the diagrams are isomorphic.

    Node colours are all node attributes (``kind``, ``leg``, ``time``, ...; not ``pos``),
    edge colours all edge attributes (``kind``, ...) with the orientation of directed
    edges (``directed=True`` and ``head`` = the node the arrow points to).  The id lists
    the nodes in canonical order (``L<leg>`` external legs, ``V`` vertices, ``(oo)`` two
    self-loops, extra attributes in brackets) and then the edges between canonical
    positions (``i-j`` undirected, ``i>j`` an arrow from i to j, ``{...}`` edge attributes
    other than ``kind='phi'``); disconnected diagrams join their component ids with
    `` + `` in sorted order.

    Parameters
    ----------
    graph : networkx.MultiGraph
        A diagram (see :mod:`nnqft.diagrams`).

    Returns
    -------
    str

    Examples
    --------
    >>> from nnqft.diagrams import make_diagram
    >>> sunset = [(1, "x"), ("x", "y"), ("x", "y"), ("x", "y"), ("y", 2)]
    >>> a = make_diagram(sunset, legs={1: 1, 2: 2})
    >>> b = make_diagram([(2, 7), (7, 9), (9, 7), (7, 9), (9, 1)], legs={1: 1, 2: 2})
    >>> canonical_id(a) == canonical_id(b)
    True
    >>> canonical_id(a)
    'L1.L2.V.V|0-2,1-3,2-3,2-3,2-3'
    """
    return canonical_form(graph)[0]


def automorphism_count(graph) -> int:
    """|Aut| of the diagram's half-edge graph with every leg label fixed (docs/conventions.md §6).

    Node permutations preserving all attributes and edges, times the permutations of
    parallel edges (m!) and the flips of undirected self-loops (2 each), times k! for k
    identical connected components.

    Parameters
    ----------
    graph : networkx.MultiGraph
        A diagram (see :mod:`nnqft.diagrams`).

    Returns
    -------
    int

    Examples
    --------
    >>> from nnqft.diagrams import make_diagram
    >>> figure_eight = make_diagram([("v", "v"), ("v", "v")])
    >>> automorphism_count(figure_eight)
    8
    """
    return canonical_form(graph)[1]


def node_automorphism_count(graph) -> int:
    """Number of node permutations that preserve the diagram (edges permuted as bundles).

    Parameters
    ----------
    graph : networkx.MultiGraph
        A diagram (see :mod:`nnqft.diagrams`).

    Returns
    -------
    int

    Examples
    --------
    >>> from nnqft.diagrams import make_diagram
    >>> node_automorphism_count(make_diagram([("a", "b"), ("a", "b"), ("a", "a"), ("b", "b")]))
    2
    """
    _check(graph)
    total = 1
    ids = []
    for nodes in _components(graph):
        base, _, adj, _ = _encode_component(graph, nodes)
        keys, cert, node_aut, _ = canonical_labelling(base, adj)
        ids.append((keys, cert))
        total *= node_aut
    for k in Counter(ids).values():
        total *= factorial(k)
    return total


def symmetry_factor(graph) -> Fraction:
    """The symmetry factor 1/|Aut| of a diagram with labelled legs, as a Fraction.

    Parameters
    ----------
    graph : networkx.MultiGraph
        A diagram with labelled legs.

    Returns
    -------
    fractions.Fraction

    Examples
    --------
    >>> from nnqft.diagrams import make_diagram
    >>> edges = [(1, "x"), ("x", "y"), ("x", "y"), ("x", "y"), ("y", 2)]
    >>> sunset = make_diagram(edges, legs={1: 1, 2: 2})
    >>> symmetry_factor(sunset)
    Fraction(1, 6)
    """
    return Fraction(1, automorphism_count(graph))
